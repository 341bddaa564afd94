package attack

import (
	"context"

	"github.com/tadd-project/tadd/core/nn"
)

// GradientSign is the baseline the C&W attacks are compared against: one
// step of size ε along the sign of the gradient of the cross-entropy
// (towards the target, or away from the label), x' = clip(x ∓ ε·sign(∇)),
// with the smallest ε in steps of 1/256 that reaches the goal.
func GradientSign(ctx context.Context, clf Classifier, x []float32, g Goal) (Result, error) {
	if err := checkInput(clf, x, 1); err != nil {
		return Result{}, err
	}
	if err := checkGoal(clf, g); err != nil {
		return Result{}, err
	}
	k := clf.Classes()
	grad := make([]float32, len(x))
	z := make([]float32, k)
	cls := g.Target
	sign := float32(-1) // descend the target's cross-entropy
	if !g.Targeted() {
		cls, sign = g.Label, 1 // ascend the label's
	}
	// d CE(cls)/dZ = softmax(Z) − e_cls.
	clf.Gradient(grad, z, x, 1, func(_ int, zi, wi []float32) {
		nn.SoftmaxT(wi, zi, 1)
		wi[cls]--
	})
	adv := make([]float32, len(x))
	iters := 1
	for step := 1; step <= 256; step++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		eps := float32(step) / 256
		for j, v := range x {
			d := float32(0)
			if grad[j] > 0 {
				d = eps
			} else if grad[j] < 0 {
				d = -eps
			}
			adv[j] = min(max(v+sign*d, 0), 1)
		}
		clf.Logits(z, adv, 1)
		iters++
		if g.Reached(z, 0) {
			return finish(clf, x, adv, g, iters), nil
		}
	}
	return finish(clf, x, nil, g, iters), nil
}
