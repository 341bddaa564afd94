package nn

import (
	"math/rand/v2"
	"testing"
)

// TestDenseInputGradientIndependentOfBatch checks that a sample's input
// gradient is bit for bit the same alone and inside a batch, with every
// kernel: sharded evaluations (tadd reproduce --shard) must merge into
// exactly the numbers of one run.
func TestDenseInputGradientIndependentOfBatch(t *testing.T) {
	for _, kern := range kernelsUnderTest() {
		r := rand.New(rand.NewPCG(1, 2))
		l := NewDense(Shape{1, 1, 37}, 11, kern)
		params := make([]float32, 37*11+11)
		for i := range params {
			params[i] = r.Float32()*2 - 1
		}
		l.bind(params, make([]float32, len(params)))
		n := 21
		x, dy := make([]float32, n*37), make([]float32, n*11)
		for i := range x {
			x[i] = r.Float32()
		}
		for i := range dy {
			dy[i] = r.Float32()*2 - 1
		}
		l.Forward(x, n, false)
		big := append([]float32(nil), l.Backward(dy, n, true, false)...)
		for i := range n {
			l.Forward(x[i*37:(i+1)*37], 1, false)
			one := l.Backward(dy[i*11:(i+1)*11], 1, true, false)
			for j, v := range one {
				if v != big[i*37+j] {
					t.Fatalf("%s: sample %d dx[%d]: in a batch %v, alone %v", kern.Name(), i, j, big[i*37+j], v)
				}
			}
		}
	}
}

// TestModelIndependentOfBatch checks the same for the whole MNIST net:
// logits and input gradients of a sample alone equal those in a batch.
func TestModelIndependentOfBatch(t *testing.T) {
	for _, kern := range kernelsUnderTest() {
		m, err := New(MNISTArch(), kern)
		if err != nil {
			t.Fatal(err)
		}
		m.Init(5)
		r := rand.New(rand.NewPCG(3, 4))
		n := 7
		x := make([]float32, n*784)
		for i := range x {
			x[i] = r.Float32()
		}
		dz := make([]float32, n*10)
		for i := range dz {
			dz[i] = r.Float32()*2 - 1
		}
		z := append([]float32(nil), m.Forward(x, n, false)...)
		g := append([]float32(nil), m.InputGradient(dz, n)...)
		for i := range n {
			zi := m.Forward(x[i*784:(i+1)*784], 1, false)
			for j, v := range zi {
				if v != z[i*10+j] {
					t.Fatalf("%s: sample %d logit %d: in a batch %v, alone %v", kern.Name(), i, j, z[i*10+j], v)
				}
			}
			gi := m.InputGradient(dz[i*10:(i+1)*10], 1)
			for j, v := range gi {
				if v != g[i*784+j] {
					t.Fatalf("%s: sample %d input gradient %d: in a batch %v, alone %v", kern.Name(), i, j, g[i*784+j], v)
				}
			}
		}
	}
}
