package kernel

import "math"

// Element-wise steps of the C&W attacks (core/attack's tanh box and Adam),
// in float32 with the operations in the order the attacks wrote them in
// Go, so that the SIMD versions give the same bits: no fused multiply-adds
// (Go does not fuse on amd64 either), and square roots correctly rounded
// (float32(math.Sqrt(float64(v))) is the correctly rounded float32 root,
// as VSQRTPS is).

// Adam's constants: TensorFlow's defaults, as the reference code uses.
const (
	adamB1  = 0.9
	adamB2  = 0.999
	adamEps = 1e-8
)

// adamStepPortable is one Adam step with step size lrT (the learning rate
// with both bias corrections folded in): for every i,
//
//	m = β1·m + (1−β1)·g,  v = β2·v + (1−β2)·g²,  p −= lrT·m/(√v + ε).
func adamStepPortable(p, m, v, g []float32, lrT float32) {
	n := len(p)
	m, v, g = m[:n], v[:n], g[:n]
	for i := range p {
		m[i] = adamB1*m[i] + (1-adamB1)*g[i]
		v[i] = adamB2*v[i] + (1-adamB2)*g[i]*g[i]
		p[i] -= lrT * m[i] / (float32(math.Sqrt(float64(v[i]))) + adamEps)
	}
}

// boxGradientPortable turns g, the gradient of an attack's logit term with
// respect to the image y = tanh(u)/2 + 1/2, into the gradient of ‖y − x‖²
// plus that term with respect to u: (2(y − x) + g)·2y(1 − y).
func boxGradientPortable(g, y, x []float32) {
	n := len(g)
	y, x = y[:n], x[:n]
	for j := range g {
		g[j] = (2*(y[j]-x[j]) + g[j]) * 2 * y[j] * (1 - y[j])
	}
}
