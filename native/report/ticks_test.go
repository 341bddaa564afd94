package report

import (
	"strings"
	"testing"
)

func TestDecadeTicks(t *testing.T) {
	for _, c := range []struct {
		min, max float64
		want     string // labels of the ticks, "." for an unlabelled one
	}{
		{0.5, 2000, "1 10 100 1000"},
		{1e-4, 0.2, "1e-4 0.001 0.01 0.1"},
		{3e-6, 5e-5, "1e-5"},
		// Not a log range (a bar rounded to 0 once made the axis start
		// there, and the ticks loop without end): no ticks.
		{0, 1e-12, ""},
		{-1, 10, ""},
		// 31 decades: every 4th labelled, on multiples of 4.
		{1e-27, 1e4, ". . . 1e-24 . . . 1e-20 . . . 1e-16 . . . 1e-12 . . . 1e-8 . . . 1e-4 . . . 1 . . . 1e4"},
	} {
		var got []string
		for _, tk := range (decadeTicks{}).Ticks(c.min, c.max) {
			if tk.Label == "" {
				got = append(got, ".")
			} else {
				got = append(got, tk.Label)
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("Ticks(%g, %g) = %q, want %q", c.min, c.max, g, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		line  string
		width int
		want  string // lines joined by "|"
	}{
		{"short; line", 40, "short; line"},
		{"n = 300 test images per model; bars: 95% Wilson intervals", 35, "n = 300 test images per model|bars: 95% Wilson intervals"},
		{"preset standard: a budget described in many words", 20, "preset standard: a|budget described in|many words"},
		{"a; b; c", 4, "a; b|c"},
	} {
		if got := strings.Join(wrap(c.line, c.width), "|"); got != c.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.line, c.width, got, c.want)
		}
	}
}
