package nn

import "github.com/tadd-project/tadd/core/kernel"

// Conv2D is a 3×3 convolution, stride 1, no padding ("valid"), with bias.
// Its weight is (3, 3, Cin, Cout) and its bias (Cout).
type Conv2D struct {
	in, out Shape
	kern    kernel.Kernels

	W, B   []float32 // views into the model's parameters
	DW, DB []float32 // views into the model's gradients

	x    []float32       // input of the last Forward (not copied)
	y    []float32       // output buffer
	cols []float32       // im2col of one image: (OH*OW, 9*Cin)
	dcol []float32       // gradient of cols, a few output rows at a time (dxChunkRows)
	wt   weightTranspose // Wᵀ: (Cout, 9*Cin)
	dx   []float32
}

const convK = 3

// NewConv2D returns a 3×3 valid convolution from in to filters channels.
func NewConv2D(in Shape, filters int, kern kernel.Kernels) *Conv2D {
	return &Conv2D{in: in, out: Shape{in.H - convK + 1, in.W - convK + 1, filters}, kern: kern}
}

// Kind implements Layer.
func (l *Conv2D) Kind() string { return "conv2d" }

// In implements Layer.
func (l *Conv2D) In() Shape { return l.in }

// Out implements Layer.
func (l *Conv2D) Out() Shape { return l.out }

// Params implements Layer.
func (l *Conv2D) Params() []ParamSpec {
	return []ParamSpec{{"weight", []int{convK, convK, l.in.C, l.out.C}}, {"bias", []int{l.out.C}}}
}

func (l *Conv2D) bind(p, g []float32) {
	nw := convK * convK * l.in.C * l.out.C
	l.W, l.B = p[:nw], p[nw:nw+l.out.C]
	l.DW, l.DB = g[:nw], g[nw:nw+l.out.C]
}

func (l *Conv2D) clone(kern kernel.Kernels) Layer { return NewConv2D(l.in, l.out.C, kern) }

// im2col writes the (OH*OW, 9*Cin) patch matrix of one NHWC image. In NHWC
// the three pixels of a kernel row are contiguous, so each patch row is three
// copies of 3*Cin floats, in the (ky, kx, c) order of the HWIO weights.
func (l *Conv2D) im2col(cols, img []float32) {
	w, c := l.in.W, l.in.C
	rowLen := convK * c
	k := convK * rowLen
	for oy := range l.out.H {
		for ox := range l.out.W {
			dst := cols[(oy*l.out.W+ox)*k:]
			for ky := range convK {
				src := img[((oy+ky)*w+ox)*c:]
				copy(dst[ky*rowLen:(ky+1)*rowLen], src[:rowLen])
			}
		}
	}
}

// dxChunkPixels is about how many output pixels of an input gradient go
// through the patch matrix at once: 128 rows of 9·Cin floats (144 KiB at
// Cin = 32) stay in a core's L2 cache between the GEMM that writes them and
// the col2im that reads them, where a whole MNIST conv2 image (576 rows,
// 648 KiB) did not.
const dxChunkPixels = 128

// dxChunkRows is how many output rows Backward's input gradient takes at
// once: at least dxChunkPixels pixels, and a multiple of 4 pixels where it
// can, since the GEMM's last rows mod 4 go through a padded tile.
func (l *Conv2D) dxChunkRows() int {
	rows := (dxChunkPixels + l.out.W - 1) / l.out.W
	for rows < l.out.H && rows*l.out.W%4 != 0 {
		rows++
	}
	return min(max(rows, 1), l.out.H)
}

// Forward: x is (n, H, W, Cin), y is (n, H-2, W-2, Cout); per image
// y = im2col(x)·W + b.
func (l *Conv2D) Forward(x []float32, n int, _ bool) []float32 {
	l.x = x
	p, k, co := l.out.H*l.out.W, convK*convK*l.in.C, l.out.C
	l.y = grow(l.y, n*p*co)
	l.cols = grow(l.cols, p*k)
	for i := range n {
		l.im2col(l.cols, x[i*l.in.Size():(i+1)*l.in.Size()])
		yi := l.y[i*p*co : (i+1)*p*co]
		// Start from the bias and accumulate the product onto it: one pass
		// over y instead of a clear and an add.
		for r := range p {
			copy(yi[r*co:(r+1)*co], l.B)
		}
		kernel.GemmNN(l.kern, yi, l.cols, l.W, p, k, co, true)
	}
	return l.y
}

// Backward: dW += colsᵀ·dy, db += Σ dy, dcols = dy·Wᵀ, dx = col2im(dcols).
func (l *Conv2D) Backward(dy []float32, n int, needDX, needDW bool) []float32 {
	p, k, co := l.out.H*l.out.W, convK*convK*l.in.C, l.out.C
	if needDW {
		l.cols = grow(l.cols, p*k)
	}
	var wt []float32
	rows := l.dxChunkRows()
	if needDX {
		wt = l.wt.of(l.kern, l.W, k, co)
		l.dcol = grow(l.dcol, rows*l.out.W*k)
		l.dx = grow(l.dx, n*l.in.Size())
		clear(l.dx)
	}
	for i := range n {
		dyi := dy[i*p*co : (i+1)*p*co]
		if needDW {
			l.im2col(l.cols, l.x[i*l.in.Size():(i+1)*l.in.Size()])
			kernel.GemmTN(l.kern, l.DW, l.cols, dyi, k, p, co, true)
			for r := range p {
				kernel.Add(l.DB, dyi[r*co:(r+1)*co])
			}
		}
		if needDX {
			// A few output rows at a time, so that their patch-matrix
			// gradient is still in the cache when col2im adds it up. The
			// adds into each pixel keep their order (output rows in
			// increasing order), so the bits are those of one pass.
			dxi := l.dx[i*l.in.Size() : (i+1)*l.in.Size()]
			ow, rowIn := l.out.W, l.in.W*l.in.C
			for oy := 0; oy < l.out.H; oy += rows {
				r := min(rows, l.out.H-oy)
				dcol := l.dcol[:r*ow*k]
				kernel.GemmNN(l.kern, dcol, dyi[oy*ow*co:], wt, r*ow, co, k, false)
				kernel.Col2ImWith(l.kern, dxi[oy*rowIn:], dcol, r+convK-1, l.in.W, l.in.C)
			}
		}
	}
	if !needDX {
		return nil
	}
	return l.dx
}
