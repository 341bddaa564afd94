package train

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
)

// randomSet makes n random 28×28 "digits" with random labels.
func randomSet(n int, seed uint64) *data.Set {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &data.Set{Name: "random", H: 28, W: 28, C: 1, Images: make([]float32, n*784), Labels: make([]uint8, n)}
	for i := range s.Images {
		s.Images[i] = r.Float32()
	}
	for i := range s.Labels {
		s.Labels[i] = uint8(r.IntN(10))
	}
	return s
}

// BenchmarkTrainMNIST measures MNIST-net training throughput at batch 128
// on all cores (samples/s).
func BenchmarkTrainMNIST(b *testing.B) {
	set := randomSet(1280, 1)
	m, _ := nn.New(nn.MNISTArch(), nil)
	m.Init(1)
	cfg := DefaultConfig(1)
	cfg.Epochs = 1
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), Job{Model: m, Train: set, Config: cfg}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(set.Len())*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
