package findings

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/stats"
)

// world describes synthetic models: for each (T, step) the L2 distance of
// sample i is base_i + shift(T, step) + noise, the accuracy flips
// wrong(T, step) of the samples, and the amplitude is 10^amp(T).
type world struct {
	n      int
	temps  []float64
	steps  int
	shift  func(t float64, step int) float64
	noise  float64
	wrong  func(t float64, step int) int
	amp    func(t float64) float64
	fail   func(t float64, step, i int) bool
	epochs func(step int) int
	// attackN is how many samples were attacked (0: all).
	attackN int
}

func (w world) data() Data {
	rng := rand.New(rand.NewPCG(1, 2))
	base := make([]float64, w.n)
	for i := range base {
		base[i] = 1 + rng.Float64()
	}
	d := Data{Attacks: []string{"l2"}, AttackSamples: w.n, Pixels: 784, Seed: 3}
	if w.attackN > 0 {
		d.AttackSamples = w.attackN
	}
	for _, t := range w.temps {
		for step := 0; step <= w.steps; step++ {
			m := Model{Identity: catalog.Identity{Temperature: t, Step: step, Role: catalog.Role(step), Epochs: 50}}
			if w.epochs != nil {
				m.Epochs = w.epochs(step)
			}
			for i := range w.n {
				s := eval.Sample{Index: i, Correct: true, Distance: map[string]eval.Dist{}}
				s.Distance["l2"] = eval.Dist(base[i] + w.shift(t, step) + w.noise*rng.NormFloat64())
				if w.fail != nil && w.fail(t, step, i) {
					s.Distance["l2"] = eval.Dist(math.NaN())
				}
				if w.amp != nil {
					s.Amplitude = math.Pow(10, w.amp(t)+0.1*rng.NormFloat64())
				}
				m.Samples = append(m.Samples, s)
			}
			if w.wrong != nil {
				// wrong(t, step) samples at the end of the set are misclassified
				// (and so not attacked).
				for k := range w.wrong(t, step) {
					j := w.n - 1 - k
					m.Samples[j].Correct = false
				}
			}
			d.Models = append(d.Models, m)
		}
	}
	return d
}

func claim(t *testing.T, r Result, prefix string) Claim {
	t.Helper()
	for _, c := range r.Claims {
		if strings.HasPrefix(c.Claim, prefix) {
			return c
		}
	}
	t.Fatalf("no claim %q", prefix)
	return Claim{}
}

