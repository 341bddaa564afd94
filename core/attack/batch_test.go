package attack

import (
	"context"
	"math"
	"slices"
	"sort"
	"testing"
)

// linfReference is the L∞ attack as it was written before batching, one
// image at a time with nested loops: the batched state machine must take
// exactly its decisions.
func linfReference(ctx context.Context, clf Classifier, cfg LInfConfig, x []float32, g Goal, obs Observer) (Result, error) {
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
	opt := newAdamReference(cfg.LearningRate, n)
	start := append([]float32(nil), x...)
	var last []float32
	bestDist := math.Inf(1)
	tau := 1.0
	cst := cfg.InitialConst
	iters := 0
	for tau > 1.0/256 {
		toTanhReference(sw, start)
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
					obs(Step{Iteration: iters, Const: cst, Search: LInfSearch{tau}, Image: img, Logits: z, Best: last, BestDist: bestDist})
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

// l0Reference is the L0 attack as it was written before batching.
func l0Reference(ctx context.Context, clf Classifier, cfg L0Config, x []float32, g Goal, obs Observer) (Result, error) {
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
	s := newL0RefState(clf, cfg, x, g, obs)
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

// l0RefState holds the buffers of the restricted attacks of one L0 run.
type l0RefState struct {
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
	opt    *adamReference
	bestL0 float64
}

func newL0RefState(clf Classifier, cfg L0Config, x []float32, g Goal, obs Observer) *l0RefState {
	n := len(x)
	s := &l0RefState{clf: clf, cfg: cfg, x: x, g: g, obs: obs, k: clf.Classes(),
		tw: make([]float32, n), sw: make([]float32, n), mod: make([]float32, n), img: make([]float32, n),
		grad: make([]float32, n), z: make([]float32, clf.Classes()), opt: newAdamReference(cfg.LearningRate, n), bestL0: math.Inf(1)}
	toTanhReference(s.tw, x)
	return s
}

// solve is the reference's inner attack ("doit"): pixels outside the allowed
// set keep their original values, the others are x' = tanh(start + mod)/2 +
// 1/2, and Adam minimises c·max(0, f(x') + 0.01) + ‖x' − x‖² with c
// starting at cst and doubling on failure. It returns the first iterate
// that reaches the goal, the gradient of the loss there, and the c used; or
// nil when c passes LargestConst.
func (s *l0RefState) solve(ctx context.Context, start []float32, allowed []bool, nAllowed int, cst float64, best []float32) ([]float32, []float32, float64, error) {
	_, _, c := s.clf.InputShape()
	toTanhReference(s.sw, start)
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
				s.obs(Step{Iteration: s.iters, Const: cst, Search: L0Search{nAllowed}, Image: s.img, Logits: s.z,
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

// l2Reference is the L2 attack as it was written before batching (it took
// a batch, with one early abort for the whole batch; alone it is the
// reference's algorithm).
func l2Reference(ctx context.Context, clf Classifier, cfg L2Config, x []float32, goals []Goal, obs Observer) ([]Result, error) {
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
	toTanhReference(tw, x)
	mod := make([]float32, n*is)  // the variable being optimised
	img := make([]float32, n*is)  // x' = tanh(tw + mod)/2 + 1/2
	grad := make([]float32, n*is) // d logits-part / d x'
	z := make([]float32, n*k)     // logits of x'
	l2 := make([]float64, n)      // ‖x' − x‖² per image
	f := make([]float64, n)       // hinge per image
	iters := make([]int, n)
	opt := newAdamReference(cfg.LearningRate, n*is)
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
					obs(Step{Index: i, Iteration: iters[i], Const: cst[i], Search: L2Search{bs},
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

// toTanhReference is the change of variables as it was written before
// the tanh box was written once (boxVar.restart).
func toTanhReference(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Atanh((float64(v) - 0.5) * 2 * 0.999999))
	}
}

// adamReference is Adam as it was written before the gradient step was
// written once (boxVar.step).
type adamReference struct {
	lr   float64
	m, v []float32
	t    int
}

func newAdamReference(lr float64, n int) *adamReference {
	return &adamReference{lr: lr, m: make([]float32, n), v: make([]float32, n)}
}

func (a *adamReference) reset() {
	clear(a.m)
	clear(a.v)
	a.t = 0
}

func (a *adamReference) step(params, grads []float32, lo, hi int) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	lrT := float32(a.lr * math.Sqrt(1-math.Pow(b2, float64(a.t))) / (1 - math.Pow(b1, float64(a.t))))
	m, v := a.m[lo:hi], a.v[lo:hi]
	p, g := params[lo:hi], grads[lo:hi]
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		p[i] -= lrT * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
	}
}

func sameResult(a, b Result) bool {
	return a.Success == b.Success && a.Iterations == b.Iterations && a.L0 == b.L0 && a.L2 == b.L2 && a.LInf == b.LInf &&
		a.Predicted == b.Predicted && slices.Equal(a.Adversarial, b.Adversarial)
}

type oneAttack func(ctx context.Context, clf Classifier, x []float32, g Goal, obs Observer) (Result, error)
type batchAttack func(ctx context.Context, clf Classifier, x []float32, goals []Goal, size int, obs Observer) ([]Result, error)

// TestBatchedEqualsAlone checks, on the tiny MNIST net and six gallery
// digits, that the L∞ and L0 attacks give bit for bit the same result per
// image alone (the pre-batching loops), through LInf and L0, and in
// batches of 4 and 6 (where finished images are replaced from the queue
// mid-run).
func TestBatchedEqualsAlone(t *testing.T) {
	linf := DefaultLInf()
	linf.MaxIterations, linf.InitialConst, linf.LearningRate = 30, 0.1, 0.05
	l0 := DefaultL0()
	l0.MaxIterations, l0.InitialConst, l0.LearningRate = 30, 1, 0.1
	l2 := DefaultL2()
	l2.BinarySearchSteps, l2.MaxIterations, l2.LearningRate, l2.InitialConst = 4, 60, 0.1, 1
	for _, c := range []struct {
		name       string
		ref, alone oneAttack
		batch      batchAttack
	}{
		{"linf",
			func(ctx context.Context, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
				return linfReference(ctx, clf, linf, x, g, obs)
			},
			func(ctx context.Context, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
				return LInf(ctx, clf, linf, x, g, obs)
			},
			func(ctx context.Context, clf Classifier, x []float32, gs []Goal, size int, obs Observer) ([]Result, error) {
				return linf.Run(ctx, clf, x, gs, size, obs, nil)
			}},
		{"l0",
			func(ctx context.Context, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
				return l0Reference(ctx, clf, l0, x, g, obs)
			},
			func(ctx context.Context, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
				return L0(ctx, clf, l0, x, g, obs)
			},
			func(ctx context.Context, clf Classifier, x []float32, gs []Goal, size int, obs Observer) ([]Result, error) {
				return l0.Run(ctx, clf, x, gs, size, obs, nil)
			}},
		{"l2",
			func(ctx context.Context, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
				rs, err := l2Reference(ctx, clf, l2, x, []Goal{g}, obs)
				if err != nil {
					return Result{}, err
				}
				return rs[0], nil
			},
			func(ctx context.Context, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
				rs, err := L2(ctx, clf, l2, x, []Goal{g}, obs)
				if err != nil {
					return Result{}, err
				}
				return rs[0], nil
			},
			func(ctx context.Context, clf Classifier, x []float32, gs []Goal, size int, obs Observer) ([]Result, error) {
				return l2.Run(ctx, clf, x, gs, size, obs, nil)
			}},
	} {
		t.Run(c.name, func(t *testing.T) { testBatchedEqualsAlone(t, c.ref, c.alone, c.batch) })
	}
}

func testBatchedEqualsAlone(t *testing.T, reference, one oneAttack, batch batchAttack) {
	f := load(t)
	clf := NewClassifier(f.model, 1)
	const n = 6
	var x []float32
	var goals []Goal
	for i := range n {
		x = append(x, f.digits.Image(i)...)
		label := int(f.digits.Labels[i])
		goals = append(goals, Goal{Label: label, Target: RandomTarget(1, i, label, 10)})
	}
	is := len(x) / n
	ctx := context.Background()
	var ref []Result
	for i := range n {
		r, err := reference(ctx, clf, x[i*is:(i+1)*is], goals[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		ref = append(ref, r)
		alone, err := one(ctx, clf, x[i*is:(i+1)*is], goals[i], nil)
		if err != nil || !sameResult(alone, r) {
			t.Fatalf("image %d: alone %+v (%v), reference %+v", i, alone, err, r)
		}
	}
	successes, iters := 0, map[int]bool{}
	for _, r := range ref {
		if r.Success {
			successes++
		}
		iters[r.Iterations] = true
	}
	if successes < n/2 || len(iters) < 2 {
		t.Fatalf("weak fixture: %d of %d succeed, iteration counts %v", successes, n, iters)
	}
	for _, size := range []int{4, n} {
		seen := map[int]int{}
		got, err := batch(ctx, clf, x, goals, size, func(s Step) { seen[s.Index]++ })
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if !sameResult(got[i], ref[i]) {
				t.Errorf("batch %d, image %d: %+v, alone %+v", size, i, got[i], ref[i])
			}
			if seen[i] != ref[i].Iterations {
				t.Errorf("batch %d, image %d: %d observed steps, %d iterations", size, i, seen[i], ref[i].Iterations)
			}
			if got[i].Success {
				for _, v := range got[i].Adversarial {
					if v < 0 || v > 1 || math.IsNaN(float64(v)) {
						t.Fatalf("image %d: adversarial value %v outside [0, 1]", i, v)
					}
				}
				if got[i].Predicted != goals[i].Target {
					t.Errorf("image %d: success classified %d, goal %d", i, got[i].Predicted, goals[i].Target)
				}
			}
		}
	}
}

// TestBatchCancel checks that a cancelled batched run stops and reports no
// result.
func TestBatchCancel(t *testing.T) {
	f := load(t)
	clf := NewClassifier(f.model, 1)
	var x []float32
	var goals []Goal
	for i := range 4 {
		x = append(x, f.digits.Image(i)...)
		goals = append(goals, Goal{Label: int(f.digits.Labels[i]), Target: (int(f.digits.Labels[i]) + 1) % 10})
	}
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	rs, err := DefaultLInf().Run(ctx, clf, x, goals, 4, func(Step) {
		steps++
		if steps == 10 {
			cancel()
		}
	}, nil)
	if err == nil || rs != nil || steps > 12 {
		t.Fatalf("after cancel: %d results, err %v, %d steps", len(rs), err, steps)
	}
}
