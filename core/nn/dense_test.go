package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDenseInputGradientBothPaths checks that the input gradient at a batch
// above smallBatch (W transposed) equals the one computed sample by sample
// (W read in place).
func TestDenseInputGradientBothPaths(t *testing.T) {
	for _, kern := range kernelsUnderTest() {
		r := rand.New(rand.NewPCG(1, 2))
		l := NewDense(Shape{1, 1, 37}, 11, kern)
		params := make([]float32, 37*11+11)
		for i := range params {
			params[i] = r.Float32()*2 - 1
		}
		l.bind(params, make([]float32, len(params)))
		n := smallBatch + 5
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
				if math.Abs(float64(v-big[i*37+j])) > 1e-5 {
					t.Fatalf("%s: sample %d dx[%d]: batch %v, alone %v", kern.Name(), i, j, big[i*37+j], v)
				}
			}
		}
	}
}
