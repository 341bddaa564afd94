package report

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/stats"
)

// synthetic is a reproduction of chains at temps with steps 0..steps on n
// test images, the first attacked of them attacked with l2 and linf: the
// distances grow with T and step, a few attacks fail, and the T = 1
// teacher's gradients vanish on some images.
func synthetic(temps []float64, steps, n, attacked int) Results {
	rng := rand.New(rand.NewPCG(5, 6))
	r := Results{Dataset: "mnist", Preset: "standard", Samples: n, AttackSamples: attacked, Attacks: []string{"l2", "linf"},
		Budget: "the paper's attack parameters", Pixels: 784, Seed: 1}
	for _, t := range temps {
		for step := 0; step <= steps; step++ {
			m := Model{Entry: catalog.Entry{File: "m.safetensors", Identity: catalog.Identity{Temperature: t, Step: step, Role: catalog.Role(step), Epochs: 50}}}
			for i := range n {
				s := eval.Sample{Index: i, Correct: rng.Float64() < 0.99-0.002*float64(step), Target: i % 10,
					Confidence: 0.9 + 0.1*rng.Float64(), Amplitude: math.Pow(10, -3-t/8+rng.NormFloat64()), Distance: map[string]eval.Dist{}}
				if t == 1 && step == 0 && i%4 == 0 {
					s.Amplitude = 1e-12
				}
				if !s.Correct {
					s.Confidence = 0
				}
				for _, a := range r.Attacks {
					d := math.NaN()
					if i < attacked && s.Correct && rng.Float64() > 0.03 {
						d = (1 + 0.02*t + 0.1*float64(step)) * (0.5 + rng.Float64())
						if a == "linf" {
							d /= 10
						}
					}
					s.Distance[a] = eval.Dist(d)
				}
				m.Samples = append(m.Samples, s)
			}
			m.Summary = eval.Summarize(m.Samples, r.Attacks, eval.Counts{All: attacked})
			r.Models = append(r.Models, m)
		}
	}
	return r
}

// contentWords are the words of a title line that should not repeat.
func repeated(line string) string {
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(line), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	}) {
		switch w {
		case "a", "an", "the", "of", "per", "at", "on", "in", "to", "and", "by", "t", "n", "1", "0", "-":
			continue
		}
		if seen[w] {
			return w
		}
		seen[w] = true
	}
	return ""
}

// TestCharts checks what every figure says and draws: n and the preset
// on each, no word twice in a title line, the paper's colours for the
// chain, and a 95% interval for every point of Fig. 3, 4, 5 (means), 6, 7
// and 8 that contains the point.
func TestCharts(t *testing.T) {
	r := synthetic([]float64{1, 10, 40}, 3, 200, 30)
	r.sort()
	an, ok := r.Analysis()
	if !ok {
		t.Fatal("no analysis")
	}
	cs := charts(r, an, ok)
	names := map[string]bool{}
	for _, c := range cs {
		names[c.name] = true
		for _, line := range append([]string{c.title, c.subtitle()}, r.figureLines()...) {
			if w := repeated(line); w != "" {
				t.Errorf("%s: %q says %q twice", c.name, line, w)
			}
		}
		if !strings.HasPrefix(c.n, "n = ") {
			t.Errorf("%s: sample count %q", c.name, c.n)
		}
		wantCI := !strings.HasSuffix(c.name, "-max") && !strings.HasPrefix(c.name, "curve-")
		for i, s := range c.series {
			if strings.HasPrefix(c.name, "fig7") || strings.HasSuffix(c.name, "-average") {
				continue // one line per T, or one for all
			}
			if s.color != roleColors[i] || s.dotted != (i == 0) {
				t.Errorf("%s: series %q coloured %v, dotted %v", c.name, s.name, s.color, s.dotted)
			}
		}
		for _, s := range c.series {
			if !wantCI {
				continue
			}
			if len(s.ci) != len(s.pts) || len(s.pts) == 0 {
				t.Errorf("%s: %q has %d intervals for %d points", c.name, s.name, len(s.ci), len(s.pts))
				continue
			}
			for k, q := range s.pts {
				if iv := s.ci[k]; !(iv.Lo <= q.Y && q.Y <= iv.Hi) || iv.Hi == iv.Lo && q.Y != 0 && q.Y != 100 {
					t.Errorf("%s: %q at x = %g: %g outside or at a degenerate interval %v", c.name, s.name, q.X, q.Y, iv)
				}
			}
		}
	}
	for _, want := range []string{"fig3-accuracy", "fig4-near-zero-gradients", "fig4-gradient-amplitude", "fig5-l2-mean", "fig5-linf-max", "fig6-confidence",
		"fig7-accuracy-by-step", "fig8-l2-by-T", "fig8-l2-by-T-all-steps", "fig8-linf-average", "curve-l2"} {
		if !names[want] {
			t.Errorf("no figure %s", want)
		}
	}
	for _, c := range cs {
		// Fig. 8 by T: the three steps of the chain; the variant all four.
		if want := map[string]int{"fig8-l2-by-T": 3, "fig8-l2-by-T-all-steps": 4}[c.name]; want > 0 && len(c.series) != want {
			t.Errorf("%s: %d series, want %d", c.name, len(c.series), want)
		}
	}
}

