package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tadd-project/tadd/core/kernel"
)

// onePassConv is the convolution's forward pass and input gradient as one
// patch matrix per image: im2col, one GEMM, and for the gradient one GEMM
// into the whole patch-matrix gradient and one col2im. Conv2D computes
// them in pieces (rows of output at a time); the pieces must give exactly
// these bits, so that an attack's result does not depend on how a layer
// cuts its work.
func onePassConv(l *Conv2D, x, dy []float32, n int) (y, dx []float32) {
	p, k, co := l.out.H*l.out.W, convK*convK*l.in.C, l.out.C
	cols := make([]float32, p*k)
	dcols := make([]float32, p*k)
	wt := make([]float32, k*co)
	kernel.Transpose(wt, l.W, k, co)
	y = make([]float32, n*p*co)
	dx = make([]float32, n*l.in.Size())
	for i := range n {
		l.im2col(cols, x[i*l.in.Size():])
		yi := y[i*p*co : (i+1)*p*co]
		for r := range p {
			copy(yi[r*co:(r+1)*co], l.B)
		}
		kernel.GemmNN(l.kern, yi, cols, l.W, p, k, co, true)
		kernel.GemmNN(l.kern, dcols, dy[i*p*co:], wt, p, co, k, false)
		kernel.Col2ImWith(l.kern, dx[i*l.in.Size():(i+1)*l.in.Size()], dcols, l.in.H, l.in.W, l.in.C)
	}
	return y, dx
}

// TestConvPiecesSameBits checks Conv2D's forward pass and input gradient
// against onePassConv bit for bit, on the MNIST and CIFAR layers' shapes
// and on odd ones (output rows that do not divide into the pieces, rows
// of a pixel count that is not a multiple of 4), with each kernel set.
func TestConvPiecesSameBits(t *testing.T) {
	shapes := []struct {
		in      Shape
		filters int
	}{
		{Shape{28, 28, 1}, 32}, {Shape{26, 26, 32}, 32}, {Shape{12, 12, 32}, 64}, {Shape{10, 10, 64}, 64},
		{Shape{32, 32, 3}, 64}, {Shape{30, 30, 64}, 64}, {Shape{3, 3, 2}, 5}, {Shape{41, 9, 3}, 17}, {Shape{17, 31, 7}, 9},
	}
	r := rand.New(rand.NewPCG(11, 12))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32()*2 - 1
		}
		return v
	}
	for _, kern := range kernelsUnderTest() {
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%s/%dx%dx%d-%d", kern.Name(), s.in.H, s.in.W, s.in.C, s.filters), func(t *testing.T) {
				l := NewConv2D(s.in, s.filters, kern)
				nw := convK * convK * s.in.C * s.filters
				params := fill(nw + s.filters)
				l.bind(params, make([]float32, len(params)))
				const n = 2
				x := fill(n * s.in.Size())
				dy := fill(n * l.out.Size())
				wantY, wantDX := onePassConv(l, x, dy, n)
				gotY := slices.Clone(l.Forward(x, n, false))
				gotDX := l.Backward(dy, n, true, false)
				if !slices.Equal(bits(gotY), bits(wantY)) {
					t.Error("forward pass differs from one patch matrix per image")
				}
				if !slices.Equal(bits(gotDX), bits(wantDX)) {
					t.Error("input gradient differs from one patch matrix per image")
				}
			})
		}
	}
}
