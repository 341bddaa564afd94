package attack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tadd-project/tadd/core/nn"
)

// BenchmarkL2Iteration measures one L2 attack iteration (forward, input
// gradient, Adam step) of the MNIST net on all cores at batch 1, 9 and 100.
func BenchmarkL2Iteration(b *testing.B) {
	for _, n := range []int{1, 9, 100} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			m, _ := nn.New(nn.MNISTArch(), nil)
			m.Init(1)
			clf := NewModel(m, 0)
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