func TestVerdicts(t *testing.T) {
	flat := func(float64, int) float64 { return 0 }
	cases := []struct {
		name  string
		w     world
		claim string
		want  stats.Verdict
	}{
		{"student more robust", world{n: 200, temps: []float64{1, 20}, steps: 2, noise: 0.1,
			shift: func(_ float64, s int) float64 { return 0.1 * float64(s) }}, "The student (teacher", stats.Supported},
		{"student less robust", world{n: 200, temps: []float64{1, 20}, steps: 2, noise: 0.1,
			shift: func(_ float64, s int) float64 { return -0.1 * float64(s) }}, "The student (teacher", stats.Contradicted},
		{"student as robust", world{n: 200, temps: []float64{1, 20}, steps: 2, noise: 0.3, shift: flat}, "The student (teacher", stats.NotResolved},
		{"assistant more robust than teacher", world{n: 100, temps: []float64{5}, steps: 1, noise: 0.1,
			shift: func(_ float64, s int) float64 { return 0.2 * float64(s) }}, "The assistant is more", stats.Supported},
		{"robustness rises with T", world{n: 100, temps: []float64{1, 10, 40}, steps: 0, noise: 0.1,
			shift: func(t float64, _ int) float64 { return 0.01 * t }}, "Robustness (the minimal", stats.Supported},
		{"robustness falls with T", world{n: 100, temps: []float64{1, 10, 40}, steps: 0, noise: 0.1,
			shift: func(t float64, _ int) float64 { return -0.01 * t }}, "Robustness (the minimal", stats.Contradicted},
		{"sensitivity falls with T", world{n: 100, temps: []float64{1, 40}, steps: 0, shift: flat,
			amp: func(t float64) float64 { return -3 - t }}, "Sensitivity", stats.Supported},
		{"sensitivity rises with T", world{n: 100, temps: []float64{1, 40}, steps: 0, shift: flat,
			amp: func(t float64) float64 { return -30 + t/2 }}, "Sensitivity", stats.Contradicted},
		// 10,000 images: 5 of them lost (0.05 pp) is within the bound; 100 (1 pp) is not.
		{"accuracy kept", world{n: 10000, temps: []float64{20}, steps: 1, shift: flat,
			wrong: func(_ float64, s int) int { return 5 * s }, attackN: 50}, "Distillation changes test accuracy", stats.Supported},
		{"accuracy lost", world{n: 10000, temps: []float64{20}, steps: 1, shift: flat,
			wrong: func(_ float64, s int) int { return 100 * s }, attackN: 50}, "Distillation changes test accuracy", stats.Contradicted},
		{"further steps more robust", world{n: 100, temps: []float64{10}, steps: 5, noise: 0.1,
			shift: func(_ float64, s int) float64 { return 0.1 * float64(s) }}, "Each further distillation", stats.Supported},
		{"no further steps", world{n: 10, temps: []float64{10}, steps: 2, shift: flat}, "Each further distillation", stats.NotResolved},
		{"norms", world{n: 10, temps: []float64{10}, steps: 2, shift: flat}, "L2 is the most efficient", stats.NotResolved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := claim(t, Analyze(c.w.data()), c.claim)
			if got.Verdict != c.want {
				t.Errorf("verdict %q, want %q; tests %q", got.Verdict, c.want, got.Tests)
			}
		})
	}
}

// TestCensoringAndConfounds checks that a failed attack on the student
// counts at the L2 budget (√784 = 28) in the paired comparison, and that
// different training lengths are reported.
func TestCensoringAndConfounds(t *testing.T) {
	w := world{n: 20, temps: []float64{40}, steps: 2, shift: func(float64, int) float64 { return 0 },
		fail:   func(_ float64, step, i int) bool { return step == 2 && i == 0 },
		epochs: func(step int) int { return []int{50, 50, 10}[step] }}
	r := Analyze(w.data())
	c := claim(t, r, "The student (teacher")
	p := c.Detail[0]
	if p.Censored != 1 || p.N != 20 {
		t.Fatalf("pair %+v: want 20 pairs, 1 censored", p)
	}
	// Every pair differs by 0 but the censored one, by 28 − base (1..2).
	if p.MeanDiff.Value < (28-2)/20.0 || p.MeanDiff.Value > (28-1)/20.0 {
		t.Errorf("mean difference %v", p.MeanDiff.Value)
	}
	if !strings.Contains(c.Note, "50 vs 10 epochs") {
		t.Errorf("note %q does not name the training lengths", c.Note)
	}
	// The student's robustness curve starts at 1 (every image needs more
	// than ε = 0) and ends at the failed share: 1 of 20 exceeds the largest
	// distance found.
	for _, cv := range r.Curves {
		if cv.Step == 2 && (cv.Above[0] != 1 || cv.Above[len(cv.Above)-1] != 1.0/20 || len(cv.Eps) != CurvePoints) {
			t.Errorf("student curve %v", cv.Above)
		}
		if cv.Step == 0 && cv.Above[len(cv.Above)-1] != 0 {
			t.Errorf("teacher curve ends at %v, want 0", cv.Above[len(cv.Above)-1])
		}
	}
	// The student's summary counts the failure in its success rate only.
	for _, s := range r.Stats {
		if s.Step == 2 && (s.Summary.N != 20 || s.Summary.Successes != 19) {
			t.Errorf("student summary %+v", s.Summary)
		}
	}
}

