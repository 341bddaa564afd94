package attack

import (
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// fixture: a tiny CNN trained on MNIST (testdata/tiny-mnist.safetensors,
// 97.8% test accuracy) and the first 100 MNIST test digits (the demo's
// gallery, in pretrained/).
type fixture struct {
	model  *nn.Model
	digits *data.Set
}

func load(t testing.TB) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := weights.Load(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Open("../../pretrained/gallery-images.idx")
	if err != nil {
		t.Fatal(err)
	}
	defer fi.Close()
	fl, err := os.Open("../../pretrained/gallery-labels.idx")
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	set, err := data.ReadMNIST("mnist-test-100", fi, fl)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{m, set}
}

// sample returns the first n digits the model classifies correctly, each
// with the goal "become class (label+1) mod 10".
func (f fixture) sample(t testing.TB, n int) ([][]float32, []Goal) {
	clf := NewClassifier(f.model, 1)
	z := make([]float32, 10)
	var xs [][]float32
	var goals []Goal
	for i := 0; i < f.digits.Len() && len(xs) < n; i++ {
		x := f.digits.Image(i)
		clf.Logits(z, x, 1)
		l := int(f.digits.Labels[i])
		if nn.Argmax(z) != l {
			continue
		}
		xs = append(xs, x)
		goals = append(goals, Goal{Label: l, Target: (l + 1) % 10})
	}
	if len(xs) < n {
		t.Fatalf("only %d correctly classified digits", len(xs))
	}
	return xs, goals
}

// Budgets for tests: the real algorithms, with fewer iterations.
func testL2() L2Config {
	c := DefaultL2()
	c.BinarySearchSteps, c.MaxIterations = 6, 1000
	return c
}

func testL0() L0Config {
	c := DefaultL0()
	c.MaxIterations = 300
	return c
}

func testLInf() LInfConfig {
	c := DefaultLInf()
	c.MaxIterations = 300
	return c
}

func flat(xs [][]float32) []float32 {
	var out []float32
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

// checkAdversarial asserts that a successful result is really adversarial:
// inside the box, classified as its goal asks, and its distances true.
func checkAdversarial(t *testing.T, clf Classifier, x []float32, r Result) {
	t.Helper()
	if !r.Success {
		t.Fatalf("attack failed for goal %+v", r.Goal)
	}
	for i, v := range r.Adversarial {
		if v < 0 || v > 1 || math.IsNaN(float64(v)) {
			t.Fatalf("value %v at %d outside [0, 1]", v, i)
		}
	}
	z := make([]float32, clf.Classes())
	clf.Logits(z, r.Adversarial, 1)
	if !r.Goal.Reached(z, 0) || nn.Argmax(z) != r.Predicted {
		t.Fatalf("adversarial image classified %d (logits %v), goal %+v", nn.Argmax(z), z, r.Goal)
	}
	if r.Goal.Targeted() && r.Predicted != r.Goal.Target {
		t.Fatalf("predicted %d, target %d", r.Predicted, r.Goal.Target)
	}
	l0, l2, li := Distances(r.Adversarial, x, 1)
	if l0 != r.L0 || math.Abs(l2-r.L2) > 1e-9 || math.Abs(li-r.LInf) > 1e-9 {
		t.Fatalf("reported distances %d %v %v, actual %d %v %v", r.L0, r.L2, r.LInf, l0, l2, li)
	}
	if r.L0 == 0 {
		t.Fatal("adversarial image equals the original")
	}
}

// TestAttacksOnUndefendedMNIST runs all three attacks and the baseline on
// the same digits and checks the claims of Carlini & Wagner: every attack
// succeeds, L2 finds smaller L2 perturbations than a gradient-sign step,
// L0 changes fewer pixels than L2, and L∞ has a smaller L∞ distance than L2.
func TestAttacksOnUndefendedMNIST(t *testing.T) {
	f := load(t)
	n := 6
	if testing.Short() {
		n = 3
	}
	xs, goals := f.sample(t, n)
	clf := NewClassifier(f.model, 0)
	ctx := context.Background()
	l2s, err := L2(ctx, clf, testL2(), flat(xs), goals, nil)
	if err != nil {
		t.Fatal(err)
	}
	single := NewClassifier(f.model, 1)
	signSuccesses := 0
	for i, x := range xs {
		r2 := l2s[i]
		checkAdversarial(t, single, x, r2)
		gs, err := GradientSign(ctx, single, x, goals[i])
		if err != nil {
			t.Fatal(err)
		}
		if gs.Success {
			signSuccesses++
		}
		// A failed sign step has no finite distance: L2 wins by definition.
		if gs.Success && !(r2.L2 < gs.L2) {
			t.Errorf("digit %d: L2 attack distance %.3f not below gradient sign's %.3f", i, r2.L2, gs.L2)
		}
		r0, err := L0(ctx, single, testL0(), x, goals[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		checkAdversarial(t, single, x, r0)
		if !(r0.L0 < r2.L0) {
			t.Errorf("digit %d: L0 attack changed %d pixels, L2 attack %d", i, r0.L0, r2.L0)
		}
		ri, err := LInf(ctx, single, testLInf(), x, goals[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		checkAdversarial(t, single, x, ri)
		if !(ri.LInf < r2.LInf) {
			t.Errorf("digit %d: L∞ attack L∞ %.3f, L2 attack L∞ %.3f", i, ri.LInf, r2.LInf)
		}
		t.Logf("digit %d→%d: L2 %.3f (sign step %.3f, success %v), L0 %d px (L2's %d), L∞ %.3f (L2's %.3f)",
			goals[i].Label, goals[i].Target, r2.L2, gs.L2, gs.Success, r0.L0, r2.L0, ri.LInf, r2.LInf)
	}
	if signSuccesses == 0 {
		t.Error("the gradient-sign baseline never succeeded: the comparison is vacuous")
	}
}

func TestUntargeted(t *testing.T) {
	f := load(t)
	xs, goals := f.sample(t, 2)
	clf := NewClassifier(f.model, 1)
	for i, x := range xs {
		g := Goal{Label: goals[i].Label, Target: Untargeted}
		for name, run := range map[string]func() (Result, error){
			"l2": func() (Result, error) {
				rs, err := L2(context.Background(), clf, testL2(), x, []Goal{g}, nil)
				if err != nil {
					return Result{}, err
				}
				return rs[0], nil
			},
			"l0":   func() (Result, error) { return L0(context.Background(), clf, testL0(), x, g, nil) },
			"linf": func() (Result, error) { return LInf(context.Background(), clf, testLInf(), x, g, nil) },
		} {
			r, err := run()
			if err != nil {
				t.Fatal(err)
			}
			checkAdversarial(t, clf, x, r)
			if r.Predicted == g.Label {
				t.Fatalf("%s: untargeted result still classified %d", name, g.Label)
			}
		}
	}
}

// An image the attack cannot move must be reported as a failure, with the
// original image, never as a success.
func TestImpossibleGoalFails(t *testing.T) {
	f := load(t)
	xs, goals := f.sample(t, 1)
	clf := NewClassifier(f.model, 1)
	cfg := DefaultLInf()
	cfg.MaxIterations, cfg.LargestConst = 5, 1e-4 // no budget at all
	r, err := LInf(context.Background(), clf, cfg, xs[0], goals[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Success || r.L0 != 0 || r.Predicted != goals[0].Label {
		t.Fatalf("result %+v should be a failure returning the original", r)
	}
	l2cfg := testL2()
	l2cfg.BinarySearchSteps, l2cfg.MaxIterations = 1, 3
	rs, err := L2(context.Background(), clf, l2cfg, xs[0], goals[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Success {
		t.Fatal("3 iterations at c=1e-3 reported success")
	}
}

func TestObserverAndCancel(t *testing.T) {
	f := load(t)
	xs, goals := f.sample(t, 1)
	clf := NewClassifier(f.model, 1)
	for _, c := range []struct {
		name   string
		search Search
	}{{"l2", L2Search{}}, {"l0", L0Search{}}, {"linf", LInfSearch{}}} {
		name := c.name
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var steps []Step
			obs := func(s Step) {
				if reflect.TypeOf(s.Search) != reflect.TypeOf(c.search) {
					t.Errorf("step with search state %T", s.Search)
				}
				if len(s.Image) != 784 || len(s.Logits) != 10 {
					t.Errorf("step with %d values, %d logits", len(s.Image), len(s.Logits))
				}
				steps = append(steps, s)
				if len(steps) == 50 {
					cancel()
				}
			}
			start := time.Now()
			var err error
			switch name {
			case "l2":
				_, err = L2(ctx, clf, DefaultL2(), xs[0], goals[:1], obs)
			case "l0":
				_, err = L0(ctx, clf, DefaultL0(), xs[0], goals[0], obs)
			case "linf":
				_, err = LInf(ctx, clf, DefaultLInf(), xs[0], goals[0], obs)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			if len(steps) != 50 {
				t.Fatalf("%d steps observed after cancel at 50", len(steps))
			}
			for i := 1; i < len(steps); i++ {
				if steps[i].Iteration != steps[i-1].Iteration+1 {
					t.Fatalf("iterations %d then %d", steps[i-1].Iteration, steps[i].Iteration)
				}
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("cancel took %v", d)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	f := load(t)
	clf := NewClassifier(f.model, 1)
	good := f.digits.Image(0)
	nan := append([]float32(nil), good...)
	nan[5] = float32(math.NaN())
	big := append([]float32(nil), good...)
	big[5] = 1.5
	g := Goal{Label: 7, Target: 3}
	cases := []struct {
		name string
		x    []float32
		g    Goal
	}{
		{"short image", good[:700], g},
		{"NaN", nan, g},
		{"outside box", big, g},
		{"target = label", good, Goal{Label: 7, Target: 7}},
		{"target out of range", good, Goal{Label: 7, Target: 10}},
		{"label out of range", good, Goal{Label: -2, Target: 1}},
	}
	ctx := context.Background()
	for _, c := range cases {
		if _, err := L2(ctx, clf, testL2(), c.x, []Goal{c.g}, nil); err == nil {
			t.Errorf("L2 %s: no error", c.name)
		}
		if _, err := L0(ctx, clf, testL0(), c.x, c.g, nil); err == nil {
			t.Errorf("L0 %s: no error", c.name)
		}
		if _, err := LInf(ctx, clf, testLInf(), c.x, c.g, nil); err == nil {
			t.Errorf("LInf %s: no error", c.name)
		}
		if _, err := GradientSign(ctx, clf, c.x, c.g); err == nil {
			t.Errorf("GradientSign %s: no error", c.name)
		}
	}
}

func TestGoalsAndHinge(t *testing.T) {
	z := []float32{1, 5, 3, -2}
	cases := []struct {
		g        Goal
		kappa    float64
		v        float64
		up, down int
		reached  bool
	}{
		{Goal{Label: 1, Target: 2}, 0, 2, 1, 2, false}, // max other 5 − 3
		{Goal{Label: 0, Target: 1}, 0, -2, 2, 1, true}, // 3 − 5
		{Goal{Label: 0, Target: 1}, 3, 1, 2, 1, false}, // must win by 3
		{Goal{Label: 1, Target: Untargeted}, 0, 2, 1, 2, false},
		{Goal{Label: 2, Target: Untargeted}, 0, -2, 2, 1, true},
	}
	for _, c := range cases {
		v, up, down := hinge(z, c.g, c.kappa)
		if v != c.v || up != c.up || down != c.down {
			t.Errorf("hinge(%+v, κ=%v) = %v, %d, %d; want %v, %d, %d", c.g, c.kappa, v, up, down, c.v, c.up, c.down)
		}
		if got := c.g.Reached(z, c.kappa); got != c.reached {
			t.Errorf("Reached(%+v, κ=%v) = %v", c.g, c.kappa, got)
		}
	}
	for _, m := range []struct {
		mode string
		n    int
		ok   bool
	}{{"untargeted", 1, true}, {"random", 1, true}, {"all", 3, true}, {"least", 1, true}, {"2", 1, true},
		{"1", 0, false}, {"9", 0, false}, {"x", 0, false}, {"-1", 0, false}, {"02", 0, false}} {
		gs, err := Goals(m.mode, 1, 4, z, 1, 7)
		if (err == nil) != m.ok || len(gs) != m.n {
			t.Errorf("Goals(%q) = %v, %v", m.mode, gs, err)
		}
		for _, g := range gs {
			if g.Target == 1 {
				t.Errorf("Goals(%q) targets the label", m.mode)
			}
		}
	}
	if gs, _ := Goals("least", 1, 4, z, 1, 7); gs[0].Target != 3 {
		t.Errorf("least likely target %d, want 3", gs[0].Target)
	}
}

// TestRandomTargetIsPerSample checks that the random target depends on the
// seed and the image's position only, is never the label, and covers every
// other class.
func TestRandomTargetIsPerSample(t *testing.T) {
	seen := map[int]bool{}
	for k := range 200 {
		label := k % 10
		a, b := RandomTarget(7, k, label, 10), RandomTarget(7, k, label, 10)
		if a != b || a == label || a < 0 || a > 9 {
			t.Fatalf("sample %d: targets %d, %d for label %d", k, a, b, label)
		}
		if gs, err := Goals("random", label, 10, nil, 7, k); err != nil || gs[0].Target != a {
			t.Fatalf("sample %d: Goals gives %v, %v; RandomTarget %d", k, gs, err, a)
		}
		seen[a] = true
	}
	if len(seen) != 10 {
		t.Errorf("targets %v do not cover every class", seen)
	}
}

func TestAdamMatchesHandComputation(t *testing.T) {
	a := newAdam(0.1, 1)
	p := []float32{1}
	a.step(p, []float32{2})
	// t=1: m = 0.2, v = 0.004, lr_t = 0.1·√0.001/0.1, step = lr_t·m/(√v+ε) ≈ 0.1.
	if math.Abs(float64(p[0])-0.9) > 1e-5 {
		t.Fatalf("after one step p = %v, want 0.9", p[0])
	}
}

func TestDistances(t *testing.T) {
	a := []float32{0, 0, 0.5, 0.5, 1, 1}
	b := []float32{0, 0.00001, 0.5, 0.8, 0, 1}
	l0, l2, li := Distances(a, b, 2)
	if l0 != 2 || math.Abs(l2-math.Sqrt(0.09+1)) > 1e-6 || math.Abs(li-1) > 1e-9 {
		t.Fatalf("distances %d %v %v", l0, l2, li)
	}
}

func TestCheckGoalMode(t *testing.T) {
	for _, c := range []struct {
		mode string
		ok   bool
	}{{"untargeted", true}, {"random", true}, {"all", true}, {"least", true}, {"0", true}, {"9", true},
		{"10", false}, {"11", false}, {"-1", false}, {"07", false}, {"sideways", false}, {"", false}} {
		if err := CheckGoalMode(c.mode, 10); (err == nil) != c.ok {
			t.Errorf("CheckGoalMode(%q, 10) = %v", c.mode, err)
		}
	}
}
