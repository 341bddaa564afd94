package eval

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
)

// linear is a hand-checkable classifier on 2-value inputs with 2 classes:
// Z = (s·x0, s·x1). Its input gradient of Σ w_j Z_j is s·w.
type linear struct{ s float32 }

func (l linear) Classes() int                { return 2 }
func (l linear) InputShape() (int, int, int) { return 1, 2, 1 }
func (l linear) Logits(z, x []float32, n int) {
	for i := range 2 * n {
		z[i] = l.s * x[i]
	}
}
func (l linear) Gradient(g, z, x []float32, n int, weight func(int, []float32, []float32)) {
	l.Logits(z, x, n)
	w := make([]float32, 2)
	for i := range n {
		weight(i, z[2*i:2*i+2], w)
		g[2*i], g[2*i+1] = l.s*w[0], l.s*w[1]
	}
}

func set(images []float32, labels ...uint8) *data.Set {
	return &data.Set{H: 1, W: 2, C: 1, Images: images, Labels: labels}
}

// measure runs a job of set on clf with no attacks.
func measure(t *testing.T, clf attack.Classifier, set *data.Set) []Sample {
	t.Helper()
	s, err := run(context.Background(), Job{Test: set, Samples: set.Len(), Shard: Shard{0, 1}}, clf)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccuracyAndConfidenceByHand(t *testing.T) {
	// Samples: (1,0) label 0 correct; (0,1) label 1 correct; (1,0) label 1 wrong.
	s := set([]float32{1, 0, 0, 1, 1, 0}, 0, 1, 1)
	sum := Summarize(measure(t, linear{s: float32(math.Log(3))}, s), nil, Counts{})
	if got := sum.Accuracy; math.Abs(got-2.0/3) > 1e-12 {
		t.Fatalf("accuracy %v, want 2/3", got)
	}
	// With Z = (ln 3, 0), F = (3/4, 1/4): confidence = (3/4 + 3/4 + 0)/3 = 1/2.
	if got := sum.Confidence; math.Abs(got-0.5) > 1e-6 {
		t.Fatalf("confidence %v, want 0.5", got)
	}
}

func TestSensitivityByHand(t *testing.T) {
	// Z = s·x, F_y = softmax(Z)_y. For x = (1, 0), y = 0, s = ln 3:
	// ∂F_0/∂x_0 = s·F0·F1 = ln3·3/16, ∂F_0/∂x_1 = −s·F0·F1; amplitude = mean |.| = ln3·3/16.
	s := set([]float32{1, 0}, 0)
	sum := Summarize(measure(t, linear{s: float32(math.Log(3))}, s), nil, Counts{})
	want := math.Log(3) * 3 / 16
	if math.Abs(sum.MeanAmplitude-want) > 1e-6 || sum.NearZero != 0 {
		t.Fatalf("sensitivity %+v, want amplitude %v", sum, want)
	}
}

// TestSensitivityOfSaturatedModels checks that input gradients of saturated
// models are measured rather than rounded to zero. For x = (1, 0), y = 0 and
// Z = (s, 0): F_1 = 1/(1+e^s), and the amplitude is s·F_0·F_1. In float32,
// F_0 rounds to 1 from a margin of about 17 on.
func TestSensitivityOfSaturatedModels(t *testing.T) {
	for _, s := range []float64{1, 17, 20, 70, 200, 700} {
		got := Amplitudes(linear{s: float32(s)}, set([]float32{1, 0}, 0))[0]
		f1 := 1 / (1 + math.Exp(s))
		want := s * (1 - f1) * f1
		if math.Abs(got-want) > 1e-5*want {
			t.Errorf("margin %g: amplitude %g, want %g", s, got, want)
		}
	}
}

// TestLog10AmplitudeBeyondFloat64 checks that log10 of the amplitude is
// measured where the amplitude itself underflows float64: for Z = (s, 0)
// the amplitude is s·F_0·F_1 ≈ s·e^(−s), so log10 is log10(s) − s/ln 10
// (−520.1 at s = 1200, where the amplitude is 0 in float64), and that a
// samples file's samples carry it.
func TestLog10AmplitudeBeyondFloat64(t *testing.T) {
	for _, s := range []float64{1, 20, 70, 700, 1200, 5000} {
		x := set([]float32{1, 0}, 0)
		got := Log10Amplitudes(linear{s: float32(s)}, x)[0]
		f1 := 1 / (1 + math.Exp(s))
		want := math.Log10(s*(1-f1)) - math.Log1p(math.Exp(s))/math.Ln10
		if math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("margin %g: log10 amplitude %g, want %g", s, got, want)
		}
		if s >= 1200 && Amplitudes(linear{s: float32(s)}, x)[0] != 0 {
			t.Errorf("margin %g: the float64 amplitude should underflow to 0 here", s)
		}
		samples := measure(t, linear{s: float32(s)}, x)
		if l := samples[0].Log10Amplitude; l == nil || *l != got {
			t.Errorf("margin %g: the sample's log10 amplitude %v, want %g", s, l, got)
		}
		// A sample from before it was measured is completed; one that has
		// it is left alone.
		keep := 7.0
		old := []Sample{{Index: 0, Correct: true}, {Index: 0, Log10Amplitude: &keep}}
		n, err := FillLog10Amplitudes(linear{s: float32(s)}, x, old)
		if err != nil || n != 1 || old[0].Log10Amplitude == nil || *old[0].Log10Amplitude != got || *old[1].Log10Amplitude != 7 {
			t.Errorf("margin %g: filled %d: %v, %v (%v), want %g and 7", s, n, old[0].Log10Amplitude, old[1].Log10Amplitude, err, got)
		}
		if n, err := FillLog10Amplitudes(linear{s: float32(s)}, x, old); n != 0 || err != nil {
			t.Errorf("margin %g: complete samples measured again (%d, %v)", s, n, err)
		}
	}
	if _, err := FillLog10Amplitudes(linear{s: 1}, set([]float32{1, 0}, 0), []Sample{{Index: 3}}); err == nil {
		t.Error("a sample of an image the test set lacks was filled")
	}
}

