package nn

import "github.com/tadd-project/tadd/core/kernel"

// Dense is a fully connected layer y = x·W + b, with W (In, Out) and b (Out).
type Dense struct {
	in, out Shape
	kern    kernel.Kernels

	W, B   []float32
	DW, DB []float32

	x, y, dx []float32
	wt       weightTranspose // Wᵀ (Out, In)
}

// NewDense returns a dense layer from in (flattened) to units outputs.
func NewDense(in Shape, units int, kern kernel.Kernels) *Dense {
	return &Dense{in: in, out: Shape{1, 1, units}, kern: kern}
}

// Kind implements Layer.
func (l *Dense) Kind() string { return "dense" }

// In implements Layer.
func (l *Dense) In() Shape { return l.in }

// Out implements Layer.
func (l *Dense) Out() Shape { return l.out }

// Params implements Layer.
func (l *Dense) Params() []ParamSpec {
	return []ParamSpec{{"weight", []int{l.in.Size(), l.out.C}}, {"bias", []int{l.out.C}}}
}

func (l *Dense) bind(p, g []float32) {
	nw := l.in.Size() * l.out.C
	l.W, l.B = p[:nw], p[nw:nw+l.out.C]
	l.DW, l.DB = g[:nw], g[nw:nw+l.out.C]
}

func (l *Dense) clone(kern kernel.Kernels) Layer { return NewDense(l.in, l.out.C, kern) }

// Forward: x is (n, In), y is (n, Out) = x·W + b.
func (l *Dense) Forward(x []float32, n int, _ bool) []float32 {
	l.x = x
	ni, no := l.in.Size(), l.out.C
	l.y = grow(l.y, n*no)
	kernel.GemmNN(l.kern, l.y, x, l.W, n, ni, no, false)
	for i := range n {
		row := l.y[i*no : (i+1)*no]
		for j := range row {
			row[j] += l.B[j]
		}
	}
	return l.y
}

// Backward: dW += xᵀ·dy, db += Σ dy, dx = dy·Wᵀ.
func (l *Dense) Backward(dy []float32, n int, needDX, needDW bool) []float32 {
	ni, no := l.in.Size(), l.out.C
	if needDW {
		kernel.GemmTN(l.kern, l.DW, l.x, dy, ni, n, no, true)
		for i := range n {
			for j, v := range dy[i*no : (i+1)*no] {
				l.DB[j] += v
			}
		}
	}
	if !needDX {
		return nil
	}
	l.dx = grow(l.dx, n*ni)
	kernel.GemmNN(l.kern, l.dx, dy, l.wt.of(l.kern, l.W, ni, no), n, no, ni, false)
	return l.dx
}