// TestDegenerateDataEncode checks that data with nothing to compare (no
// attacked image, every attack failed, one model) still encodes as JSON:
// undefined numbers become null, not an encoding error.
func TestDegenerateDataEncode(t *testing.T) {
	for name, w := range map[string]world{
		"nothing attacked": {n: 5, temps: []float64{10}, steps: 2, shift: func(float64, int) float64 { return 0 }, attackN: -1},
		"all failed": {n: 5, temps: []float64{1, 10}, steps: 2, shift: func(float64, int) float64 { return 0 },
			fail: func(float64, int, int) bool { return true }},
		"one model": {n: 3, temps: []float64{1}, steps: 0, shift: func(float64, int) float64 { return 0 }},
	} {
		d := w.data()
		if w.attackN < 0 {
			d.AttackSamples = 0
		}
		if _, err := json.Marshal(Analyze(d)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestModelStatsAndStepMeans checks the per-model intervals against their
// definitions: accuracy as a Wilson interval of the correct images, and
// Fig. 8's average over T as the mean of the per-T means of the
// successful attacks.
func TestModelStatsAndStepMeans(t *testing.T) {
	w := world{n: 40, temps: []float64{1, 20}, steps: 1, noise: 0.1,
		shift: func(tt float64, s int) float64 { return 0.01*tt + 0.5*float64(s) },
		wrong: func(tt float64, s int) int { return int(tt)/10 + s },
		fail:  func(tt float64, s, i int) bool { return tt == 20 && s == 1 && i < 3 },
		amp:   func(tt float64) float64 { return -2 - tt/4 }}
	d := w.data()
	r := Analyze(d)
	if len(r.Models) != 4 {
		t.Fatalf("%d model stats, want 4", len(r.Models))
	}
	for i, ms := range r.Models {
		m := d.Models[i]
		correct := 0
		var amp float64
		for _, s := range m.Samples {
			if s.Correct {
				correct++
			}
			amp += s.Amplitude
		}
		if ms.Temperature != m.Temperature || ms.Step != m.Step || ms.N != w.n || ms.Epochs != 50 {
			t.Fatalf("model stat %d: %+v for T=%g step %d", i, ms, m.Temperature, m.Step)
		}
		if want := stats.Wilson(correct, w.n, stats.Level); ms.Accuracy != want {
			t.Errorf("T=%g step %d: accuracy %v, want %v", m.Temperature, m.Step, ms.Accuracy, want)
		}
		if got, want := ms.Amplitude.Value, amp/float64(w.n); math.Abs(got-want) > 1e-12*want || !ms.Amplitude.CI.Contains(got) {
			t.Errorf("T=%g step %d: amplitude %v, want the mean %g inside its interval", m.Temperature, m.Step, ms.Amplitude, want)
		}
	}
	for step := range 2 {
		var sum float64
		n := 0
		for k := range w.temps {
			m := d.Models[2*k+step]
			var found []float64
			for _, s := range m.Samples {
				if s.Correct && !math.IsNaN(float64(s.Distance["l2"])) {
					found = append(found, float64(s.Distance["l2"]))
				}
			}
			n += len(found)
			sum += stats.Mean(found)
		}
		var sm *StepMean
		for i := range r.StepMeans {
			if r.StepMeans[i].Step == step && r.StepMeans[i].Attack == "l2" {
				sm = &r.StepMeans[i]
			}
		}
		if sm == nil {
			t.Fatalf("no step mean for step %d", step)
		}
		if want := sum / 2; math.Abs(sm.Mean.Value-want) > 1e-12 || !sm.Mean.CI.Contains(want) || sm.N != n || sm.Temperatures != 2 {
			t.Errorf("step %d: %+v, want mean %g over %d successes at 2 temperatures", step, sm, want, n)
		}
	}
	// Every claim lists its pooled tests as effects, one per line of Tests.
	for _, c := range r.Claims {
		if len(c.Effects) != len(c.Tests) {
			t.Errorf("%q: %d effects for %d tests", c.Claim, len(c.Effects), len(c.Tests))
		}
		for _, e := range c.Effects {
			if e.N == 0 && c.Verdict != stats.NotResolved {
				t.Errorf("%q: effect %q has no pairs", c.Claim, e.Label)
			}
		}
	}
}
