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
	rs, err := L0Batch(ctx, clf, cfg, x, []Goal{g}, 1, obs)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// L0Batch runs the L0 attack on len(goals) images x (one goal each), size
// at a time in one batch (batchSize when size <= 0), refilling a finished
// image's place from the queue. Each image follows exactly the schedule it
// follows alone in L0; its Steps carry its index.
func L0Batch(ctx context.Context, clf Classifier, cfg L0Config, x []float32, goals []Goal, size int, obs Observer) ([]Result, error) {
	return runBatch(ctx, clf, x, goals, size, func(j int, xj []float32, g Goal) slot { return newL0Slot(clf, cfg, j, xj, g, obs) }, nil)
}

// l0Slot is the L0 attack on one image as a state machine: restricted
// attacks on a shrinking allowed set, within one values of c, within a
// value of c Adam steps.
type l0Slot struct {
	clf          Classifier
	cfg          L0Config
	index        int
	x            []float32 // original
	g            Goal
	obs          Observer
	c            int // channels per pixel
	allowed      []bool
	nAllowed     int
	start, last  []float32
	cst          float64 // the c the next restricted attack starts from
	solveConst   float64 // the c of the running restricted attack
	sw, mod, img []float32
	opt          *adam
	f, bestL0    float64
	step, iters  int
	finished     bool
}

func newL0Slot(clf Classifier, cfg L0Config, index int, x []float32, g Goal, obs Observer) *l0Slot {
	h, w, c := clf.InputShape()
	n := len(x)
	s := &l0Slot{clf: clf, cfg: cfg, index: index, x: x, g: g, obs: obs, c: c, allowed: make([]bool, h*w),
		start: append([]float32(nil), x...), cst: cfg.InitialConst,
		sw: make([]float32, n), mod: make([]float32, n), img: make([]float32, n), opt: newAdam(cfg.LearningRate, n), bestL0: math.Inf(1)}
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
	toTanh(s.sw, s.start)
	clear(s.mod)
	s.opt.reset()
	s.solveConst, s.step = s.cst, 0
	if s.nAllowed == 0 || s.solveConst >= s.cfg.LargestConst || s.cfg.MaxIterations <= 0 {
		s.finished = true
	}
}

func (s *l0Slot) done() bool { return s.finished }

func (s *l0Slot) image() []float32 {
	for j := range s.img {
		if s.allowed[j/s.c] {
			s.img[j] = float32(math.Tanh(float64(s.sw[j]+s.mod[j])))/2 + 0.5
		} else {
			s.img[j] = s.x[j]
		}
	}
	return s.img
}

func (s *l0Slot) weights(z, w []float32) {
	clear(w)
	v, up, down := hinge(z, s.g, l0Margin)
	s.f = max(v, 0)
	if v > 0 {
		w[up], w[down] = float32(s.solveConst), -float32(s.solveConst)
	}
}

func (s *l0Slot) update(grad, z []float32) {
	s.iters++
	// Gradient of the loss with respect to mod (zero where frozen).
	for j := range grad {
		y := s.img[j]
		if s.allowed[j/s.c] {
			grad[j] = (2*(y-s.x[j]) + grad[j]) * 2 * y * (1 - y)
		} else {
			grad[j] = 0
		}
	}
	reached := s.f < 1e-4*s.solveConst && (s.cfg.AbortEarly || s.step == s.cfg.MaxIterations-1) && s.g.Reached(z, 0)
	if s.obs != nil {
		s.obs(Step{Attack: "l0", Index: s.index, Iteration: s.iters, Const: s.solveConst, Allowed: s.nAllowed, Image: s.img, Logits: z,
			Best: s.last, BestDist: s.bestL0})
	}
	if reached {
		l0, _, _ := Distances(s.img, s.x, s.c)
		s.bestL0 = float64(l0)
		s.shrink(s.img, grad)
		s.beginSolve()
		return
	}
	s.opt.step(s.mod, grad, 0, len(s.mod))
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
