package demo

import (
	"testing"
)

// TestPictures: a remembered picture is the package function's, for the
// same pixels only (one changed bit, another kind or scale is another
// picture), and the memory stays bounded.
func TestPictures(t *testing.T) {
	x, adv := make([]float32, 784), make([]float32, 784)
	for i := range x {
		x[i] = float32(i%28) / 27
		adv[i] = x[i] * 0.9
	}
	var p Pictures
	for _, c := range []struct {
		name      string
		got, want func() string
	}{
		{"png", func() string { return p.PNG(x) }, func() string { return PNG(x) }},
		{"heat", func() string { return p.HeatPNG(adv, x) }, func() string { return HeatPNG(adv, x) }},
		{"strip1", func() string { return p.StripPNG(x, adv, 1) }, func() string { return StripPNG(x, adv, 1) }},
		{"strip3", func() string { return p.StripPNG(x, adv, 3) }, func() string { return StripPNG(x, adv, 3) }},
		{"short", func() string { return p.PNG(x[:5]) }, func() string { return PNG(x[:5]) }},
	} {
		for round := range 2 { // drawn, then remembered
			if got, want := c.got(), c.want(); got != want {
				t.Fatalf("%s (round %d): not the package's picture", c.name, round)
			}
		}
	}
	before := p.PNG(x)

	x[200] += 0.5
	if p.PNG(x) == before {
		t.Fatal("a changed image got the old picture")
	}
	if p.PNG(x) != PNG(x) {
		t.Fatal("the changed image's picture is not its own")
	}
	for i := range 3 * pictureLimit {
		y := []float32{float32(i)}
		p.PNG(y)
		if len(p.urls) > pictureLimit {
			t.Fatalf("%d pictures remembered, limit %d", len(p.urls), pictureLimit)
		}
	}

}