// batchOf runs a one-image attack over a batch, one image after another.
func batchOf(run func(context.Context, []float32, attack.Goal) (attack.Result, error)) func(context.Context, string, attack.Classifier, []float32, []attack.Goal, func(int, attack.Result)) error {
	return func(ctx context.Context, _ string, _ attack.Classifier, x []float32, goals []attack.Goal, finished func(int, attack.Result)) error {
		is := len(x) / len(goals)
		for i, g := range goals {
			r, err := run(ctx, x[i*is:(i+1)*is], g)
			if err != nil {
				return err
			}
			finished(i, r)
		}
		return nil
	}
}

func TestRobustnessSummary(t *testing.T) {
	// A fake attack: succeeds with L2 distance = x0 on label-0 images, fails otherwise.
	fake := func(_ context.Context, x []float32, g attack.Goal) (attack.Result, error) {
		if g.Label == 0 {
			return attack.Result{Success: true, L2: float64(x[0]), Goal: g}, nil
		}
		return attack.Result{Goal: g}, nil
	}
	// (0.5, 0) label 0; (0.9, 0.1) label 0; (0, 1) label 1; (0.2, 0.8) label 0 misclassified → skipped.
	s := set([]float32{0.5, 0, 0.9, 0.1, 0, 1, 0.2, 0.8}, 0, 0, 1, 0)
	var calls int
	for _, c := range []struct {
		mode     string
		attempts int
	}{{"untargeted", 3}, {"all", 3}, {"random", 3}} {
		calls = 0
		job := Job{Test: s, Samples: 4, Attacked: Counts{All: 4}, Attacks: []string{"l2"}, Goal: c.mode, Shard: Shard{0, 1}, runBatch: batchOf(fake),
			Progress: func(Progress) { calls++ }}
		samples, err := run(context.Background(), job, linear{s: 1})
		if err != nil {
			t.Fatal(err)
		}
		r := Summarize(samples, []string{"l2"}, Counts{All: 4}).Robustness["l2"]
		if r.Attempts != c.attempts || r.Successes != 2 || math.Abs(r.SuccessRate-2.0/3) > 1e-12 {
			t.Fatalf("%s: attempts %d successes %d rate %v", c.mode, r.Attempts, r.Successes, r.SuccessRate)
		}
		if math.Abs(r.Mean-0.7) > 1e-6 || math.Abs(r.Max-0.9) > 1e-6 {
			t.Fatalf("%s: mean %v max %v, want 0.7 and 0.9", c.mode, r.Mean, r.Max)
		}
		if !math.IsNaN(float64(samples[2].Distance["l2"])) || !math.IsNaN(float64(samples[3].Distance["l2"])) || calls != 3 {
			t.Fatalf("%s: samples %v, %d progress calls", c.mode, samples, calls)
		}
		if c.mode == "untargeted" && samples[0].Target != attack.Untargeted {
			t.Fatalf("untargeted goal: target %d", samples[0].Target)
		}
	}
	if _, err := run(context.Background(), Job{Test: s, Samples: 4, Attacks: []string{"l3"}}, linear{s: 1}); err == nil {
		t.Fatal("unknown attack name accepted")
	}
	if _, err := run(context.Background(), Job{Test: s, Samples: 4, Goal: "sideways"}, linear{s: 1}); err == nil {
		t.Fatal("unknown goal mode accepted")
	}
}

