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
	sum := Summarize(measure(t, linear{s: float32(math.Log(3))}, s), nil, 0)
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
	sum := Summarize(measure(t, linear{s: float32(math.Log(3))}, s), nil, 0)
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
		job := Job{Test: s, Samples: 4, AttackSample: 4, Attacks: []string{"l2"}, Goal: c.mode, Shard: Shard{0, 1}, runBatch: batchOf(fake),
			Progress: func(Progress) { calls++ }}
		samples, err := run(context.Background(), job, linear{s: 1})
		if err != nil {
			t.Fatal(err)
		}
		r := Summarize(samples, []string{"l2"}, 4).Robustness["l2"]
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
	samples, err := run(context.Background(), Job{Test: s, Samples: 2, AttackSample: 2, Attacks: []string{"l2"}, Goal: "all", Shard: Shard{0, 1}, runBatch: batchOf(fake)}, linear3{})
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
	r := Summarize(samples, []string{"l2"}, 2).Robustness["l2"]
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
