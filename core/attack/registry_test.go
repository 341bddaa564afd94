package attack

import (
	"math"
	"slices"
	"testing"
)

// TestRegistry checks that every attack is found by its own name with the
// configuration's parameters, minimises the norm of its name, and that an
// unknown name is refused.
func TestRegistry(t *testing.T) {
	cfgs := QuickConfigs()
	if got := Names(); !slices.Equal(got, []string{"l2", "l0", "linf"}) {
		t.Fatalf("Names() = %v", got)
	}
	r := Result{L0: 7, L2: 1.5, LInf: 0.25}
	for _, c := range []struct {
		name  string
		want  Attack
		norm  Norm
		label string
		dist  float64
		max   float64
	}{
		{"l2", cfgs.L2, NormL2, "L2", 1.5, 28},
		{"l0", cfgs.L0, NormL0, "L0", 7, 784},
		{"linf", cfgs.LInf, NormLInf, "L∞", 0.25, 1},
	} {
		a, err := cfgs.Attack(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if a != c.want || a.Name() != c.name || a.Norm() != c.norm {
			t.Errorf("%s: got %#v (norm %v)", c.name, a, a.Norm())
		}
		if n := a.Norm(); n.String() != c.label || n.Of(r) != c.dist || math.Abs(n.Largest(784)-c.max) > 1e-12 || n.Meaning() == "" {
			t.Errorf("%s: norm %q, distance %v, largest %v", c.name, n, n.Of(r), n.Largest(784))
		}
		if err := CheckName(c.name); err != nil {
			t.Error(err)
		}
	}
	for _, bad := range []string{"", "L2", "fgsm", "l1"} {
		if _, err := cfgs.Attack(bad); err == nil {
			t.Errorf("attack %q found", bad)
		}
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) passed", bad)
		}
	}
}

func TestSearchWords(t *testing.T) {
	for _, c := range []struct {
		s    Search
		want string
	}{
		{L2Search{BinaryStep: 2}, "binary-search step 3"},
		{L0Search{Allowed: 700}, "700 pixels allowed"},
		{LInfSearch{Tau: 0.25}, "τ = 0.250"},
	} {
		if got := c.s.String(); got != c.want {
			t.Errorf("%#v: %q, want %q", c.s, got, c.want)
		}
	}
}

// TestParams: each attack's parameter description changes with that
// attack's parameters only, and tells apart values that differ in the
// last digit.
func TestParams(t *testing.T) {
	base := Defaults().Params()
	if len(base) != 3 || base["l0"] == "" || base["l2"] == base["linf"] {
		t.Fatalf("Params() = %v", base)
	}
	for name, change := range map[string]func(*Configs){
		"l0":   func(c *Configs) { c.L0.InitialConst = 0.1 },
		"l2":   func(c *Configs) { c.L2.LearningRate = 0.010000001 },
		"linf": func(c *Configs) { c.LInf.DecreaseFactor = 0.85 },
	} {
		c := Defaults()
		change(&c)
		for a, p := range c.Params() {
			if (p != base[a]) != (a == name) {
				t.Errorf("changing %s: %s's parameters %q, before %q", name, a, p, base[a])
			}
		}
	}
	if got := Defaults().WithMaxIterations(5).Params()["l0"]; got == base["l0"] {
		t.Errorf("an iteration cap leaves L0's parameters %q", got)
	}
}
