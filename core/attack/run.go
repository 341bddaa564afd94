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