// TestAllGoals: the mode "all" attacks every other class of a 3-class
// model, and each goal's result is counted.
func TestAllGoals(t *testing.T) {
	s := &data.Set{H: 1, W: 3, C: 1, Images: []float32{1, 0, 0, 0, 1, 0}, Labels: []uint8{0, 1}}
	fake := func(_ context.Context, x []float32, g attack.Goal) (attack.Result, error) {
		return attack.Result{Success: g.Target == 2, L2: float64(g.Target), Goal: g}, nil
	}
	samples, err := run(context.Background(), Job{Test: s, Samples: 2, Attacked: Counts{All: 2}, Attacks: []string{"l2"}, Goal: "all", Shard: Shard{0, 1}, runBatch: batchOf(fake)}, linear3{})
	if err != nil {
		t.Fatal(err)
	}
	for i, sm := range samples {
		at := sm.Attempts()
		if len(at) != 2 {
			t.Fatalf("sample %d: %d goals, want 2", i, len(at))
		}
		for _, a := range at {
			if a.Target == int(s.Labels[i]) || (a.Target == 2) != !math.IsNaN(float64(a.Distance["l2"])) {
				t.Fatalf("sample %d: attempt %+v", i, a)
			}
		}
	}
	r := Summarize(samples, []string{"l2"}, Counts{All: 2}).Robustness["l2"]
	if r.Attempts != 4 || r.Successes != 2 || r.Mean != 2 {
		t.Fatalf("robustness %+v", r)
	}
}

// linear3 is the identity on 3-value inputs: Z = x.
type linear3 struct{}

func (linear3) Classes() int                 { return 3 }
func (linear3) InputShape() (int, int, int)  { return 1, 3, 1 }
func (linear3) Logits(z, x []float32, n int) { copy(z, x[:3*n]) }
func (linear3) Gradient(g, z, x []float32, n int, weight func(int, []float32, []float32)) {
	copy(z, x[:3*n])
	for i := range n {
		weight(i, z[3*i:3*i+3], g[3*i:3*i+3])
	}
}

func TestNonFiniteOutputs(t *testing.T) {
	set := &data.Set{H: 1, W: 2, C: 1, Images: make([]float32, 2*300), Labels: make([]uint8, 300)}
	set.Images[2*201] = 10
	if _, err := run(context.Background(), Job{Test: set, Samples: 300}, linear{1}); err != nil {
		t.Fatal(err)
	}
	inf := linear{3e38} // 10·3e38 overflows float32
	if _, err := run(context.Background(), Job{Test: set, Samples: 200}, inf); err != nil {
		t.Fatalf("first 200 images: %v", err)
	}
	_, err := run(context.Background(), Job{Test: set, Samples: 300}, inf)
	if err == nil || !strings.Contains(err.Error(), "test image 201") {
		t.Fatalf("infinite logit on image 201: %v", err)
	}
}

func TestCountsOf(t *testing.T) {
	for _, c := range []struct {
		counts Counts
		attack string
		want   int
	}{
		{Counts{All: 200}, "l2", 200},
		{Counts{All: 200, Per: map[string]int{"l0": 100}}, "l0", 100},
		{Counts{All: 200, Per: map[string]int{"l0": 100}}, "linf", 200},
		{Counts{All: 50, Per: map[string]int{"l0": 100}}, "l0", 50}, // at most All
		{Counts{All: 50, Per: map[string]int{"l0": -3}}, "l0", 0},
		{Counts{All: -1}, "l2", 0},
		{Counts{}, "l2", 0},
	} {
		if got := c.counts.Of(c.attack); got != c.want {
			t.Errorf("%+v.Of(%q) = %d, want %d", c.counts, c.attack, got, c.want)
		}
	}
}

