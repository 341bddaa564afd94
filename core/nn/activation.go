package nn

import (
	"math/rand/v2"

	"github.com/tadd-project/tadd/core/kernel"
)

// ReLU is y = max(x, 0).
type ReLU struct {
	shape Shape
	y, dx []float32
}

// NewReLU returns a ReLU over shape s.
func NewReLU(s Shape) *ReLU { return &ReLU{shape: s} }

// Kind implements Layer.
func (l *ReLU) Kind() string { return "relu" }

// In implements Layer.
func (l *ReLU) In() Shape { return l.shape }

// Out implements Layer.
func (l *ReLU) Out() Shape { return l.shape }

// Params implements Layer: none.
func (l *ReLU) Params() []ParamSpec        { return nil }
func (l *ReLU) bind(_, _ []float32)        {}
func (l *ReLU) clone(kernel.Kernels) Layer { return NewReLU(l.shape) }

// Forward: y = max(x, 0).
func (l *ReLU) Forward(x []float32, n int, _ bool) []float32 {
	l.y = grow(l.y, n*l.shape.Size())
	kernel.ReLU(l.y, x)
	return l.y
}

// Backward: dx = dy where y > 0, else 0.
func (l *ReLU) Backward(dy []float32, n int, needDX, needDW bool) []float32 {
	if !needDX {
		return nil
	}
	l.dx = grow(l.dx, n*l.shape.Size())
	kernel.ReLUGrad(l.dx, dy, l.y)
	return l.dx
}

// Dropout zeroes each input with probability Rate during training and scales
// the survivors by 1/(1-Rate) (inverted dropout), so inference is the
// identity. Its random stream is set by Seed.
type Dropout struct {
	shape Shape
	Rate  float32
	rng   *rand.Rand
	mask  []float32
	y, dx []float32
	used  bool // the last Forward applied the mask
}

// NewDropout returns dropout with the given rate over shape s.
func NewDropout(s Shape, rate float32) *Dropout {
	return &Dropout{shape: s, Rate: rate, rng: rand.New(rand.NewPCG(0, 0))}
}

// Kind implements Layer.
func (l *Dropout) Kind() string { return "dropout" }

// In implements Layer.
func (l *Dropout) In() Shape { return l.shape }

// Out implements Layer.
func (l *Dropout) Out() Shape { return l.shape }

// Params implements Layer: none.
func (l *Dropout) Params() []ParamSpec { return nil }
func (l *Dropout) bind(_, _ []float32) {}
func (l *Dropout) clone(kernel.Kernels) Layer {
	return NewDropout(l.shape, l.Rate)
}

// Seed restarts the dropout masks' random stream.
func (l *Dropout) Seed(a, b uint64) { l.rng = rand.New(rand.NewPCG(a, b)) }

// Forward: in training y = x·mask, mask_i ∈ {0, 1/(1-Rate)}; else y = x.
func (l *Dropout) Forward(x []float32, n int, train bool) []float32 {
	l.used = train && l.Rate > 0
	if !l.used {
		return x[:n*l.shape.Size()]
	}
	size := n * l.shape.Size()
	l.mask = grow(l.mask, size)
	l.y = grow(l.y, size)
	keep := 1 / (1 - l.Rate)
	for i := range l.mask {
		if l.rng.Float32() < l.Rate {
			l.mask[i] = 0
		} else {
			l.mask[i] = keep
		}
		l.y[i] = x[i] * l.mask[i]
	}
	return l.y
}

// Backward: dx = dy·mask (or dy when the mask was not applied).
func (l *Dropout) Backward(dy []float32, n int, needDX, needDW bool) []float32 {
	if !needDX {
		return nil
	}
	size := n * l.shape.Size()
	if !l.used {
		return dy[:size]
	}
	l.dx = grow(l.dx, size)
	for i, g := range dy[:size] {
		l.dx[i] = g * l.mask[i]
	}
	return l.dx
}

// Flatten reshapes (H, W, C) to (1, 1, H*W*C). In NHWC this moves no data.
type Flatten struct{ in Shape }

// NewFlatten returns a flatten of in.
func NewFlatten(in Shape) *Flatten { return &Flatten{in: in} }

// Kind implements Layer.
func (l *Flatten) Kind() string { return "flatten" }

// In implements Layer.
func (l *Flatten) In() Shape { return l.in }

// Out implements Layer.
func (l *Flatten) Out() Shape { return Shape{1, 1, l.in.Size()} }

// Params implements Layer: none.
func (l *Flatten) Params() []ParamSpec        { return nil }
func (l *Flatten) bind(_, _ []float32)        {}
func (l *Flatten) clone(kernel.Kernels) Layer { return NewFlatten(l.in) }

// Forward returns x unchanged.
func (l *Flatten) Forward(x []float32, n int, _ bool) []float32 { return x[:n*l.in.Size()] }

// Backward returns dy unchanged.
func (l *Flatten) Backward(dy []float32, n int, needDX, needDW bool) []float32 {
	if !needDX {
		return nil
	}
	return dy[:n*l.in.Size()]
}

// Center shifts the input by a constant, y = x - Offset. Carlini and
// Wagner's reference models see pixels in [-0.5, 0.5]; with Center(0.5) as
// the first layer our models do too while their inputs, and the attacks'
// box, stay [0, 1].
type Center struct {
	shape  Shape
	Offset float32
	y      []float32
}

// NewCenter returns a centring layer over shape s.
func NewCenter(s Shape, offset float32) *Center { return &Center{shape: s, Offset: offset} }

// Kind implements Layer.
func (l *Center) Kind() string { return "center" }

// In implements Layer.
func (l *Center) In() Shape { return l.shape }

// Out implements Layer.
func (l *Center) Out() Shape { return l.shape }

// Params implements Layer: none.
func (l *Center) Params() []ParamSpec { return nil }
func (l *Center) bind(_, _ []float32) {}
func (l *Center) clone(kernel.Kernels) Layer {
	return NewCenter(l.shape, l.Offset)
}

// Forward: y = x - Offset.
func (l *Center) Forward(x []float32, n int, _ bool) []float32 {
	l.y = grow(l.y, n*l.shape.Size())
	for i, v := range x[:len(l.y)] {
		l.y[i] = v - l.Offset
	}
	return l.y
}

// Backward: dx = dy.
func (l *Center) Backward(dy []float32, n int, needDX, needDW bool) []float32 {
	if !needDX {
		return nil
	}
	return dy[:n*l.shape.Size()]
}