// writeReport writes r's report into a fresh folder and returns the folder,
// report.html and the paths of its SVG figures (at least one).
func writeReport(t *testing.T, r Results) (dir string, html []byte, figs []string) {
	t.Helper()
	dir = t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	figs, _ = filepath.Glob(filepath.Join(dir, "figures", "*.svg"))
	if len(figs) == 0 {
		t.Fatal("no figures")
	}
	return dir, html, figs
}

// TestQuickSaysSo checks that a quick run says on every figure that it is
// a look, not a result.
func TestQuickSaysSo(t *testing.T) {
	r := synthetic([]float64{1, 10}, 2, 20, 5)
	r.Preset = "quick"
	if p := r.presetLine(); !strings.Contains(p, "a look, not a result") {
		t.Errorf("quick preset line %q", p)
	}
	dir, html, figs := writeReport(t, r)
	for _, f := range figs {
		b, _ := os.ReadFile(f)
		if !strings.Contains(string(b), "a look, not a result") {
			t.Errorf("%s does not say it is a quick look", filepath.Base(f))
		}
		if _, err := os.Stat(strings.TrimSuffix(f, ".svg") + ".png"); err != nil {
			t.Error(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".svg")
		if !strings.Contains(string(html), `id="`+name+`"`) {
			t.Errorf("report.html lacks figure %s", name)
		}
	}
	if n := strings.Count(string(html), "<figcaption>"); n != len(figs) || strings.Count(string(html), "n = ") < n {
		t.Errorf("%d captions for %d figures, each with n", n, len(figs))
	}
	// The findings are a table of the claims with their verdicts, as in
	// summary.json.
	sum, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `<table class="claims">`) || len(sum.Claims) == 0 {
		t.Error("report.html has no table of the claims")
	}
	for _, c := range sum.Claims {
		if !strings.Contains(string(html), `<td class="verdict">`+string(c.Verdict)+"</td>") {
			t.Errorf("report.html lacks the verdict %q", c.Verdict)
		}
	}
}

// TestLogAxisWideInterval draws a log-axis figure whose interval reaches
// 56 decades below its point, as the bootstrap interval of the T = 40
// teacher's mean gradient amplitude did on real data (most amplitudes
// near 0, a few large): y − (y − lo) rounds to 0 there, which once made
// the log axis start at 0 and its ticks loop without end.
func TestLogAxisWideInterval(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "figures"), 0o755)
	c := chart{name: "wide", title: "wide", xlabel: "training temperature T", ylabel: "amplitude", logY: true, xticks: []float64{1, 40},
		n: "n = 300 test images per model", interval: "bars: 95% bootstrap intervals",
		series: []series{{name: "teacher", pts: plotter.XYs{{X: 1, Y: 3.7e-4}, {X: 40, Y: 1.26e-12}},
			ci: []stats.Interval{{Lo: 7.4e-6, Hi: 9.2e-4}, {Lo: 3.0e-68, Hi: 3.8e-12}}}}}
	done := make(chan error, 1)
	go func() { _, err := c.write(dir, []string{"preset standard"}); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("drawing the figure did not finish in a minute")
	}
	svg, err := os.ReadFile(filepath.Join(dir, "figures", "wide.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(svg), "NaN") || strings.Contains(string(svg), "Inf") {
		t.Error("the SVG has NaN or infinite coordinates")
	}
	// The axis reaches down to the interval's lower bound: its lowest
	// labelled decade is 1e-60 or below.
	lowest := 0
	for _, m := range regexp.MustCompile(`>1e-([0-9]+)<`).FindAllStringSubmatch(string(svg), -1) {
		e, _ := strconv.Atoi(m[1])
		lowest = max(lowest, e)
	}
	if lowest < 60 {
		t.Errorf("the log axis' lowest label is 1e-%d: it does not reach the interval's lower bound (3e-68)", lowest)
	}
}
