package attack

import (
	"context"
	"math"
)

// L2Config holds the parameters of the L2 attack. DefaultL2 gives the seed
// paper's (learning rate 1e-2, up to 10,000 iterations, initial c 1e-3,
// κ = 0) with the reference implementation's other defaults.
type L2Config struct {
	BinarySearchSteps int     // times c is adjusted by binary search (9)
	MaxIterations     int     // gradient steps per value of c (10,000)
	AbortEarly        bool    // stop a value of c when the loss stops falling (true)
	LearningRate      float64 // Adam's learning rate (1e-2)
	InitialConst      float64 // first c (1e-3)
	Confidence        float64 // κ: how far the goal must be exceeded (0)
}

// DefaultL2 returns the seed paper's L2 parameters.
func DefaultL2() L2Config {
	return L2Config{BinarySearchSteps: 9, MaxIterations: 10000, AbortEarly: true,
		LearningRate: 1e-2, InitialConst: 1e-3, Confidence: 0}
}

// L2 runs the Carlini-Wagner L2 attack on n images at once: images x
// (n×input, values in [0, 1]) and one goal each. It minimises
//
//	‖x' − x‖₂² + c·max(f(x'), −κ),   x' = tanh(w)/2 + 1/2
//
// over w with Adam, for each c of a binary search per image, and returns
// for each image the adversarial x' of smallest L2 distance found.
func L2(ctx context.Context, clf Classifier, cfg L2Config, x []float32, goals []Goal, obs Observer) ([]Result, error) {
	n := len(goals)
	if err := checkInput(clf, x, n); err != nil {
		return nil, err
	}
	for _, g := range goals {
		if err := checkGoal(clf, g); err != nil {
			return nil, err
		}
	}
	h, w, c := clf.InputShape()
	is, k := h*w*c, clf.Classes()

	lower := make([]float64, n)
	upper := make([]float64, n)
	cst := make([]float64, n)
	bestOverall := make([]float64, n) // squared L2 of the best adversarial so far
	bestAdv := make([][]float32, n)
	for i := range n {
		upper[i], cst[i], bestOverall[i] = 1e10, cfg.InitialConst, math.Inf(1)
	}
	tw := make([]float32, n*is) // the original images in tanh space
	toTanh(tw, x)
	mod := make([]float32, n*is)  // the variable being optimised
	img := make([]float32, n*is)  // x' = tanh(tw + mod)/2 + 1/2
	grad := make([]float32, n*is) // d logits-part / d x'
	z := make([]float32, n*k)     // logits of x'
	l2 := make([]float64, n)      // ‖x' − x‖² per image
	f := make([]float64, n)       // hinge per image
	iters := make([]int, n)
	opt := newAdam(cfg.LearningRate, n*is)
	abortEvery := max(cfg.MaxIterations/10, 1)

	for bs := range cfg.BinarySearchSteps {
		clear(mod)
		opt.reset()
		bestStep := make([]bool, n) // an adversarial was found at this c
		prev := math.Inf(1)
		for it := range cfg.MaxIterations {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for j, v := range tw {
				img[j] = float32(math.Tanh(float64(v+mod[j])))/2 + 0.5
			}
			clf.Gradient(grad, z, img, n, func(i int, zi, wi []float32) {
				clear(wi)
				v, up, down := hinge(zi, goals[i], cfg.Confidence)
				f[i] = max(v, 0)
				if v > 0 {
					wi[up], wi[down] = float32(cst[i]), -float32(cst[i])
				}
			})
			var loss float64
			for i := range n {
				iters[i]++
				xi, yi := x[i*is:(i+1)*is], img[i*is:(i+1)*is]
				var s float64
				for j := range xi {
					d := float64(yi[j] - xi[j])
					s += d * d
				}
				l2[i] = s
				loss += s + cst[i]*f[i]
				if goals[i].Reached(z[i*k:(i+1)*k], cfg.Confidence) {
					bestStep[i] = true
					if s < bestOverall[i] {
						bestOverall[i] = s
						bestAdv[i] = append(bestAdv[i][:0], yi...)
					}
				}
				if obs != nil {
					obs(Step{Attack: "l2", Index: i, Iteration: iters[i], Const: cst[i], BinaryStep: bs,
						Image: yi, Logits: z[i*k : (i+1)*k], Best: bestAdv[i], BestDist: math.Sqrt(bestOverall[i])})
				}
			}
			if cfg.AbortEarly && it%abortEvery == 0 {
				if loss > prev*0.9999 {
					break
				}
				prev = loss
			}
			// d loss / d x' = 2(x' − x) + (logit part, in grad); then through
			// x' = tanh(u)/2 + 1/2: d x'/d u = (1 − tanh²u)/2 = 2·x'(1 − x').
			for j := range grad {
				y := img[j]
				grad[j] = (2*(y-x[j]) + grad[j]) * 2 * y * (1 - y)
			}
			opt.step(mod, grad, 0, len(mod))
		}
		// Binary search on c, per image, as the reference code does.
		for i := range n {
			if bestStep[i] {
				upper[i] = math.Min(upper[i], cst[i])
				if upper[i] < 1e9 {
					cst[i] = (lower[i] + upper[i]) / 2
				}
			} else {
				lower[i] = math.Max(lower[i], cst[i])
				if upper[i] < 1e9 {
					cst[i] = (lower[i] + upper[i]) / 2
				} else {
					cst[i] *= 10
				}
			}
		}
	}
	results := make([]Result, n)
	for i := range n {
		results[i] = finish(clf, x[i*is:(i+1)*is], bestAdv[i], goals[i], iters[i])
	}
	return results, nil
}
