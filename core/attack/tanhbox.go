package attack

import (
	"math"

	"github.com/tadd-project/tadd/core/kernel"
)

// boxVar is a C&W attack's variable under the change of variables that
// keeps images inside the box [0, 1]:
//
//	x' = tanh(w + δ)/2 + 1/2
//
// where w is the starting image in tanh space and Adam moves δ from 0.
type boxVar struct {
	w, delta, img []float32 // start in tanh space, the variable δ, the iterate x'
	opt           *adam
}

func newBoxVar(n int, lr float64) *boxVar {
	return &boxVar{w: make([]float32, n), delta: make([]float32, n), img: make([]float32, n), opt: newAdam(lr, n)}
}

// restart starts again from image start, with δ = 0 and Adam's state
// cleared. Values are scaled by 0.999999 first so that 0 and 1 map to
// finite w, as in the reference code.
func (b *boxVar) restart(start []float32) {
	for i, v := range start {
		b.w[i] = float32(math.Atanh((float64(v) - 0.5) * 2 * 0.999999))
	}
	clear(b.delta)
	b.opt.reset()
}

// image computes the iterate x' into b.img and returns it.
func (b *boxVar) image() []float32 {
	for j, v := range b.w {
		b.img[j] = float32(math.Tanh(float64(v+b.delta[j])))/2 + 0.5
	}
	return b.img
}

// distanceGradient turns grad, the gradient of the logit part of the loss
// with respect to x', into that of ‖x' − x‖² + the logit part with respect
// to δ, in place: 2(x' − x) + grad, times dx'/dδ = (1 − tanh²)/2 =
// 2·x'(1 − x').
func (b *boxVar) distanceGradient(grad, x []float32) { kernel.BoxGradient(grad, b.img, x) }

// step moves δ by one Adam step along grad, the loss's gradient with
// respect to δ.
func (b *boxVar) step(grad []float32) { b.opt.step(b.delta, grad) }

// adam is the Adam optimizer with TensorFlow's defaults (β1 0.9, β2 0.999,
// ε 1e-8), as the reference code uses.
type adam struct {
	lr   float64
	m, v []float32
	t    int
}

func newAdam(lr float64, n int) *adam {
	return &adam{lr: lr, m: make([]float32, n), v: make([]float32, n)}
}

func (a *adam) reset() {
	clear(a.m)
	clear(a.v)
	a.t = 0
}

// step updates params in place from grads (both as long as the state),
// with the bias-corrected step size lr·√(1 − β2ᵗ)/(1 − β1ᵗ) (the float32
// element-wise work is kernel.AdamStep).
func (a *adam) step(params, grads []float32) {
	const b1, b2 = 0.9, 0.999
	a.t++
	lrT := float32(a.lr * math.Sqrt(1-math.Pow(b2, float64(a.t))) / (1 - math.Pow(b1, float64(a.t))))
	kernel.AdamStep(params[:len(a.m)], a.m, a.v, grads, lrT)
}

// boundGradient turns grad, the gradient of the logit part of the loss
// with respect to x', into that of Σ_i max(|x'_i − x_i| − τ, 0) + the logit
// part with respect to δ, in place, and returns the penalty Σ_i max(|x'_i
// − x_i| − τ, 0) (the L∞ attack's distance term).
func (b *boxVar) boundGradient(grad, x []float32, tau float64) (penalty float64) {
	for j := range grad {
		y := b.img[j]
		d := float64(y - x[j])
		var dp float32 // d penalty / d x'
		if math.Abs(d) > tau {
			penalty += math.Abs(d) - tau
			dp = float32(math.Copysign(1, d))
		}
		grad[j] = (dp + grad[j]) * 2 * y * (1 - y)
	}
	return penalty
}
