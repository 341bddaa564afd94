package attack

import (
	"context"
	"math"
	"slices"
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

func sameResult(a, b Result) bool {
	return a.Success == b.Success && a.Iterations == b.Iterations && a.L0 == b.L0 && a.L2 == b.L2 && a.LInf == b.LInf &&
		a.Predicted == b.Predicted && slices.Equal(a.Adversarial, b.Adversarial)
}

// TestLInfBatchedEqualsAlone checks, on the tiny MNIST net and eight gallery
// digits, that the L∞ attack gives bit for bit the same result per image
// alone (the pre-batching loop), through LInf, and in batches of 3 and 8
// (where finished images are replaced from the queue mid-run).
func TestLInfBatchedEqualsAlone(t *testing.T) {
	f := load(t)
	clf := NewModel(f.model, 1)
	cfg := DefaultLInf()
	cfg.MaxIterations, cfg.InitialConst, cfg.LearningRate = 30, 0.1, 0.05
	const n = 8
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
		r, err := linfReference(ctx, clf, cfg, x[i*is:(i+1)*is], goals[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		ref = append(ref, r)
		alone, err := LInf(ctx, clf, cfg, x[i*is:(i+1)*is], goals[i], nil)
		if err != nil || !sameResult(alone, r) {
			t.Fatalf("image %d: LInf %+v (%v), reference %+v", i, alone, err, r)
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
	for _, size := range []int{3, n} {
		seen := map[int]int{}
		got, err := LInfBatch(ctx, clf, cfg, x, goals, size, func(s Step) { seen[s.Index]++ })
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
	clf := NewModel(f.model, 1)
	var x []float32
	var goals []Goal
	for i := range 4 {
		x = append(x, f.digits.Image(i)...)
		goals = append(goals, Goal{Label: int(f.digits.Labels[i]), Target: (int(f.digits.Labels[i]) + 1) % 10})
	}
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	rs, err := LInfBatch(ctx, clf, DefaultLInf(), x, goals, 4, func(Step) {
		steps++
		if steps == 10 {
			cancel()
		}
	})
	if err == nil || rs != nil || steps > 12 {
		t.Fatalf("after cancel: %d results, err %v, %d steps", len(rs), err, steps)
	}
}
