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

// AdamStep is one Adam step (β1 0.9, β2 0.999, ε 1e-8) on p with moments
// m, v and gradient g, at step size lrT (the learning rate with both bias
// corrections folded in), for i < len(p).
func AdamStep(p, m, v, g []float32, lrT float32) { adamStepPortable(p, m, v, g, lrT) }

// BoxGradient sets g[j] = (2(y[j] − x[j]) + g[j])·2y[j](1 − y[j]) for
// j < len(g): the gradient of ‖y − x‖² + (a term whose gradient g was) with
// respect to u, for y = tanh(u)/2 + 1/2.
func BoxGradient(g, y, x []float32) { boxGradientPortable(g, y, x) }

// SameBits reports whether a and b[:len(a)] hold the same bits (unlike ==,
// 0 and −0 differ and a NaN equals itself).
func SameBits(a, b []float32) bool { return sameBitsPortable(a, b) }
