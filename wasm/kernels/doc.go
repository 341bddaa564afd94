// Package kernels plugs the browser's SIMD kernels into core's kernel seam.
//
// Go's WebAssembly port emits no SIMD instructions, so the GEMM behind every
// convolution and dense layer is written in WebAssembly text with 128-bit
// SIMD (gemm.wat, and gemm_relaxed.wat with f32x4.relaxed_madd), generated
// by ./watgen, which also assembles them (build.sh: watgen -wasm site/dist;
// a test keeps the bytes equal to wabt's wat2wasm output). The page's
// loader (site/static/kernels.js) instantiates that module against the Go
// instance's own linear memory, so a kernel reads and writes Go slices in
// place: Go passes the slices' addresses, nothing is copied. Go imports the
// kernels with //go:wasmimport from the module "tadd_kernels", which the
// loader always provides; when SIMD is missing (or disabled with
// ?kernels=portable) it reports kind 0 and Load returns the portable Go
// kernels, which stay the reference.
//
// Growth of Go's memory is harmless: the kernel module imports the
// WebAssembly.Memory object itself, not a view of its buffer, and Go's heap
// does not move, so an address stays valid for the whole call.
package kernels

//go:generate go run ./watgen -o .
