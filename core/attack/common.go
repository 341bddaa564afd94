package attack

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tadd-project/tadd/core/nn"
)

// Goal is what one attack on one image tries to achieve.
type Goal struct {
	Label  int // the image's true (or currently predicted) class
	Target int // the class to reach; Untargeted for any class but Label
}

// Untargeted is the Target of an untargeted goal.
const Untargeted = -1

// Targeted reports whether the goal names a target class.
func (g Goal) Targeted() bool { return g.Target != Untargeted }

// Reached reports whether logits z satisfy the goal with margin kappa, as the
// reference code's compare: the target must win by kappa (targeted), or the
// label must lose by kappa (untargeted).
func (g Goal) Reached(z []float32, kappa float64) bool {
	if g.Targeted() {
		for i, v := range z {
			if i != g.Target && float64(v) >= float64(z[g.Target])-kappa {
				return false
			}
		}
		return true
	}
	for i, v := range z {
		if i != g.Label && float64(v) > float64(z[g.Label])+kappa {
			return true
		}
	}
	return false
}

// hinge is the f6 objective without the −κ floor: for a targeted goal
// max_{i≠t} Z_i − Z_t + κ, untargeted Z_y − max_{i≠y} Z_i + κ. It returns
// the value and the classes whose logits it increases (up) and decreases
// (down), so that its gradient is e_up − e_down when the value is positive.
func hinge(z []float32, g Goal, kappa float64) (v float64, up, down int) {
	ref := g.Target
	if !g.Targeted() {
		ref = g.Label
	}
	other := -1
	for i, x := range z {
		if i != ref && (other < 0 || x > z[other]) {
			other = i
		}
	}
	if g.Targeted() {
		return float64(z[other]) - float64(z[ref]) + kappa, other, ref
	}
	return float64(z[ref]) - float64(z[other]) + kappa, ref, other
}

// objectiveWeights fills w with the gradient of c·max(f(z), 0) with
// respect to the logits z, f the hinge of goal g with margin kappa, and
// returns max(f(z), 0): the logit weights every C&W attack asks
// Classifier.Gradient for.
func objectiveWeights(z, w []float32, g Goal, kappa, c float64) float64 {
	clear(w)
	v, up, down := hinge(z, g, kappa)
	if v > 0 {
		w[up], w[down] = float32(c), -float32(c)
	}
	return max(v, 0)
}

// CheckGoalMode reports a mode that Goals does not take for a model of
// classes classes, so that a command can refuse it before any work.
func CheckGoalMode(mode string, classes int) error {
	switch mode {
	case "untargeted", "random", "all", "least":
		return nil
	}
	_, err := Goals(mode, -1, classes, nil, 0, 0)
	return err
}

// RandomTarget is the random target of the image at position index of a
// test set: a class other than label, drawn from seed and index alone. It
// is the one random-target rule: every command (evaluate, reproduce,
// attack), every shard of a run and the demo attack the same target on the
// same image for the same seed.
func RandomTarget(seed uint64, index, label, classes int) int {
	r := rand.New(rand.NewPCG(seed, uint64(index)))
	t := r.IntN(classes - 1)
	if t >= label {
		t++
	}
	return t
}

// Goals builds the goals of an attack mode for the image at position index
// of a test set, of class label: "untargeted", "random" (RandomTarget of
// seed and index), "all" (every other class), "least" (the class with the
// smallest logit z, which must be given), or a single class number.
func Goals(mode string, label, classes int, z []float32, seed uint64, index int) ([]Goal, error) {
	switch mode {
	case "untargeted":
		return []Goal{{Label: label, Target: Untargeted}}, nil
	case "random":
		return []Goal{{Label: label, Target: RandomTarget(seed, index, label, classes)}}, nil
	case "all":
		var gs []Goal
		for t := range classes {
			if t != label {
				gs = append(gs, Goal{Label: label, Target: t})
			}
		}
		return gs, nil
	case "least":
		if len(z) != classes {
			return nil, errors.New("least-likely target needs the logits")
		}
		t := 0
		for i, v := range z {
			if v < z[t] {
				t = i
			}
		}
		return []Goal{{Label: label, Target: t}}, nil
	}
	var t int
	if _, err := fmt.Sscanf(mode, "%d", &t); err != nil || t < 0 || t >= classes || fmt.Sprint(t) != mode {
		return nil, fmt.Errorf("target %q: want untargeted, random, all, least or a class 0..%d", mode, classes-1)
	}
	if t == label {
		return nil, fmt.Errorf("target %d is the image's own class", t)
	}
	return []Goal{{Label: label, Target: t}}, nil
}

