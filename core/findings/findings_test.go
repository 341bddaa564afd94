package findings

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
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
	// l0Shift, when set, adds an l0 attack whose distances shift by it
	// instead of by shift.
	l0Shift func(t float64, step int) float64
}

func (w world) data() Data {
	rng := rand.New(rand.NewPCG(1, 2))
	base := make([]float64, w.n)
	for i := range base {
		base[i] = 1 + rng.Float64()
	}
	d := Data{Attacks: []string{"l2"}, AttackSamples: w.n, Pixels: 784, Seed: 3}
	if w.l0Shift != nil {
		d.Attacks = []string{"l0", "l2"}
	}
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
				if w.l0Shift != nil {
					s.Distance["l0"] = eval.Dist(10 * (base[i] + w.l0Shift(t, step) + w.noise*rng.NormFloat64()))
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
		// L2 says less robust, L0 more: one norm contradicting is enough
		// (the note says that the norms disagree; TestNormsDisagree).
		{"norms disagree", world{n: 200, temps: []float64{1, 20}, steps: 2, noise: 0.1,
			shift:   func(_ float64, s int) float64 { return -0.1 * float64(s) },
			l0Shift: func(_ float64, s int) float64 { return 0.1 * float64(s) }}, "The student (teacher", stats.Contradicted},
		{"one norm contradicts, one unresolved", world{n: 200, temps: []float64{1, 20}, steps: 2, noise: 0.1,
			shift:   func(_ float64, s int) float64 { return -0.1 * float64(s) },
			l0Shift: flat}, "The student (teacher", stats.Contradicted},
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
		{"further steps more robust", world{n: 100, temps: []float64{10}, steps: 6, noise: 0.1,
			shift: func(_ float64, s int) float64 { return 0.1 * float64(s) }}, "Each further distillation", stats.Supported},
		// Steps 3 to 5 support it, step 6 is not in the data: the claim is
		// about every step, so it is not resolved.
		{"further steps more robust up to 5", world{n: 100, temps: []float64{10}, steps: 5, noise: 0.1,
			shift: func(_ float64, s int) float64 { return 0.1 * float64(s) }}, "Each further distillation", stats.NotResolved},
		{"further steps less robust up to 5", world{n: 100, temps: []float64{10}, steps: 5, noise: 0.1,
			shift: func(_ float64, s int) float64 { return -0.1 * float64(s) }}, "Each further distillation", stats.Contradicted},
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

// TestSensitivityBeyondFloat64 checks that the sensitivity claim compares
// the measured log10 amplitudes, also where the amplitude underflows
// float64 (T = 40: 10⁻⁵⁰⁰), and says that the difference is a bound when
// only the floored amplitude is known.
func TestSensitivityBeyondFloat64(t *testing.T) {
	w := world{n: 100, temps: []float64{1, 40}, steps: 0, shift: func(float64, int) float64 { return 0 }}
	data := func(withLog bool) Data {
		d := w.data()
		for _, m := range d.Models {
			for i := range m.Samples {
				l := -12.0
				if m.Temperature == 40 {
					l = -500
				}
				m.Samples[i].Amplitude = math.Pow(10, l) // 0 at T = 40
				if withLog {
					m.Samples[i].Log10Amplitude = &l
				}
			}
		}
		return d
	}
	measured := claim(t, Analyze(data(true)), "Sensitivity")
	if e := measured.Effects[0]; math.Abs(e.MeanDiff.Value-(-488)) > 1e-9 || strings.Contains(measured.Note, "bound") {
		t.Errorf("measured: effect %g, note %q; want -488 and no bound", e.MeanDiff.Value, measured.Note)
	}
	floored := claim(t, Analyze(data(false)), "Sensitivity")
	floor := math.Log10(1e-308) + 12 // about −296 (Go's Log10 of the subnormal 1e-308 is −307.79)
	if e := floored.Effects[0]; math.Abs(e.MeanDiff.Value-floor) > 1e-9 || !strings.Contains(floored.Note, "100 amplitudes underflowed float64") {
		t.Errorf("floored: effect %g, note %q; want %g and the bound", e.MeanDiff.Value, floored.Note, floor)
	}
}

// TestNormsDisagree checks that a claim whose norms give opposite verdicts
// says which supports it and which contradicts it, beside any other note.
func TestNormsDisagree(t *testing.T) {
	w := world{n: 200, temps: []float64{1, 20}, steps: 2, noise: 0.1,
		shift:   func(_ float64, s int) float64 { return -0.1 * float64(s) },
		l0Shift: func(_ float64, s int) float64 { return 0.1 * float64(s) },
		epochs:  func(step int) int { return []int{50, 50, 10}[step] }}
	got := claim(t, Analyze(w.data()), "The student (teacher")
	const want = "The attacks disagree: L0 supports the claim, L2 contradicts it."
	if !strings.Contains(got.Note, want) || !strings.Contains(got.Note, "Training length differs") {
		t.Errorf("note %q, want it to contain %q and the training-length confound", got.Note, want)
	}
	agree := claim(t, Analyze(world{n: 200, temps: []float64{1, 20}, steps: 2, noise: 0.1,
		shift: func(_ float64, s int) float64 { return -0.1 * float64(s) }, l0Shift: func(_ float64, s int) float64 { return -0.1 * float64(s) }}.data()),
		"The student is more robust than the teacher")
	if strings.Contains(agree.Note, "disagree") {
		t.Errorf("attacks that agree get the note %q", agree.Note)
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

// TestPower checks the power of student − assistant against values
// computed by hand (stats.MinDetectable: 2.801585·sd/√n), with a failed
// attack counted at the L2 budget √784 = 28.
func TestPower(t *testing.T) {
	model := func(temp float64, step int, l2 ...float64) Model {
		m := Model{Identity: catalog.Identity{Temperature: temp, Step: step, Role: catalog.Role(step)}}
		for i, v := range l2 {
			m.Samples = append(m.Samples, eval.Sample{Index: i, Correct: true, Distance: map[string]eval.Dist{"l2": eval.Dist(v)}})
		}
		return m
	}
	nan := math.NaN()
	d := Data{Attacks: []string{"l2"}, AttackSamples: 5, Pixels: 784, Seed: 1, Models: []Model{
		// T=1: student − assistant = 1, 2, 3, 4, 5.
		model(1, 1, 1, 1, 1, 1, 1), model(1, 2, 2, 3, 4, 5, 6),
		// T=10: 0.5, 1 and, the student's attack failing, 28 − 1 = 27.
		model(10, 1, 1, 1, 1), model(10, 2, 1.5, 2, nan),
		// A teacher alone enters no power.
		model(20, 0, 1, 2, 3),
	}}
	r := Analyze(d)
	if len(r.Power) != 1 {
		t.Fatalf("power %+v, want one for l2", r.Power)
	}
	p := r.Power[0]
	near := func(got stats.Number, want float64) bool { return math.Abs(float64(got)-want) < 1e-5 }
	// T=1: sd = √2.5, 2.801585·1.581139/√5 = 1.981020.
	// T=10: mean 9.5, sd = √(459.5/2) = 15.157506, 2.801585·15.157506/√3 = 24.517206.
	// Pooled: the eight differences, mean 5.4375, sd 8.853722, 2.801585·8.853722/√8 = 8.769700.
	if p.Attack != "l2" || p.N != 8 || !near(p.MDE, 8.769700) || len(p.PerT) != 2 ||
		p.PerT[0] != (PowerAt{1, 5, p.PerT[0].MDE}) || !near(p.PerT[0].MDE, 1.981020) ||
		p.PerT[1].Temperature != 10 || p.PerT[1].N != 3 || !near(p.PerT[1].MDE, 24.517206) {
		t.Errorf("power %+v", p)
	}
	text := strings.Join(PowerText(r.Power), "\n")
	for _, want := range []string{"is 8.77 over all T pooled (n = 8 pairs)", "T=1 1.98 (n = 5)", "T=10 24.5 (n = 3)", "(z₀.₉₇₅ + z₀.₈₀)·sd/√n"} {
		if !strings.Contains(text, want) {
			t.Errorf("power text lacks %q:\n%s", want, text)
		}
	}
	// The pooled effect of the claim carries the same number.
	c := claim(t, r, "The student (teacher → assistant → student) is more robust than the assistant")
	if len(c.Effects) != 1 || !near(c.Effects[0].MDE, 8.769700) || !strings.Contains(c.Tests[0], "detectable difference (80% power) 8.77") {
		t.Errorf("student − assistant effect %+v, test %q", c.Effects, c.Tests)
	}
	// One pair alone detects nothing.
	one := Analyze(Data{Attacks: []string{"l2"}, AttackSamples: 1, Pixels: 784, Models: []Model{model(1, 1, 1), model(1, 2, 2)}})
	if p := one.Power[0]; p.N != 1 || !math.IsNaN(float64(p.MDE)) || !strings.Contains(PowerText(one.Power)[0], "fewer than 2 pairs") {
		t.Errorf("one pair: %+v %q", p, PowerText(one.Power))
	}
}

// TestPooledWithoutPairs: a pooled test over no pairs (a run that lacks
// one of the two models) says so instead of printing NaN statistics, and
// resolves nothing.
func TestPooledWithoutPairs(t *testing.T) {
	line, c := pooled("l2: step 2 − step 1, all T pooled", nil, 1)
	if strings.Contains(line, "NaN") || !strings.Contains(line, "no pairs in the data") {
		t.Errorf("line %q", line)
	}
	if c.N != 0 {
		t.Errorf("n = %d", c.N)
	}
}

// TestOverstatedBudgetNoted: a claim compared under an attack whose budget
// the budget check found overstating says so; one under other attacks does
// not.
func TestOverstatedBudgetNoted(t *testing.T) {
	w := world{n: 100, temps: []float64{1, 40}, steps: 2, noise: 0.1, shift: func(float64, int) float64 { return 0 },
		l0Shift: func(float64, int) float64 { return 0 }}
	d := w.data()
	d.Overstated = map[string]string{"l0": "×2 [1.9, 2.1] the paper's parameters'"}
	r := Analyze(d)
	const want = "The budget check finds the preset's L0 distances ×2 [1.9, 2.1] the paper's parameters': L0 differences between models may be the cut budget's, not the models'."
	if r.BudgetNote != want {
		t.Errorf("budget note %q, want %q", r.BudgetNote, want)
	}
	// Said once, not in every claim's note.
	for _, c := range r.Claims {
		if strings.Contains(c.Note, "budget check") {
			t.Errorf("%s: the note repeats the budget note: %q", c.Claim, c.Note)
		}
	}
	if s := NewSummary(r, Run{}); s.BudgetNote != want {
		t.Errorf("the summary's budget note %q", s.BudgetNote)
	}
	if r := Analyze(w.data()); r.BudgetNote != "" {
		t.Errorf("with no budget finding: budget note %q", r.BudgetNote)
	}
}

// TestUnevenBudgetDecidesNothing: an attack whose budget bias the check
// finds differing between models decides no claim, whatever its interval
// says: its effect keeps its own verdict and says why it is left out, and
// the claim follows the other attacks; the same data without the finding,
// or with a bias alike on each model, let it decide.
func TestUnevenBudgetDecidesNothing(t *testing.T) {
	const prefix = "The student is more robust than the teacher"
	over := map[string]string{"l0": "×1.86 [1.59, 2.15] the paper's parameters'"}
	uneven := map[string]string{"l0": "×0.999 to ×2.57 between models; their 95% intervals do not overlap"}
	alike := map[string]string{"l0": "×1.86 on each model"}
	per := func(d float64) func(float64, int) float64 {
		return func(_ float64, step int) float64 { return d * float64(step) }
	}
	tests := []struct {
		name          string
		l0, l2        float64 // shift per step
		uneven, alike map[string]string
		l0Verdict     stats.Verdict
		claim         stats.Verdict
	}{
		{"both support", 5, 0.5, nil, nil, stats.Supported, stats.Supported},
		{"L0 contradicts, L2 supports", -5, 0.5, nil, nil, stats.Contradicted, stats.Contradicted},
		{"L0 contradicts uneven, L2 supports", -5, 0.5, uneven, nil, stats.Contradicted, stats.Supported},
		{"L0 supports uneven, L2 no effect", 5, 0, uneven, nil, stats.Supported, stats.NotResolved},
		{"L0 contradicts alike, L2 supports", -5, 0.5, nil, alike, stats.Contradicted, stats.Contradicted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := world{n: 100, temps: []float64{1, 40}, steps: 2, noise: 0.1, shift: per(tc.l2), l0Shift: per(tc.l0)}
			d := w.data()
			d.Overstated, d.Uneven, d.Alike = over, tc.uneven, tc.alike
			r := Analyze(d)
			cl := claim(t, r, prefix)
			if len(cl.Effects) != 2 || cl.Effects[0].Quantity != "l0" {
				t.Fatalf("effects %+v", cl.Effects)
			}
			e := cl.Effects[0]
			if e.Verdict != tc.l0Verdict || cl.Verdict != tc.claim {
				t.Errorf("L0 effect %s, claim %s; want %s, %s", e.Verdict, cl.Verdict, tc.l0Verdict, tc.claim)
			}
			excluded := tc.uneven != nil
			if (e.Excluded != "") != excluded || strings.Contains(cl.Tests[0], "but decides nothing") != excluded ||
				strings.Contains(r.BudgetNote, "L0 decides no verdict") != excluded {
				t.Errorf("excluded %q, test %q, budget note %q", e.Excluded, cl.Tests[0], r.BudgetNote)
			}
			if excluded && strings.Contains(cl.Note, "attacks disagree") {
				t.Errorf("note %q: an excluded attack enters the disagreement", cl.Note)
			}
			if strings.Contains(r.BudgetNote, "alike on the models it checked") != (tc.alike != nil) ||
				strings.Contains(r.BudgetNote, "may be the cut budget's") == (tc.alike != nil) {
				t.Errorf("budget note %q: alike %v", r.BudgetNote, tc.alike != nil)
			}
			found := false
			for _, c := range NewSummary(r, Run{}).Claims {
				if c.Claim != cl.Claim {
					continue
				}
				found = true
				if strings.Contains(c.Effects[0].Text(), "×2.57 between models") != excluded || c.Effects[0].Verdict != tc.l0Verdict {
					t.Errorf("summary effect %q", c.Effects[0].Text())
				}
				b, _ := json.Marshal(c.Effects[0])
				if strings.Contains(string(b), `"excluded"`) != excluded {
					t.Errorf("summary effect JSON %s", b)
				}
			}
			if !found {
				t.Error("the claim is not in the summary")
			}
		})
	}
}

// TestMultiStepCoverage: with step 3 of one chain only (the shipped
// results' state), the multi-step claim says which steps it compared and
// how many it lacks, and does not call the claim supported.
func TestMultiStepCoverage(t *testing.T) {
	w := world{n: 100, temps: []float64{1, 40}, steps: 3, noise: 0.1, shift: func(_ float64, s int) float64 { return 0.1 * float64(s) }}
	d := w.data()
	d.Models = slices.DeleteFunc(d.Models, func(m Model) bool { return m.Temperature == 1 && m.Step == 3 })
	cl := claim(t, Analyze(d), "Each further distillation")
	if cl.Verdict != stats.NotResolved || len(cl.Effects) != 1 || cl.Effects[0].Verdict != stats.Supported {
		t.Errorf("verdict %s, effects %+v; want not resolved over a supporting effect", cl.Verdict, cl.Effects)
	}
	if !strings.HasPrefix(cl.Tests[0], "L2: step k − step k−1 for k = 3, T=40 only:") {
		t.Errorf("test %q: want it to say that it pools T=40 step 3 only", cl.Tests[0])
	}
	for _, want := range []string{"compare T=40 step 3 with the step before", "7 of the 8 steps 3 to 6", "supported on the steps compared, not resolved for the claim"} {
		if !strings.Contains(cl.Note, want) {
			t.Errorf("note %q lacks %q", cl.Note, want)
		}
	}
}
