package attack

import (
	"context"
	"math"
)

// LInfConfig holds the parameters of the L∞ attack. DefaultLInf gives the
// seed paper's (τ from 1 shrinking by 0.9, c from 1e-5 doubling up to 20,
// learning rate 5e-3, 1,000 iterations).
type LInfConfig struct {
	MaxIterations  int     // gradient steps per value of c (1,000)
	AbortEarly     bool    // stop as soon as the goal is reached (true)
	LearningRate   float64 // Adam's learning rate (5e-3)
	InitialConst   float64 // first c (1e-5)
	LargestConst   float64 // give up when c reaches this (20)
	ConstFactor    float64 // c grows by this factor on failure (2)
	DecreaseFactor float64 // τ shrinks by this factor after each success (0.9)
	ReduceConst    bool    // halve c after each success (false)
}

// DefaultLInf returns the seed paper's L∞ parameters.
func DefaultLInf() LInfConfig {
	return LInfConfig{MaxIterations: 1000, AbortEarly: true, LearningRate: 5e-3, InitialConst: 1e-5,
		LargestConst: 20, ConstFactor: 2, DecreaseFactor: 0.9}
}

// LInf runs the Carlini-Wagner L∞ attack on one image x for goal g.
//
// For a bound τ (from 1), Adam minimises c·max(f(x'), 0) + Σ_i max(|x'_i −
// x_i| − τ, 0), x' = tanh(w)/2 + 1/2, warm-started from the previous
// solution, with c doubling on failure up to LargestConst. After each
// success τ becomes min(τ, ‖x' − x‖∞)·0.9; the attack stops when the
// restricted attack fails or τ < 1/256, and returns the last success.
func LInf(ctx context.Context, clf Classifier, cfg LInfConfig, x []float32, g Goal, obs Observer) (Result, error) {
	if err := checkInput(clf, x, 1); err != nil {
		return Result{}, err
	}
	if err := checkGoal(clf, g); err != nil {
		return Result{}, err
	}
	n := len(x)
	k := clf.Classes()
	sw := make([]float32, n)
	mod := make([]float32, n)
	img := make([]float32, n)
	grad := make([]float32, n)
	z := make([]float32, k)
	opt := newAdam(cfg.LearningRate, n)
	start := append([]float32(nil), x...)
	var last []float32
	bestDist := math.Inf(1)
	tau := 1.0
	cst := cfg.InitialConst
	iters := 0
	for tau > 1.0/256 {
		toTanh(sw, start)
		clear(mod)
		opt.reset()
		var sol []float32
		var f float64
	search:
		for cst < cfg.LargestConst {
			for step := range cfg.MaxIterations {
				if err := ctx.Err(); err != nil {
					return Result{}, err
				}
				for j := range img {
					img[j] = float32(math.Tanh(float64(sw[j]+mod[j])))/2 + 0.5
				}
				clf.Gradient(grad, z, img, 1, func(_ int, zi, wi []float32) {
					clear(wi)
					v, up, down := hinge(zi, g, 0)
					f = max(v, 0)
					if v > 0 {
						wi[up], wi[down] = float32(cst), -float32(cst)
					}
				})
				iters++
				var penalty float64
				for j := range grad {
					d := float64(img[j] - x[j])
					var dp float32 // d penalty / d x'
					if math.Abs(d) > tau {
						penalty += math.Abs(d) - tau
						dp = float32(math.Copysign(1, d))
					}
					y := img[j]
					grad[j] = (dp + grad[j]) * 2 * y * (1 - y)
				}
				loss := cst*f + penalty
				done := loss < 1e-4*cst && (cfg.AbortEarly || step == cfg.MaxIterations-1) && g.Reached(z, 0)
				if obs != nil {
					obs(Step{Attack: "linf", Iteration: iters, Const: cst, Tau: tau, Image: img, Logits: z, Best: last, BestDist: bestDist})
				}
				if done {
					sol = append([]float32(nil), img...)
					break search
				}
				opt.step(mod, grad, 0, n)
			}
			cst *= cfg.ConstFactor
		}
		if sol == nil {
			break
		}
		if cfg.ReduceConst {
			cst /= 2
		}
		_, _, actual := Distances(sol, x, 1)
		tau = math.Min(tau, actual)
		last, bestDist = sol, actual
		start = sol
		tau *= cfg.DecreaseFactor
	}
	return finish(clf, x, last, g, iters), nil
}
