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
	rs, err := LInfBatch(ctx, clf, cfg, x, []Goal{g}, 1, obs)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// LInfBatch runs the L∞ attack on len(goals) images x (one goal each),
// size at a time in one batch (batchSize when size <= 0), refilling a
// finished image's place from the queue. Each image follows exactly the
// schedule it follows alone in LInf; its Steps carry its index.
func LInfBatch(ctx context.Context, clf Classifier, cfg LInfConfig, x []float32, goals []Goal, size int, obs Observer) ([]Result, error) {
	return runBatch(ctx, clf, x, goals, size, func(j int, xj []float32, g Goal) slot { return newLInfSlot(clf, cfg, j, xj, g, obs) }, nil)
}

// linfSlot is the L∞ attack on one image as a state machine: rounds of
// decreasing τ, within a round values of c, within a value of c Adam steps.
type linfSlot struct {
	clf           Classifier
	cfg           LInfConfig
	index         int
	x             []float32
	g             Goal
	obs           Observer
	sw, mod, img  []float32
	opt           *adam
	start, last   []float32
	bestDist, tau float64
	cst, f        float64
	step, iters   int
	finished      bool
}

func newLInfSlot(clf Classifier, cfg LInfConfig, index int, x []float32, g Goal, obs Observer) *linfSlot {
	n := len(x)
	s := &linfSlot{clf: clf, cfg: cfg, index: index, x: x, g: g, obs: obs,
		sw: make([]float32, n), mod: make([]float32, n), img: make([]float32, n), opt: newAdam(cfg.LearningRate, n),
		start: append([]float32(nil), x...), bestDist: math.Inf(1), tau: 1, cst: cfg.InitialConst}
	s.beginRound()
	return s
}

// beginRound starts the attack restricted to the current τ, from the last
// solution, or ends the attack when τ has shrunk below one grey level.
func (s *linfSlot) beginRound() {
	if s.tau <= 1.0/256 {
		s.finished = true
		return
	}
	toTanh(s.sw, s.start)
	clear(s.mod)
	s.opt.reset()
	s.step = 0
	if s.cst >= s.cfg.LargestConst || s.cfg.MaxIterations <= 0 {
		s.finished = true // the restricted attack fails at once
	}
}

func (s *linfSlot) done() bool { return s.finished }

func (s *linfSlot) image() []float32 {
	for j := range s.img {
		s.img[j] = float32(math.Tanh(float64(s.sw[j]+s.mod[j])))/2 + 0.5
	}
	return s.img
}

func (s *linfSlot) weights(z, w []float32) {
	clear(w)
	v, up, down := hinge(z, s.g, 0)
	s.f = max(v, 0)
	if v > 0 {
		w[up], w[down] = float32(s.cst), -float32(s.cst)
	}
}

func (s *linfSlot) update(grad, z []float32) {
	s.iters++
	var penalty float64
	for j := range grad {
		d := float64(s.img[j] - s.x[j])
		var dp float32 // d penalty / d x'
		if math.Abs(d) > s.tau {
			penalty += math.Abs(d) - s.tau
			dp = float32(math.Copysign(1, d))
		}
		y := s.img[j]
		grad[j] = (dp + grad[j]) * 2 * y * (1 - y)
	}
	loss := s.cst*s.f + penalty
	reached := loss < 1e-4*s.cst && (s.cfg.AbortEarly || s.step == s.cfg.MaxIterations-1) && s.g.Reached(z, 0)
	if s.obs != nil {
		s.obs(Step{Attack: "linf", Index: s.index, Iteration: s.iters, Const: s.cst, Tau: s.tau, Image: s.img, Logits: z, Best: s.last, BestDist: s.bestDist})
	}
	if reached {
		sol := append([]float32(nil), s.img...)
		if s.cfg.ReduceConst {
			s.cst /= 2
		}
		_, _, actual := Distances(sol, s.x, 1)
		s.tau = math.Min(s.tau, actual)
		s.last, s.bestDist = sol, actual
		s.start = sol
		s.tau *= s.cfg.DecreaseFactor
		s.beginRound()
		return
	}
	s.opt.step(s.mod, grad, 0, len(s.mod))
	s.step++
	if s.step == s.cfg.MaxIterations {
		// This c failed: a larger one, continuing from the same iterate.
		s.cst *= s.cfg.ConstFactor
		s.step = 0
		if s.cst >= s.cfg.LargestConst {
			s.finished = true
		}
	}
}

func (s *linfSlot) result() Result { return finish(s.clf, s.x, s.last, s.g, s.iters) }
