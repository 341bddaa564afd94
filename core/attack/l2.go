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
// for each image the adversarial x' of smallest L2 distance found. Each
// image follows its own schedule (binary search, early abort) exactly as it
// would alone; the images share the forward and backward passes.
func L2(ctx context.Context, clf Classifier, cfg L2Config, x []float32, goals []Goal, obs Observer) ([]Result, error) {
	return cfg.Run(ctx, clf, x, goals, min(len(goals), batchSize), obs, nil)
}

// Name implements Attack.
func (L2Config) Name() string { return "l2" }

// Norm implements Attack.
func (L2Config) Norm() Norm { return NormL2 }

// Run implements Attack: the L2 attack of L2 on a queue of images.
func (cfg L2Config) Run(ctx context.Context, clf Classifier, x []float32, goals []Goal, size int, obs Observer, finished func(j int, r Result)) ([]Result, error) {
	return runBatch(ctx, clf, x, goals, size, func(j int, xj []float32, g Goal) slot { return newL2Slot(clf, cfg, j, xj, g, obs) }, finished)
}

// l2Slot is the L2 attack on one image as a state machine: binary-search
// steps over c, within one Adam steps with the reference code's early
// abort (every tenth of the budget, stop when the loss has not fallen by
// 0.01%).
type l2Slot struct {
	clf               Classifier
	cfg               L2Config
	index             int
	x                 []float32
	g                 Goal
	obs               Observer
	v                 *boxVar
	lower, upper, cst float64
	best              float64 // squared L2 of the best adversarial so far
	bestAdv           []float32
	bs, it, iters     int
	abortEvery        int
	prev, f           float64
	foundAtThisConst  bool
	finished          bool
}

func newL2Slot(clf Classifier, cfg L2Config, index int, x []float32, g Goal, obs Observer) *l2Slot {
	s := &l2Slot{clf: clf, cfg: cfg, index: index, x: x, g: g, obs: obs,
		v: newBoxVar(len(x), cfg.LearningRate), upper: 1e10, cst: cfg.InitialConst, best: math.Inf(1), abortEvery: max(cfg.MaxIterations/10, 1)}
	s.beginStep()
	return s
}

// beginStep starts binary-search step s.bs from the original image, or
// ends the attack after the last step.
func (s *l2Slot) beginStep() {
	if s.bs >= s.cfg.BinarySearchSteps || s.cfg.MaxIterations <= 0 {
		s.finished = true
		return
	}
	s.v.restart(s.x)
	s.foundAtThisConst, s.prev, s.it = false, math.Inf(1), 0
}

// endStep moves c by the binary search, as the reference code does, and
// starts the next step.
func (s *l2Slot) endStep() {
	if s.foundAtThisConst {
		s.upper = math.Min(s.upper, s.cst)
		if s.upper < 1e9 {
			s.cst = (s.lower + s.upper) / 2
		}
	} else {
		s.lower = math.Max(s.lower, s.cst)
		if s.upper < 1e9 {
			s.cst = (s.lower + s.upper) / 2
		} else {
			s.cst *= 10
		}
	}
	s.bs++
	s.beginStep()
}

func (s *l2Slot) done() bool { return s.finished }

func (s *l2Slot) image() []float32 { return s.v.image() }

func (s *l2Slot) weights(z, w []float32) {
	s.f = objectiveWeights(z, w, s.g, s.cfg.Confidence, s.cst)
}

func (s *l2Slot) update(grad, z []float32) {
	s.iters++
	img := s.v.img
	var d2 float64
	for j, xj := range s.x {
		d := float64(img[j] - xj)
		d2 += d * d
	}
	loss := d2 + s.cst*s.f
	if s.g.Reached(z, s.cfg.Confidence) {
		s.foundAtThisConst = true
		if d2 < s.best {
			s.best = d2
			s.bestAdv = append(s.bestAdv[:0], img...)
		}
	}
	if s.obs != nil {
		s.obs(Step{Index: s.index, Iteration: s.iters, Const: s.cst, Search: L2Search{s.bs},
			Image: img, Logits: z, Best: s.bestAdv, BestDist: math.Sqrt(s.best)})
	}
	if s.cfg.AbortEarly && s.it%s.abortEvery == 0 {
		if loss > s.prev*0.9999 {
			s.endStep()
			return
		}
		s.prev = loss
	}
	s.v.distanceGradient(grad, s.x)
	s.v.step(grad)
	s.it++
	if s.it == s.cfg.MaxIterations {
		s.endStep()
	}
}

func (s *l2Slot) result() Result { return finish(s.clf, s.x, s.bestAdv, s.g, s.iters) }
