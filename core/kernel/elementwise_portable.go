//go:build !(goexperiment.simd && amd64)

package kernel

// Add computes dst[i] += src[i] for i < len(dst).
func Add(dst, src []float32) { addPortable(dst, src) }

// ReLU computes dst[i] = max(src[i], 0) for i < len(dst).
func ReLU(dst, src []float32) { reluPortable(dst, src) }

// ReLUGrad computes dx[i] = dy[i] if y[i] > 0 else 0, for y a ReLU output.
func ReLUGrad(dx, dy, y []float32) { reluGradPortable(dx, dy, y) }

// MaxArg4 computes y[i] = max(a[i], b[i], c[i], d[i]) and arg[i] = off[k]+i
// for the slice k it came from (ties to the earlier slice), for i < len(y):
// the 2×2 max-pool window over len(y) channels.
func MaxArg4(y []float32, arg []int32, a, b, c, d []float32, off [4]int32) {
	maxArg4Portable(y, arg, a, b, c, d, off)
}
