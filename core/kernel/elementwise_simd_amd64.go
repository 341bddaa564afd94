//go:build goexperiment.simd && amd64

package kernel

import "simd/archsimd"

var hasAVX2 = archsimd.X86.AVX2()

// Add computes dst[i] += src[i] for i < len(dst).
func Add(dst, src []float32) {
	if !hasAVX2 {
		addPortable(dst, src)
		return
	}
	src = src[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		d := archsimd.LoadFloat32x8Slice(dst[i:])
		d.Add(archsimd.LoadFloat32x8Slice(src[i:])).StoreSlice(dst[i:])
	}
	addPortable(dst[i:], src[i:])
}

// ReLU computes dst[i] = max(src[i], 0) for i < len(dst).
func ReLU(dst, src []float32) {
	if !hasAVX2 {
		reluPortable(dst, src)
		return
	}
	src = src[:len(dst)]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		archsimd.LoadFloat32x8Slice(src[i:]).Max(zero).StoreSlice(dst[i:])
	}
	reluPortable(dst[i:], src[i:])
}

// ReLUGrad computes dx[i] = dy[i] if y[i] > 0 else 0, for y a ReLU output.
func ReLUGrad(dx, dy, y []float32) {
	if !hasAVX2 {
		reluGradPortable(dx, dy, y)
		return
	}
	dy, y = dy[:len(dx)], y[:len(dx)]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= len(dx); i += 8 {
		pos := archsimd.LoadFloat32x8Slice(y[i:]).Greater(zero)
		archsimd.LoadFloat32x8Slice(dy[i:]).Masked(pos).StoreSlice(dx[i:])
	}
	reluGradPortable(dx[i:], dy[i:], y[i:])
}
