// Package kernel holds the float32 arithmetic that every layer of core/nn
// spends its time in: a general matrix multiply (GEMM) with a strided left
// operand, and the small element-wise helpers around it.
//
// The seam is the Kernels interface. Portable is plain Go and is the only
// implementation in WebAssembly and the reference in tests. On amd64 built
// with GOEXPERIMENT=simd, Default returns an AVX2/FMA implementation written
// with simd/archsimd, whose AVX-512 path multiplies row-major left operands
// with an 8×32 register tile in Go assembly (gemm_avx512_amd64.s: Go's
// lowering of archsimd's fused multiply-add copies registers in every step
// of such a tile); other back ends (browser SIMD, GPU) plug in behind the
// same interface.
//
// Matrices are row-major float32 slices. In Gemm the left operand A is read
// through two strides so that both A and its transpose can be used without a
// copy: A(i,p) = a[i*ars + p*acs]. B and C are dense: B(p,j) = b[p*n+j],
// C(i,j) = c[i*n+j].
package kernel
