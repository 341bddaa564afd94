//go:build js && wasm

package kernels

import (
	"runtime"
	"unsafe"

	"github.com/tadd-project/tadd/core/kernel"
)

//go:wasmimport tadd_kernels kind
func kind() int32

//go:wasmimport tadd_kernels gemm
func gemm(c, a, b unsafe.Pointer, m, k, n, ars, acs, acc int32)

//go:wasmimport tadd_kernels transpose
func transpose(dst, src unsafe.Pointer, rows, cols int32)

//go:wasmimport tadd_kernels samebits
func samebits(a, b unsafe.Pointer, n int32) int32

//go:wasmimport tadd_kernels col2im
func col2im(dimg, dcols unsafe.Pointer, h, w, c int32)

// Kind of kernel module the loader attached.
const (
	None    = 0 // no SIMD kernels: use the portable Go ones
	SIMD128 = 1 // f32x4 multiply and add
	Relaxed = 2 // f32x4.relaxed_madd (fused where the CPU has FMA)
)

// Kind says which kernel module the page loaded.
func Kind() int { return int(kind()) }

// SIMD is the kernel.Kernels of the loaded WebAssembly SIMD module.
type SIMD struct{ kind int }

// Load returns the SIMD kernels when the page loaded them, and the portable
// Go kernels otherwise.
func Load() kernel.Kernels {
	if k := Kind(); k != None {
		return SIMD{kind: k}
	}
	return kernel.Portable{}
}

// Name says which module runs: "wasm-simd128" or "wasm-relaxed-simd".
func (s SIMD) Name() string {
	if s.kind == Relaxed {
		return "wasm-relaxed-simd"
	}
	return "wasm-simd128"
}

// Gemm computes C = A·B, or C += A·B, as kernel.Kernels documents, in the
// WebAssembly module, on the slices in place.
func (SIMD) Gemm(c, a, b []float32, m, k, n, ars, acs int, accumulate bool) {
	if m == 0 || n == 0 {
		return
	}
	kernel.CheckGemm(c, a, b, m, k, n, ars, acs)
	acc := int32(0)
	if accumulate {
		acc = 1
	}
	var pa, pb unsafe.Pointer
	if k > 0 {
		pa, pb = unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b))
	}
	gemm(unsafe.Pointer(unsafe.SliceData(c)), pa, pb, int32(m), int32(k), int32(n), int32(ars), int32(acs), acc)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}

// Col2Im implements kernel.Col2Im in the WebAssembly module.
func (SIMD) Col2Im(dimg, dcols []float32, h, w, c int) {
	if h < 3 || w < 3 || c <= 0 {
		return
	}
	if len(dimg) < h*w*c || len(dcols) < (h-2)*(w-2)*9*c {
		panic("kernels: Col2Im: slice too short")
	}
	col2im(unsafe.Pointer(unsafe.SliceData(dimg)), unsafe.Pointer(unsafe.SliceData(dcols)), int32(h), int32(w), int32(c))
	runtime.KeepAlive(dimg)
	runtime.KeepAlive(dcols)
}

// Transpose implements kernel.Transposer in the WebAssembly module.
func (SIMD) Transpose(dst, src []float32, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if len(dst) < rows*cols || len(src) < rows*cols {
		panic("kernels: Transpose: slice too short")
	}
	transpose(unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src)), int32(rows), int32(cols))
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
}

// SameBits implements kernel.BitComparer in the WebAssembly module.
func (SIMD) SameBits(a, b []float32) bool {
	if len(b) < len(a) {
		panic("kernels: SameBits: b shorter than a")
	}
	if len(a) == 0 {
		return true
	}
	same := samebits(unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b)), int32(len(a)))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return same != 0
}
