package nn

import (
	"runtime"

	"github.com/tadd-project/tadd/core/kernel"
)

// weightTranspose keeps the transpose of a layer's weight matrix for its
// input gradient and makes it again only when the weights have changed
// since (compared bit for bit with the copy it was made from). An attack
// takes thousands of input gradients of the same weights: transposing the
// dense layers' weights every time was a third of an attack iteration at
// batch 1 (BENCHMARKS.md), comparing them is a sequential read. The
// weights may change under it in any way (a training step, loading, a
// replica's shared parameters): the comparison sees it.
type weightTranspose struct {
	src []float32 // the weights t was made from
	t   []float32 // their transpose
}

// reuseTranspose says whether comparing the weights with the copy is worth
// it with Go's own comparison (kernel.SameBits). In WebAssembly it is not:
// there that is a scalar loop over every weight, slower than transposing
// again with the page's kernels (the page's single attacks, headless
// Chromium, session 6: L2 1.9–2.3 s with the compare, 1.5 s without; L0
// 7.0–7.4 s and 5.8 s; L∞ 2.6–2.8 s and 2.3 s); the page's SIMD kernels
// bring their own vector comparison (kernel.BitComparer), which is.
const reuseTranspose = runtime.GOARCH != "wasm"

// of returns the transpose of the rows×cols matrix w, valid until the next
// call.
func (c *weightTranspose) of(kern kernel.Kernels, w []float32, rows, cols int) []float32 {
	_, vector := kern.(kernel.BitComparer)
	reuse := reuseTranspose || vector
	if reuse && len(c.src) == len(w) && kernel.SameBitsWith(kern, c.src, w) {
		return c.t
	}
	c.t = grow(c.t, rows*cols)
	kernel.TransposeWith(kern, c.t, w, rows, cols)
	if reuse {
		c.src = append(c.src[:0], w...)
	}
	return c.t
}
