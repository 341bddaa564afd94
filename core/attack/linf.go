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
	return RunOne(ctx, cfg, clf, x, g, obs)
}

// Name implements Attack.
func (LInfConfig) Name() string { return "linf" }

// Norm implements Attack.
func (LInfConfig) Norm() Norm { return NormLInf }

// Run implements Attack: the L∞ attack of LInf on a queue of images.
func (cfg LInfConfig) Run(ctx context.Context, clf Classifier, x []float32, goals []Goal, size int, obs Observer, finished func(j int, r Result)) ([]Result, error) {
	return runBatch(ctx, clf, x, goals, size, func(j int, xj []float32, g Goal) slot { return newLInfSlot(clf, cfg, j, xj, g, obs) }, finished)
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
	v             *boxVar
	start, last   []float32
	bestDist, tau float64
	cst, f        float64
	step, iters   int
	finished      bool
}

func newLInfSlot(clf Classifier, cfg LInfConfig, index int, x []float32, g Goal, obs Observer) *linfSlot {
	s := &linfSlot{clf: clf, cfg: cfg, index: index, x: x, g: g, obs: obs,
		v: newBoxVar(len(x), cfg.LearningRate), start: append([]float32(nil), x...), bestDist: math.Inf(1), tau: 1, cst: cfg.InitialConst}
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
	s.v.restart(s.start)
	s.step = 0
	if s.cst >= s.cfg.LargestConst || s.cfg.MaxIterations <= 0 {
		s.finished = true // the restricted attack fails at once
	}
}

func (s *linfSlot) done() bool { return s.finished }

func (s *linfSlot) image() []float32 { return s.v.image() }

func (s *linfSlot) weights(z, w []float32) {
	s.f = objectiveWeights(z, w, s.g, 0, s.cst)
}

func (s *linfSlot) update(grad, z []float32) {
	s.iters++
	img := s.v.img
	penalty := s.v.boundGradient(grad, s.x, s.tau)
	loss := s.cst*s.f + penalty
	reached := loss < 1e-4*s.cst && (s.cfg.AbortEarly || s.step == s.cfg.MaxIterations-1) && s.g.Reached(z, 0)
	if s.obs != nil {
		s.obs(Step{Index: s.index, Iteration: s.iters, Const: s.cst, Search: LInfSearch{s.tau}, Image: img, Logits: z, Best: s.last, BestDist: s.bestDist})
	}
	if reached {
		sol := append([]float32(nil), img...)
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
	s.v.step(grad)
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
