package attack

import (
	"fmt"
	"strings"
)

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

// Attacks returns the three attacks with c's parameters, in the order
// L2, L0, L∞: the registry every command and user interface reads.
func (c Configs) Attacks() []Attack { return []Attack{c.L2, c.L0, c.LInf} }

// Attack returns the attack called name with c's parameters.
func (c Configs) Attack(name string) (Attack, error) {
	for _, a := range c.Attacks() {
		if a.Name() == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unknown attack %q (want %s)", name, strings.Join(Names(), ", "))
}

// Names lists the attacks by their command-line names: l2, l0, linf.
func Names() []string {
	var names []string
	for _, a := range Defaults().Attacks() {
		names = append(names, a.Name())
	}
	return names
}

// CheckName reports an attack name that is not one of Names.
func CheckName(name string) error {
	_, err := Defaults().Attack(name)
	return err
}

// Params describes each attack's parameters in c, by name: the identity
// of a computed distance's budget, which cached results record so that a
// change of one attack's parameters recomputes that attack alone.
func (c Configs) Params() map[string]string {
	out := map[string]string{}
	for _, a := range c.Attacks() {
		out[a.Name()] = fmt.Sprintf("%+v", a)
	}
	return out
}
