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
// It repeatedly runs an L2-style attack (l0Solve) in which only an allowed
// set of pixels may change, warm-started from the previous solution. After
// each success it forbids the allowed pixels with the least effect,
// measured by |gradient|·|change| summed over channels: all of those below
// 0.01, at most 0.3·√(changed pixels) at a time, and at least one. It stops
// when the restricted attack fails, and returns the last success.
func L0(ctx context.Context, clf Classifier, cfg L0Config, x []float32, g Goal, obs Observer) (Result, error) {
	if err := checkInput(clf, x, 1); err != nil {
		return Result{}, err
	}
	if err := checkGoal(clf, g); err != nil {
		return Result{}, err
	}
	h, w, c := clf.InputShape()
	pixels := h * w
	allowed := make([]bool, pixels)
	for p := range allowed {
		allowed[p] = true
	}
	s := newL0State(clf, cfg, x, g, obs)
	start := append([]float32(nil), x...)
	var last []float32
	cst := cfg.InitialConst
	for {
		nAllowed := 0
		for _, a := range allowed {
			if a {
				nAllowed++
			}
		}
		if nAllowed == 0 {
			break
		}
		sol, gradNorm, newConst, err := s.solve(ctx, start, allowed, nAllowed, cst, last)
		if err != nil {
			return Result{}, err
		}
		if sol == nil {
			break
		}
		cst = newConst
		if cfg.ReduceConst {
			cst /= 2
		}
		last = append(last[:0], sol...)
		changed, _, _ := Distances(sol, x, c)
		type change struct {
			p int
			v float64
		}
		var order []change
		for p := range pixels {
			var t float64
			for ch := range c {
				j := p*c + ch
				t += math.Abs(float64(sol[j]-x[j])) * math.Abs(float64(gradNorm[j]))
			}
			order = append(order, change{p, t})
		}
		sort.SliceStable(order, func(a, b int) bool { return order[a].v < order[b].v })
		did := 0
		for _, o := range order {
			if !allowed[o.p] {
				continue
			}
			did++
			allowed[o.p] = false
			if o.v > 0.01 || float64(did) >= 0.3*math.Sqrt(float64(changed)) {
				break
			}
		}
		start = append(start[:0], sol...)
	}
	return finish(clf, x, last, g, s.iters), nil
}

// l0State holds the buffers of the restricted attacks of one L0 run.
type l0State struct {
	clf    Classifier
	cfg    L0Config
	x      []float32 // original
	g      Goal
	obs    Observer
	k      int
	iters  int
	tw, sw []float32 // original and start, tanh space
	mod    []float32
	img    []float32
	grad   []float32
	z      []float32
	opt    *adam
	bestL0 float64
}

func newL0State(clf Classifier, cfg L0Config, x []float32, g Goal, obs Observer) *l0State {
	n := len(x)
	s := &l0State{clf: clf, cfg: cfg, x: x, g: g, obs: obs, k: clf.Classes(),
		tw: make([]float32, n), sw: make([]float32, n), mod: make([]float32, n), img: make([]float32, n),
		grad: make([]float32, n), z: make([]float32, clf.Classes()), opt: newAdam(cfg.LearningRate, n), bestL0: math.Inf(1)}
	toTanh(s.tw, x)
	return s
}

// solve is the reference's inner attack ("doit"): pixels outside the allowed
// set keep their original values, the others are x' = tanh(start + mod)/2 +
// 1/2, and Adam minimises c·max(0, f(x') + 0.01) + ‖x' − x‖² with c
// starting at cst and doubling on failure. It returns the first iterate
// that reaches the goal, the gradient of the loss there, and the c used; or
// nil when c passes LargestConst.
func (s *l0State) solve(ctx context.Context, start []float32, allowed []bool, nAllowed int, cst float64, best []float32) ([]float32, []float32, float64, error) {
	_, _, c := s.clf.InputShape()
	toTanh(s.sw, start)
	clear(s.mod)
	s.opt.reset()
	var f float64
	for cst < s.cfg.LargestConst {
		for step := range s.cfg.MaxIterations {
			if err := ctx.Err(); err != nil {
				return nil, nil, 0, err
			}
			for j := range s.img {
				if allowed[j/c] {
					s.img[j] = float32(math.Tanh(float64(s.sw[j]+s.mod[j])))/2 + 0.5
				} else {
					s.img[j] = s.x[j]
				}
			}
			s.clf.Gradient(s.grad, s.z, s.img, 1, func(_ int, zi, wi []float32) {
				clear(wi)
				v, up, down := hinge(zi, s.g, l0Margin)
				f = max(v, 0)
				if v > 0 {
					wi[up], wi[down] = float32(cst), -float32(cst)
				}
			})
			s.iters++
			// Gradient of the loss with respect to mod (zero where frozen).
			for j := range s.grad {
				y := s.img[j]
				if allowed[j/c] {
					s.grad[j] = (2*(y-s.x[j]) + s.grad[j]) * 2 * y * (1 - y)
				} else {
					s.grad[j] = 0
				}
			}
			done := f < 1e-4*cst && (s.cfg.AbortEarly || step == s.cfg.MaxIterations-1) && s.g.Reached(s.z, 0)
			if s.obs != nil {
				s.obs(Step{Attack: "l0", Iteration: s.iters, Const: cst, Allowed: nAllowed, Image: s.img, Logits: s.z,
					Best: best, BestDist: s.bestL0})
			}
			if done {
				l0, _, _ := Distances(s.img, s.x, c)
				s.bestL0 = float64(l0)
				return append([]float32(nil), s.img...), append([]float32(nil), s.grad...), cst, nil
			}
			s.opt.step(s.mod, s.grad, 0, len(s.mod))
		}
		cst *= s.cfg.ConstFactor
	}
	return nil, nil, cst, nil
}
