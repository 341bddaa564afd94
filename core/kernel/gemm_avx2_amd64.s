//go:build goexperiment.simd && amd64

#include "textflag.h"

// func tile6x16asm(c *float32, ldc int, a *float32, rs, ps int, b *float32, ldb int, kc int, zero bool)
//
// C(6×16) += A(6×kc)·B(kc×16) where A(r, p) is a[r*rs+p*ps] (row-major A:
// rs = lda, ps = 1; transposed A, the weight gradients: rs = 1, ps = its
// row stride), B and C row-major with row strides ldb and ldc (all in
// floats), with 256-bit AVX2 vectors: each element of C is one chain of
// fused multiply-adds in increasing p, exactly as in the 4-row tiles.
// Y0–Y11 hold the tile (row r in Y2r, Y2r+1), Y12–Y13 a row of B, Y14–Y15
// the broadcasts. With zero set the tile starts from +0 instead of C's
// values (what loading a cleared C gives), so C need not be cleared first.
TEXT ·tile6x16asm(SB), NOSPLIT, $0-65
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R8
	MOVQ a+16(FP), SI
	MOVQ rs+24(FP), R9
	MOVQ ps+32(FP), R14
	MOVQ b+40(FP), DX
	MOVQ ldb+48(FP), R10
	MOVQ kc+56(FP), CX
	MOVBLZX zero+64(FP), AX
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R14
	SHLQ $2, R10
	LEAQ (R9)(R9*2), R11 // 3·rs
	LEAQ (SI)(R9*4), R12 // A row 4
	LEAQ (R8)(R8*2), R13 // 3·ldc
	LEAQ (DI)(R8*4), BX  // C row 4
	TESTQ AX, AX
	JNE zeroed6
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS (DI)(R8*1), Y2
	VMOVUPS 32(DI)(R8*1), Y3
	VMOVUPS (DI)(R8*2), Y4
	VMOVUPS 32(DI)(R8*2), Y5
	VMOVUPS (DI)(R13*1), Y6
	VMOVUPS 32(DI)(R13*1), Y7
	VMOVUPS (BX), Y8
	VMOVUPS 32(BX), Y9
	VMOVUPS (BX)(R8*1), Y10
	VMOVUPS 32(BX)(R8*1), Y11
	JMP start6

zeroed6:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

start6:
	TESTQ CX, CX
	JEQ done

loop:
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VBROADCASTSS (SI), Y14
	VBROADCASTSS (SI)(R9*1), Y15
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (SI)(R9*2), Y14
	VBROADCASTSS (SI)(R11*1), Y15
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (R12), Y14
	VBROADCASTSS (R12)(R9*1), Y15
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ R14, SI
	ADDQ R14, R12
	ADDQ R10, DX
	DECQ CX
	JNZ loop

done:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (DI)(R8*1)
	VMOVUPS Y3, 32(DI)(R8*1)
	VMOVUPS Y4, (DI)(R8*2)
	VMOVUPS Y5, 32(DI)(R8*2)
	VMOVUPS Y6, (DI)(R13*1)
	VMOVUPS Y7, 32(DI)(R13*1)
	VMOVUPS Y8, (BX)
	VMOVUPS Y9, 32(BX)
	VMOVUPS Y10, (BX)(R8*1)
	VMOVUPS Y11, 32(BX)(R8*1)
	VZEROUPPER
	RET

// func fmaPeakAVX2(n int)
//
// n rounds of 12 independent 256-bit fused multiply-adds (Y0–Y11), for
// BenchmarkFMAPeak: one core's float32 FMA peak, with no loads in the loop.
TEXT ·fmaPeakAVX2(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	TESTQ CX, CX
	JEQ peakdone

peakloop:
	VFMADD231PS Y12, Y13, Y0
	VFMADD231PS Y12, Y13, Y1
	VFMADD231PS Y12, Y13, Y2
	VFMADD231PS Y12, Y13, Y3
	VFMADD231PS Y12, Y13, Y4
	VFMADD231PS Y12, Y13, Y5
	VFMADD231PS Y12, Y13, Y6
	VFMADD231PS Y12, Y13, Y7
	VFMADD231PS Y12, Y13, Y8
	VFMADD231PS Y12, Y13, Y9
	VFMADD231PS Y12, Y13, Y10
	VFMADD231PS Y12, Y13, Y11
	DECQ CX
	JNZ peakloop

peakdone:
	VZEROUPPER
	RET
