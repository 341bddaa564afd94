package attack

import (
	"context"
	"math"
	"sort"
)

// L0Config holds the parameters of the L0 attack. DefaultL0 gives the seed
// paper's (1,000 iterations, constant limit 2×10⁶) with the reference
// implementation's other defaults.
type L0Config struct {
	MaxIterations int     // gradient steps per value of c (1,000)
	AbortEarly    bool    // stop as soon as the goal is reached (true)
	LearningRate  float64 // Adam's learning rate (1e-2)
	InitialConst  float64 // first c (1e-3)
	LargestConst  float64 // give up when c reaches this (2e6)
	ConstFactor   float64 // c grows by this factor on failure (2)
	ReduceConst   bool    // halve c after each success (false)
}

// DefaultL0 returns the seed paper's L0 parameters.
func DefaultL0() L0Config {
	return L0Config{MaxIterations: 1000, AbortEarly: true, LearningRate: 1e-2, InitialConst: 1e-3,
		LargestConst: 2e6, ConstFactor: 2}
}

// l0Margin is the reference code's margin in the L0 objective: the target
// logit must win by 0.01.
const l0Margin = 0.01

// L0 runs the Carlini-Wagner L0 attack on one image x for goal g.
//
// It repeatedly runs an L2-style attack (the reference's "doit") in which
// only an allowed set of pixels may change, warm-started from the previous
// solution: pixels outside the set keep their original values, the others
// are x' = tanh(start + mod)/2 + 1/2, and Adam minimises
// c·max(0, f(x') + 0.01) + ‖x' − x‖² with c doubling on failure up to
// LargestConst. After each success it forbids the allowed pixels with the
// least effect, measured by |gradient|·|change| summed over channels: all
// of those below 0.01, at most 0.3·√(changed pixels) at a time, and at
// least one. It stops when the restricted attack fails, and returns the
// last success.
func L0(ctx context.Context, clf Classifier, cfg L0Config, x []float32, g Goal, obs Observer) (Result, error) {
	return RunOne(ctx, cfg, clf, x, g, obs)
}

// Name implements Attack.
func (L0Config) Name() string { return "l0" }

// Norm implements Attack.
func (L0Config) Norm() Norm { return NormL0 }

// Run implements Attack: the L0 attack of L0 on a queue of images.
func (cfg L0Config) Run(ctx context.Context, clf Classifier, x []float32, goals []Goal, size int, obs Observer, finished func(j int, r Result)) ([]Result, error) {
	return runBatch(ctx, clf, x, goals, size, func(j int, xj []float32, g Goal) slot { return newL0Slot(clf, cfg, j, xj, g, obs) }, finished)
}

// l0Slot is the L0 attack on one image as a state machine: restricted
// attacks on a shrinking allowed set, within one values of c, within a
// value of c Adam steps.
type l0Slot struct {
	clf         Classifier
	cfg         L0Config
	index       int
	x           []float32 // original
	g           Goal
	obs         Observer
	c           int // channels per pixel
	allowed     []bool
	nAllowed    int
	start, last []float32
	cst         float64 // the c the next restricted attack starts from
	solveConst  float64 // the c of the running restricted attack
	v           *boxVar
	f, bestL0   float64
	step, iters int
	finished    bool
}

func newL0Slot(clf Classifier, cfg L0Config, index int, x []float32, g Goal, obs Observer) *l0Slot {
	h, w, c := clf.InputShape()
	s := &l0Slot{clf: clf, cfg: cfg, index: index, x: x, g: g, obs: obs, c: c, allowed: make([]bool, h*w),
		start: append([]float32(nil), x...), cst: cfg.InitialConst,
		v: newBoxVar(len(x), cfg.LearningRate), bestL0: math.Inf(1)}
	for p := range s.allowed {
		s.allowed[p] = true
	}
	s.beginSolve()
	return s
}

// beginSolve starts a restricted attack on the allowed pixels from start,
// or ends the attack when no pixel is allowed any more.
func (s *l0Slot) beginSolve() {
	s.nAllowed = 0
	for _, a := range s.allowed {
		if a {
			s.nAllowed++
		}
	}
	s.v.restart(s.start)
	s.solveConst, s.step = s.cst, 0
	if s.nAllowed == 0 || s.solveConst >= s.cfg.LargestConst || s.cfg.MaxIterations <= 0 {
		s.finished = true
	}
}

func (s *l0Slot) done() bool { return s.finished }

// image is x' on the allowed pixels and the original elsewhere.
func (s *l0Slot) image() []float32 {
	img := s.v.image()
	for j := range img {
		if !s.allowed[j/s.c] {
			img[j] = s.x[j]
		}
	}
	return img
}

func (s *l0Slot) weights(z, w []float32) {
	s.f = objectiveWeights(z, w, s.g, l0Margin, s.solveConst)
}

func (s *l0Slot) update(grad, z []float32) {
	s.iters++
	// Gradient of the loss with respect to δ (zero where frozen).
	img := s.v.img
	s.v.distanceGradient(grad, s.x)
	for j := range grad {
		if !s.allowed[j/s.c] {
			grad[j] = 0
		}
	}
	reached := s.f < 1e-4*s.solveConst && (s.cfg.AbortEarly || s.step == s.cfg.MaxIterations-1) && s.g.Reached(z, 0)
	if s.obs != nil {
		s.obs(Step{Index: s.index, Iteration: s.iters, Const: s.solveConst, Search: L0Search{s.nAllowed}, Image: img, Logits: z,
			Best: s.last, BestDist: s.bestL0})
	}
	if reached {
		l0, _, _ := Distances(img, s.x, s.c)
		s.bestL0 = float64(l0)
		s.shrink(img, grad)
		s.beginSolve()
		return
	}
	s.v.step(grad)
	s.step++
	if s.step == s.cfg.MaxIterations {
		s.solveConst *= s.cfg.ConstFactor
		s.step = 0
		if s.solveConst >= s.cfg.LargestConst {
			s.finished = true // the restricted attack failed: the last success stands
		}
	}
}

// shrink records the restricted attack's solution sol (with the loss
// gradient there) and forbids the allowed pixels that mattered least.
func (s *l0Slot) shrink(sol, gradNorm []float32) {
	s.cst = s.solveConst
	if s.cfg.ReduceConst {
		s.cst /= 2
	}
	s.last = append(s.last[:0], sol...)
	changed, _, _ := Distances(sol, s.x, s.c)
	type change struct {
		p int
		v float64
	}
	var order []change
	for p := range s.allowed {
		var t float64
		for ch := range s.c {
			j := p*s.c + ch
			t += math.Abs(float64(sol[j]-s.x[j])) * math.Abs(float64(gradNorm[j]))
		}
		order = append(order, change{p, t})
	}
	sort.SliceStable(order, func(a, b int) bool { return order[a].v < order[b].v })
	did := 0
	for _, o := range order {
		if !s.allowed[o.p] {
			continue
		}
		did++
		s.allowed[o.p] = false
		if o.v > 0.01 || float64(did) >= 0.3*math.Sqrt(float64(changed)) {
			break
		}
	}
	s.start = append(s.start[:0], sol...)
}

func (s *l0Slot) result() Result { return finish(s.clf, s.x, s.last, s.g, s.iters) }