// Result is the outcome of one attack on one image and goal.
type Result struct {
	Goal        Goal
	Success     bool      // Adversarial is classified as the goal asks
	Adversarial []float32 // the best adversarial image; the original when Success is false
	Predicted   int       // class of Adversarial
	Logits      []float32 // logits of Adversarial
	L0          int       // pixels changed (see Distances)
	L2          float64   // Euclidean distance to the original
	LInf        float64   // largest change of any value
	Iterations  int       // gradient evaluations spent
}

// Distances returns the L0 (pixels whose channels are not all within
// pixelTolerance), L2 and L∞ distances between images a and b with c
// channels per pixel.
func Distances(a, b []float32, c int) (l0 int, l2, linf float64) {
	for p := 0; p < len(a); p += c {
		changed := false
		for j := p; j < p+c; j++ {
			d := math.Abs(float64(a[j]) - float64(b[j]))
			l2 += d * d
			linf = math.Max(linf, d)
			if d > pixelTolerance {
				changed = true
			}
		}
		if changed {
			l0++
		}
	}
	return l0, math.Sqrt(l2), linf
}

// pixelTolerance is the change below which a value counts as unchanged, as
// in the reference L0 attack.
const pixelTolerance = 1e-4

// finish re-classifies the adversarial candidate adv (nil = none found) for
// image x and fills in a Result that is a success only if the candidate
// really reaches the goal inside the box.
func finish(clf Classifier, x, adv []float32, g Goal, iterations int) Result {
	_, _, c := clf.InputShape()
	r := Result{Goal: g, Iterations: iterations, Adversarial: append([]float32(nil), x...)}
	if adv != nil {
		cand := append([]float32(nil), adv...)
		for i, v := range cand {
			cand[i] = min(max(v, 0), 1)
		}
		z := make([]float32, clf.Classes())
		clf.Logits(z, cand, 1)
		if g.Reached(z, 0) {
			r.Success = true
			r.Adversarial = cand
		}
	}
	r.Logits = make([]float32, clf.Classes())
	clf.Logits(r.Logits, r.Adversarial, 1)
	r.Predicted = nn.Argmax(r.Logits)
	r.L0, r.L2, r.LInf = Distances(r.Adversarial, x, c)
	return r
}

// checkInput validates a batch of images for an attack.
func checkInput(clf Classifier, x []float32, n int) error {
	h, w, c := clf.InputShape()
	if n <= 0 {
		return errors.New("attack: no images")
	}
	if len(x) != n*h*w*c {
		return fmt.Errorf("attack: %d values for %d images of %d×%d×%d", len(x), n, h, w, c)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || v < 0 || v > 1 {
			return fmt.Errorf("attack: value %v at %d is outside [0, 1]", v, i)
		}
	}
	return nil
}

func checkGoal(clf Classifier, g Goal) error {
	k := clf.Classes()
	if g.Label < 0 || g.Label >= k {
		return fmt.Errorf("attack: label %d outside 0..%d", g.Label, k-1)
	}
	if g.Targeted() && (g.Target < 0 || g.Target >= k || g.Target == g.Label) {
		return fmt.Errorf("attack: target %d is not another class in 0..%d", g.Target, k-1)
	}
	return nil
}
