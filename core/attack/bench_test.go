package attack

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// mnistFlops is the arithmetic of one attack iteration on one image of the
// MNIST net: the forward pass (9.95 M multiply-adds: conv 0.19 M, 5.31 M,
// 1.84 M, 2.36 M, dense 0.25 M) and the input gradient (the same
// multiply-adds again, without weight gradients), at 2 FLOP each.
const mnistFlops = 2 * 2 * 9.9524e6

// throughputIterations caps each value of c in BenchmarkAttackThroughput.
const throughputIterations = 20

// benchBatches are the batch sizes of the attack benchmarks (issue 19).
var benchBatches = []int{1, 16, 64, 128}

// fixedIterations returns a's configuration changed so that every image
// runs exactly n iterations with the full per-iteration work (forward,
// input gradient, tanh box, loss weights, Adam), whatever it reaches: one
// value of c, no early abort, and for L0 and L∞ a constant so small that
// the goal is never reached within n steps.
func fixedIterations(a Attack, n int) Attack {
	switch c := a.(type) {
	case L2Config:
		c.BinarySearchSteps, c.MaxIterations, c.AbortEarly = 1, n, false
		return c
	case L0Config:
		c.MaxIterations, c.AbortEarly, c.InitialConst, c.ConstFactor, c.LargestConst = n, false, 1e-12, 2, 2e-12
		return c
	case LInfConfig:
		c.MaxIterations, c.AbortEarly, c.InitialConst, c.ConstFactor, c.LargestConst = n, false, 1e-12, 2, 2e-12
		return c
	}
	panic(fmt.Sprintf("fixedIterations: %T", a))
}

// benchTeacher loads the shipped T = 1 teacher, or skips.
func benchTeacher(b *testing.B) *nn.Model {
	raw, err := os.ReadFile("../../pretrained/mnist-T1-step0-teacher.safetensors")
	if err != nil {
		b.Skip("no shipped T=1 teacher")
	}
	m, _, err := weights.Load(raw, nil)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// benchImages returns n attacks on gallery digits with random targets:
// the gallery's 100 test digits, then from the first again with the next
// random targets (RandomTarget of seed 1 and the attack's position).
func benchImages(b *testing.B, n int) ([]float32, []Goal) {
	f := load(b)
	var x []float32
	var goals []Goal
	for i := range n {
		d := i % f.digits.Len()
		x = append(x, f.digits.Image(d)...)
		label := int(f.digits.Labels[d])
		goals = append(goals, Goal{Label: label, Target: RandomTarget(1, i, label, 10)})
	}
	return x, goals
}

// BenchmarkAttackIteration measures one batched iteration of each attack
// (forward pass, input gradient, the attack's loss weights, tanh box and
// Adam step for every image of the batch) on the shipped T = 1 teacher
// with all cores, at batch 1, 16, 64 and 128: ms per iteration, and
// GFLOP/s at mnistFlops per image-iteration.
func BenchmarkAttackIteration(b *testing.B) {
	m := benchTeacher(b)
	const iters = 20
	for _, atk := range Defaults().Attacks() {
		fixed := fixedIterations(atk, iters)
		for _, n := range benchBatches {
			b.Run(fmt.Sprintf("%s/batch%d", atk.Name(), n), func(b *testing.B) {
				clf := NewClassifier(m, 0)
				x, goals := benchImages(b, n)
				b.ResetTimer()
				for b.Loop() {
					rs, err := fixed.Run(context.Background(), clf, x, goals, n, nil, nil)
					if err != nil {
						b.Fatal(err)
					}
					if rs[0].Iterations != iters {
						b.Fatalf("%d iterations, want %d", rs[0].Iterations, iters)
					}
				}
				perIter := b.Elapsed().Seconds() / float64(b.N*iters)
				b.ReportMetric(perIter*1000, "ms/iter")
				b.ReportMetric(float64(n)*mnistFlops/perIter/1e9, "GFLOP/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkAttackThroughput runs each whole attack, with the paper's
// parameters but at most throughputIterations iterations per value of c,
// over 128 attacks on gallery digits (benchImages) in batches of 128 (the
// queue refills finished places) on the shipped T = 1 teacher with all
// cores, and reports image-iterations per second. One run is long (many
// values of c, and for L0 and L∞ many rounds): use -benchtime 1x.
func BenchmarkAttackThroughput(b *testing.B) {
	m := benchTeacher(b)
	x, goals := benchImages(b, 128)
	for _, atk := range Defaults().WithMaxIterations(throughputIterations).Attacks() {
		b.Run(atk.Name(), func(b *testing.B) {
			clf := NewClassifier(m, 0)
			imageIters := 0
			for b.Loop() {
				rs, err := atk.Run(context.Background(), clf, x, goals, len(goals), nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range rs {
					imageIters += r.Iterations
				}
			}
			b.ReportMetric(float64(imageIters)/b.Elapsed().Seconds(), "image-iters/s")
			b.ReportMetric(float64(imageIters)/float64(b.N), "image-iters/op")
		})
	}
}