// TestPerAttackCounts: an attack with a smaller count runs only on the
// attacked samples below it, on the same goals as the others; the samples
// beyond its count are not attacked and count neither as attempts nor as
// failures, and the results on the samples it does attack are those of
// an attack over all of them.
func TestPerAttackCounts(t *testing.T) {
	fake := func(_ context.Context, x []float32, g attack.Goal) (attack.Result, error) {
		if g.Label == 0 {
			return attack.Result{Success: true, L0: 1, L2: float64(x[0]), LInf: float64(x[0]) / 2, Goal: g}, nil
		}
		return attack.Result{Goal: g}, nil
	}
	// Six samples: label 0 correct (success), except index 2 (label 1,
	// correct, the attack fails) and index 4 (label 0, misclassified).
	s := set([]float32{0.5, 0, 0.9, 0.1, 0, 1, 0.7, 0.2, 0.2, 0.8, 0.6, 0.1}, 0, 0, 1, 0, 0, 0)
	run1 := func(counts Counts) ([]Sample, map[string][]int) {
		t.Helper()
		ran := map[string][]int{}
		job := Job{Test: s, Samples: 6, Attacked: counts, Attacks: []string{"l0", "l2", "linf"}, Shard: Shard{0, 1}, Seed: 7,
			runBatch: func(ctx context.Context, name string, clf attack.Classifier, x []float32, goals []attack.Goal, finished func(int, attack.Result)) error {
				for i := range goals {
					ran[name] = append(ran[name], int(x[2*i]*10+0.5)) // the image, by its first value
				}
				return batchOf(fake)(ctx, name, clf, x, goals, finished)
			}}
		samples, err := run(context.Background(), job, linear{s: 1})
		if err != nil {
			t.Fatal(err)
		}
		return samples, ran
	}
	per := Counts{All: 6, Per: map[string]int{"l0": 3, "linf": 6}}
	samples, ran := run1(per)
	all, _ := run1(Counts{All: 6})
	// l0 runs on the correct samples among the first 3 (0, 1, 2); the
	// others on all correct ones (0, 1, 2, 3, 5).
	if got := ran["l0"]; len(got) != 3 || got[0] != 5 || got[1] != 9 || got[2] != 0 {
		t.Fatalf("l0 attacked images %v, want those of samples 0, 1, 2", got)
	}
	if len(ran["l2"]) != 5 || len(ran["linf"]) != 5 {
		t.Fatalf("attacked images %v", ran)
	}
	for i, sm := range samples {
		if sm.Target != all[i].Target {
			t.Fatalf("sample %d: goal %d, %d with one count for all attacks", i, sm.Target, all[i].Target)
		}
		for _, a := range []string{"l0", "l2", "linf"} {
			d, want := float64(sm.Distance[a]), float64(all[i].Distance[a])
			if a == "l0" && sm.Index >= 3 {
				want = math.NaN() // not attacked
			}
			if !(d == want || math.IsNaN(d) && math.IsNaN(want)) {
				t.Errorf("sample %d %s: %v, want %v", i, a, d, want)
			}
		}
	}
	sum := Summarize(samples, []string{"l0", "l2", "linf"}, per)
	for a, want := range map[string]AttackResult{
		"l0":   {Attempts: 3, Successes: 2, SuccessRate: 2.0 / 3, Mean: 1, Max: 1},
		"l2":   {Attempts: 5, Successes: 4, SuccessRate: 0.8, Mean: (0.5 + 0.9 + 0.7 + 0.6) / 4, Max: 0.9},
		"linf": {Attempts: 5, Successes: 4, SuccessRate: 0.8, Mean: (0.5 + 0.9 + 0.7 + 0.6) / 8, Max: 0.45},
	} {
		got := sum.Robustness[a]
		if got.Attempts != want.Attempts || got.Successes != want.Successes || math.Abs(got.SuccessRate-want.SuccessRate) > 1e-12 ||
			math.Abs(got.Mean-want.Mean) > 1e-6 || math.Abs(got.Max-want.Max) > 1e-6 {
			t.Errorf("%s: %+v, want %+v", a, got, want)
		}
	}
	// Summarized with one count for all, the unattacked l0 samples would
	// be failures: the per-attack count keeps them out.
	if r := Summarize(samples, []string{"l0"}, Counts{All: 6}).Robustness["l0"]; r.Attempts != 5 || r.Successes != 2 {
		t.Fatalf("one count for all: %+v", r)
	}
}
