package attack

import (
	"context"
	"fmt"
)

// Names lists the attacks by their command-line names.
var Names = []string{"l2", "l0", "linf"}

// CheckName reports an attack name that is not one of Names.
func CheckName(name string) error {
	for _, n := range Names {
		if n == name {
			return nil
		}
	}
	return fmt.Errorf("unknown attack %q (want l2, l0 or linf)", name)
}

// Configs bundles the configuration of every attack.
type Configs struct {
	L2   L2Config
	L0   L0Config
	LInf LInfConfig
}

// Defaults returns the seed paper's parameters for all three attacks.
func Defaults() Configs {
	return Configs{L2: DefaultL2(), L0: DefaultL0(), LInf: DefaultLInf()}
}

// QuickConfigs are the real algorithms with budgets that finish in
// seconds: few iterations per constant, and larger Adam steps so that
// pixels at exactly 0 or 1 (where tanh saturates) can move within them. The
// web demo and `tadd reproduce --quick` use them.
func QuickConfigs() Configs {
	c := Defaults()
	c.L2.BinarySearchSteps, c.L2.MaxIterations, c.L2.LearningRate, c.L2.InitialConst = 4, 100, 0.1, 1
	c.L0.MaxIterations, c.L0.LearningRate, c.L0.InitialConst = 60, 0.1, 1
	c.LInf.MaxIterations, c.LInf.LearningRate, c.LInf.InitialConst, c.LInf.DecreaseFactor = 60, 0.05, 0.1, 0.8
	return c
}

// QuickText describes QuickConfigs against the paper's parameters.
const QuickText = "L2: 4 binary-search steps [9], 100 iterations per step [10,000], " +
	"learning rate 0.1 [0.01], initial c 1 [0.001]. L0: 60 iterations per c [1,000], learning rate 0.1 [0.01], initial c 1 [0.001]. " +
	"L∞: 60 iterations per c [1,000], learning rate 0.05 [0.005], initial c 0.1 [1e-5], τ shrinks by 0.8 [0.9]."

// WithMaxIterations returns c with every attack's iteration budget (per
// value of the constant) capped at n, when n > 0.
func (c Configs) WithMaxIterations(n int) Configs {
	if n > 0 {
		c.L2.MaxIterations = min(c.L2.MaxIterations, n)
		c.L0.MaxIterations = min(c.L0.MaxIterations, n)
		c.LInf.MaxIterations = min(c.LInf.MaxIterations, n)
	}
	return c
}

// RunBatch runs the named attack on len(goals) images x (one goal each),
// size at a time sharing every forward and backward pass, refilling a
// finished image's place from the queue (see runSlots). Each image's result
// is the one Run gives it alone. finished, if set, hears of each image as
// its attack ends (from the calling goroutine).
func (c Configs) RunBatch(ctx context.Context, name string, clf Classifier, x []float32, goals []Goal, size int, finished func(j int, r Result)) ([]Result, error) {
	var start func(j int, x []float32, g Goal) slot
	switch name {
	case "l2":
		start = func(j int, x []float32, g Goal) slot { return newL2Slot(clf, c.L2, j, x, g, nil) }
	case "l0":
		start = func(j int, x []float32, g Goal) slot { return newL0Slot(clf, c.L0, j, x, g, nil) }
	case "linf":
		start = func(j int, x []float32, g Goal) slot { return newLInfSlot(clf, c.LInf, j, x, g, nil) }
	default:
		return nil, fmt.Errorf("unknown attack %q (want l2, l0 or linf)", name)
	}
	return runBatch(ctx, clf, x, goals, size, start, finished)
}

// Run runs the named attack ("l2", "l0" or "linf") on one image and goal.
func (c Configs) Run(ctx context.Context, name string, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
	switch name {
	case "l2":
		rs, err := L2(ctx, clf, c.L2, x, []Goal{g}, obs)
		if err != nil {
			return Result{}, err
		}
		return rs[0], nil
	case "l0":
		return L0(ctx, clf, c.L0, x, g, obs)
	case "linf":
		return LInf(ctx, clf, c.LInf, x, g, obs)
	}
	return Result{}, fmt.Errorf("unknown attack %q (want l2, l0 or linf)", name)
}
