//go:build !(goexperiment.simd && amd64)

package kernel

// Add computes dst[i] += src[i] for i < len(dst).
func Add(dst, src []float32) { addPortable(dst, src) }

// ReLU computes dst[i] = max(src[i], 0) for i < len(dst).
func ReLU(dst, src []float32) { reluPortable(dst, src) }

// ReLUGrad computes dx[i] = dy[i] if y[i] > 0 else 0, for y a ReLU output.
func ReLUGrad(dx, dy, y []float32) { reluGradPortable(dx, dy, y) }
