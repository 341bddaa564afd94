package nn

import "github.com/tadd-project/tadd/core/kernel"

// MaxPool is 2×2 max pooling with stride 2; odd trailing rows or columns
// are dropped, as in Keras.
type MaxPool struct {
	in, out Shape
	arg     []int32 // for each output, the input index (within its image) of the max
	y, dx   []float32
}

// NewMaxPool returns a 2×2 max pool over in.
func NewMaxPool(in Shape) *MaxPool {
	return &MaxPool{in: in, out: Shape{in.H / 2, in.W / 2, in.C}}
}

// Kind implements Layer.
func (l *MaxPool) Kind() string { return "maxpool" }

// In implements Layer.
func (l *MaxPool) In() Shape { return l.in }

// Out implements Layer.
func (l *MaxPool) Out() Shape { return l.out }

// Params implements Layer: none.
func (l *MaxPool) Params() []ParamSpec { return nil }

func (l *MaxPool) bind(_, _ []float32)        {}
func (l *MaxPool) clone(kernel.Kernels) Layer { return NewMaxPool(l.in) }

// Forward: x is (n, H, W, C), y is (n, H/2, W/2, C); each output is the max
// of its 2×2 window, and its position is kept for Backward. Ties go to the
// first element in row-major order.
func (l *MaxPool) Forward(x []float32, n int, _ bool) []float32 {
	w, c := l.in.W, l.in.C
	os, is := l.out.Size(), l.in.Size()
	l.y = grow(l.y, n*os)
	if cap(l.arg) < n*os {
		l.arg = make([]int32, n*os)
	}
	l.arg = l.arg[:n*os]
	for i := range n {
		img := x[i*is : (i+1)*is]
		for oy := range l.out.H {
			for ox := range l.out.W {
				// The 2×2 window: two pixels of the top row, two of the
				// bottom, each c channels, contiguous in NHWC.
				base := ((2*oy)*w + 2*ox) * c
				top, bot := img[base:base+2*c], img[base+w*c:base+w*c+2*c]
				o := i*os + (oy*l.out.W+ox)*c
				b := int32(base)
				kernel.MaxArg4(l.y[o:o+c], l.arg[o:o+c], top[:c], top[c:], bot[:c], bot[c:],
					[4]int32{b, b + int32(c), b + int32(w*c), b + int32(w*c+c)})
			}
		}
	}
	return l.y
}

// Backward routes each output gradient to the input that was the max.
func (l *MaxPool) Backward(dy []float32, n int, needDX, needDW bool) []float32 {
	if !needDX {
		return nil
	}
	os, is := l.out.Size(), l.in.Size()
	l.dx = grow(l.dx, n*is)
	clear(l.dx)
	for i := range n {
		for o := range os {
			l.dx[i*is+int(l.arg[i*os+o])] += dy[i*os+o]
		}
	}
	return l.dx
}
