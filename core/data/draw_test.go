package data

import (
	"math"
	"testing"
)

func centreOfMass(img []float32) (float64, float64, float64) {
	var m, x, y float64
	for i, v := range img {
		m += float64(v)
		x += float64(v) * (float64(i%28) + 0.5)
		y += float64(v) * (float64(i/28) + 0.5)
	}
	return m, x / m, y / m
}

func bbox(img []float32) (int, int, int, int) {
	x0, y0, x1, y1 := 28, 28, -1, -1
	for i, v := range img {
		if v > 0 {
			x0, y0 = min(x0, i%28), min(y0, i/28)
			x1, y1 = max(x1, i%28), max(y1, i/28)
		}
	}
	return x0, y0, x1, y1
}

func TestRasterizeIsMNISTLike(t *testing.T) {
	// A "1": a vertical line in the top-left corner of a 400×300 canvas.
	one := []Stroke{{{40, 20}, {42, 80}, {44, 140}}}
	// A "7": a bar and a diagonal, drawn small on the right.
	seven := []Stroke{{{300, 100}, {360, 100}, {320, 200}}}
	for name, s := range map[string][]Stroke{"one": one, "seven": seven} {
		img := Rasterize(s, 400, 300, 12)
		mass, cx, cy := centreOfMass(img)
		if mass == 0 {
			t.Fatalf("%s: empty image", name)
		}
		if math.Abs(cx-14) > 1 || math.Abs(cy-14) > 1 {
			t.Errorf("%s: centre of mass (%.2f, %.2f), want (14, 14)", name, cx, cy)
		}
		x0, y0, x1, y1 := bbox(img)
		if h, w := y1-y0+1, x1-x0+1; max(h, w) < 19 || max(h, w) > 21 {
			t.Errorf("%s: box %d×%d, want the long side 20", name, w, h)
		}
		grey := 0
		for _, v := range img {
			if v < 0 || v > 1 {
				t.Fatalf("%s: value %v outside [0,1]", name, v)
			}
			if v > 0.05 && v < 0.95 {
				grey++
			}
		}
		if grey == 0 {
			t.Errorf("%s: no anti-aliased edge pixels", name)
		}
	}
	// The "1" is tall and thin: it keeps its aspect ratio.
	x0, _, x1, _ := bbox(Rasterize(one, 400, 300, 12))
	if x1-x0+1 > 10 {
		t.Errorf("a thin vertical stroke became %d pixels wide", x1-x0+1)
	}
}

func TestRasterizeDegenerateInput(t *testing.T) {
	cases := map[string]struct {
		s    []Stroke
		w, h float64
		pen  float64
	}{
		"nothing":      {nil, 100, 100, 5},
		"empty stroke": {[]Stroke{{}}, 100, 100, 5},
		"NaN points":   {[]Stroke{{{math.NaN(), 1}, {2, math.Inf(1)}}}, 100, 100, 5},
		"zero canvas":  {[]Stroke{{{1, 1}}}, 0, 0, 5},
		"bad pen":      {[]Stroke{{{1, 1}}}, 100, 100, math.NaN()},
	}
	for name, c := range cases {
		img := Rasterize(c.s, c.w, c.h, c.pen)
		if len(img) != 784 {
			t.Fatalf("%s: %d values", name, len(img))
		}
		for _, v := range img {
			if v != 0 {
				t.Fatalf("%s: non-zero image", name)
			}
		}
	}
	// A single tap is a dot, centred.
	dot := Rasterize([]Stroke{{{50, 50}}}, 100, 100, 10)
	if m, cx, cy := centreOfMass(dot); m == 0 || math.Abs(cx-14) > 1 || math.Abs(cy-14) > 1 {
		t.Fatalf("dot: mass %v at (%v, %v)", m, cx, cy)
	}
}
