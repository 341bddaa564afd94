package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func benchModel(b *testing.B) (*Model, []float32) {
	m, err := New(MNISTArch(), nil)
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 128*m.InputSize())
	for i := range x {
		x[i] = r.Float32()
	}
	return m, x
}

// BenchmarkInference measures MNIST-net inference on all cores at batch 1
// and 128 (images/s).
func BenchmarkInference(b *testing.B) {
	for _, n := range []int{1, 128} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			m, x := benchModel(b)
			p := NewWorkers(m, 0)
			b.ResetTimer()
			for b.Loop() {
				p.Logits(x[:n*m.InputSize()], n)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkForwardInputGradient measures one forward pass and one input
// gradient of the MNIST net for a single image: one attack iteration.
func BenchmarkForwardInputGradient(b *testing.B) {
	m, x := benchModel(b)
	dz := make([]float32, 10)
	dz[3], dz[7] = 1, -1
	b.ResetTimer()
	for b.Loop() {
		m.Forward(x[:m.InputSize()], 1, false)
		m.InputGradient(dz, 1)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/iter")
}
