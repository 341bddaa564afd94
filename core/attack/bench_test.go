package attack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// BenchmarkL2Iteration measures one L2 attack iteration (forward, input
// gradient, Adam step) of the MNIST net on all cores at batch 1, 9 and 100.
func BenchmarkL2Iteration(b *testing.B) {
	for _, n := range []int{1, 9, 100} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			m, _ := nn.New(nn.MNISTArch(), nil)
			m.Init(1)
			clf := NewClassifier(m, 0)
			r := rand.New(rand.NewPCG(2, 2))
			x := make([]float32, n*784)
			for i := range x {
				x[i] = r.Float32()
			}
			goals := make([]Goal, n)
			for i := range goals {
				goals[i] = Goal{Label: 0, Target: 1 + i%9}
			}
			cfg := DefaultL2()
			cfg.BinarySearchSteps, cfg.MaxIterations, cfg.AbortEarly = 1, 100, false
			b.ResetTimer()
			for b.Loop() {
				if _, err := L2(context.Background(), clf, cfg, x, goals, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*cfg.MaxIterations)/1000, "ms/iter")
		})
	}
}

// BenchmarkAttackIteration measures each attack on the shipped T = 1
// teacher over gallery digits (random targets), batch sizes 1 to 128, with
// budgets capped so that a run takes a few hundred iterations per image:
// ms per batched iteration, image-iterations per second, and GFLOP/s at
// about 40 MFLOP per image-iteration (the MNIST net's forward pass and input
// gradient).
func BenchmarkAttackIteration(b *testing.B) {
	raw, err := os.ReadFile("../../pretrained/mnist-T1-step0-teacher.safetensors")
	if err != nil {
		b.Skip("no shipped T=1 teacher")
	}
	m, _, err := weights.Load(raw, nil)
	if err != nil {
		b.Fatal(err)
	}
	f := load(b)
	cfgs := QuickConfigs().WithMaxIterations(30)
	for _, atk := range cfgs.Attacks() {
		name := atk.Name()
		for _, n := range []int{1, 16, 64, 128} {
			b.Run(fmt.Sprintf("%s/batch%d", name, n), func(b *testing.B) {
				clf := NewClassifier(m, 0)
				var x []float32
				var goals []Goal
				for i := range n {
					d := i % f.digits.Len()
					x = append(x, f.digits.Image(d)...)
					label := int(f.digits.Labels[d])
					goals = append(goals, Goal{Label: label, Target: RandomTarget(1, i, label, 10)})
				}
				imageIters := 0
				b.ResetTimer()
				for b.Loop() {
					rs, err := atk.Run(context.Background(), clf, x, goals, n, nil, nil)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range rs {
						imageIters += r.Iterations
					}
				}
				perSec := float64(imageIters) / b.Elapsed().Seconds()
				b.ReportMetric(perSec, "image-iters/s")
				b.ReportMetric(float64(n)/perSec*1000, "ms/batch-iter")
				b.ReportMetric(perSec*40e6/1e9, "GFLOP/s")
			})
		}
	}
}
