package metrics

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

func TestAccuracyAndConfidenceByHand(t *testing.T) {
	// Samples: (1,0) label 0 correct; (0,1) label 1 correct; (1,0) label 1 wrong.
	s := set([]float32{1, 0, 0, 1, 1, 0}, 0, 1, 1)
	clf := linear{s: float32(math.Log(3))}
	if got := Accuracy(clf, s); math.Abs(got-2.0/3) > 1e-12 {
		t.Fatalf("accuracy %v, want 2/3", got)
	}
	// With Z = (ln 3, 0), F = (3/4, 1/4): confidence = (3/4 + 3/4 + 0)/3 = 1/2.
	if got := Confidence(clf, s); math.Abs(got-0.5) > 1e-6 {
		t.Fatalf("confidence %v, want 0.5", got)
	}
}

func TestSensitivityByHand(t *testing.T) {
	// Z = s·x, F_y = softmax(Z)_y. For x = (1, 0), y = 0, s = ln 3:
	// ∂F_0/∂x_0 = s·F0·F1 = ln3·3/16, ∂F_0/∂x_1 = −s·F0·F1; amplitude = mean |.| = ln3·3/16.
	s := set([]float32{1, 0}, 0)
	sens := MeasureSensitivity(linear{s: float32(math.Log(3))}, s)
	want := math.Log(3) * 3 / 16
	if math.Abs(sens.MeanAmplitude-want) > 1e-6 || sens.NearZero != 0 {
		t.Fatalf("sensitivity %+v, want amplitude %v", sens, want)
	}
}

// TestSensitivityOfSaturatedModels checks that input gradients of saturated
// models are measured rather than rounded to zero. For x = (1, 0), y = 0 and
// Z = (s, 0): F_1 = 1/(1+e^s), and the amplitude is s·F_0·F_1. In float32,
// F_0 rounds to 1 from a margin of about 17 on.
func TestSensitivityOfSaturatedModels(t *testing.T) {
	for _, s := range []float64{1, 17, 20, 70, 200, 700} {
		sens := MeasureSensitivity(linear{s: float32(s)}, set([]float32{1, 0}, 0))
		f1 := 1 / (1 + math.Exp(s))
		want := s * (1 - f1) * f1
		if got := sens.MeanAmplitude; math.Abs(got-want) > 1e-5*want {
			t.Errorf("margin %g: amplitude %g, want %g", s, got, want)
		}
		if near := want < NearZeroThreshold; (sens.NearZero == 1) != near {
			t.Errorf("margin %g: near-zero share %v, want near zero = %v", s, sens.NearZero, near)
		}
	}
}

// batchOf runs a one-image attack over a batch, one image after another.
func batchOf(run func(context.Context, []float32, attack.Goal) (attack.Result, error)) AttackBatch {
	return func(ctx context.Context, x []float32, goals []attack.Goal, finished func(int, attack.Result)) ([]attack.Result, error) {
		is := len(x) / len(goals)
		var rs []attack.Result
		for i, g := range goals {
			r, err := run(ctx, x[i*is:(i+1)*is], g)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
			finished(i, r)
		}
		return rs, nil
	}
}

func TestRobustnessSummary(t *testing.T) {
	// A fake attack: succeeds with L2 distance = x0 on label-0 images, fails otherwise.
	run := func(_ context.Context, x []float32, g attack.Goal) (attack.Result, error) {
		if g.Label == 0 {
			return attack.Result{Success: true, L2: float64(x[0]), Goal: g}, nil
		}
		return attack.Result{Goal: g}, nil
	}
	// (0.5, 0) label 0; (0.9, 0.1) label 0; (0, 1) label 1; (0.2, 0.8) label 0 misclassified → skipped.
	s := set([]float32{0.5, 0, 0.9, 0.1, 0, 1, 0.2, 0.8}, 0, 0, 1, 0)
	var calls int
	r, err := MeasureRobustness(context.Background(), linear{s: 1}, "l2", batchOf(run), s, "untargeted", 1, func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if r.Attempts != 3 || r.Successes != 2 || math.Abs(r.SuccessRate-2.0/3) > 1e-12 {
		t.Fatalf("attempts %d successes %d rate %v", r.Attempts, r.Successes, r.SuccessRate)
	}
	if math.Abs(r.MeanDistance-0.7) > 1e-6 || math.Abs(r.MaxDistance-0.9) > 1e-6 {
		t.Fatalf("mean %v max %v, want 0.7 and 0.9", r.MeanDistance, r.MaxDistance)
	}
	if !math.IsNaN(r.Distances[2]) || calls != 3 {
		t.Fatalf("distances %v, %d progress calls", r.Distances, calls)
	}
	if _, err := MeasureRobustness(context.Background(), linear{s: 1}, "l3", batchOf(run), s, "untargeted", 1, nil); err == nil {
		t.Fatal("unknown attack name accepted")
	}
}

func TestCheckFinite(t *testing.T) {
	set := &data.Set{H: 1, W: 2, C: 1, Images: make([]float32, 2*300), Labels: make([]uint8, 300)}
	set.Images[2*201] = 10
	if err := CheckFinite(linear{1}, set, 0); err != nil {
		t.Fatal(err)
	}
	inf := linear{3e38} // 10·3e38 overflows float32
	if err := CheckFinite(inf, set, 200); err != nil {
		t.Fatalf("first 200 images: %v", err)
	}
	err := CheckFinite(inf, set, 0)
	if err == nil || !strings.Contains(err.Error(), "test image 201") {
		t.Fatalf("infinite logit on image 201: %v", err)
	}
}
