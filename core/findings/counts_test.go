package findings

import (
	"math"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
)

// TestPerAttackCounts: an attack with a smaller count (L0 on the first 20
// of 40 attacked images) is summarized, drawn and compared on its own
// images only: the samples beyond its count are not failures (censored),
// and every paired comparison under it pairs the images both models were
// attacked on with it.
func TestPerAttackCounts(t *testing.T) {
	const n, l0n = 40, 20
	d := Data{Attacks: []string{"l0", "l2"}, AttackSamples: n, AttackCounts: map[string]int{"l0": l0n}, Pixels: 784, Seed: 3}
	for step := range 3 {
		m := Model{Identity: catalog.Identity{Temperature: 10, Step: step, Role: catalog.Role(step), Epochs: 50}}
		for i := range n {
			s := eval.Sample{Index: i, Correct: i != 5+step, Distance: map[string]eval.Dist{
				"l2": eval.Dist(1 + 0.01*float64(i) + 0.1*float64(step)),
				"l0": eval.Dist(10 + float64(i%7+step)),
			}}
			if i >= l0n || !s.Correct {
				s.Distance["l0"] = eval.Dist(math.NaN()) // not attacked with L0
			}
			if !s.Correct {
				s.Distance["l2"] = eval.Dist(math.NaN())
			}
			m.Samples = append(m.Samples, s)
		}
		d.Models = append(d.Models, m)
	}
	r := Analyze(d)
	for _, s := range r.Stats {
		want := map[string]int{"l0": l0n - 1, "l2": n - 1}[s.Attack] // one misclassified in each model
		if s.Summary.N != want || s.Summary.Successes != want {
			t.Errorf("T=%g step %d %s: %d attacked, %d fooled, want %d both", s.Temperature, s.Step, s.Attack, s.Summary.N, s.Summary.Successes, want)
		}
	}
	for _, c := range r.Curves {
		if want := map[string]int{"l0": l0n - 1, "l2": n - 1}[c.Attack]; c.N != want || c.Above[len(c.Above)-1] != 0 {
			t.Errorf("%s curve of step %d: n %d (want %d), above the largest ε %g (want 0)", c.Attack, c.Step, c.N, want, c.Above[len(c.Above)-1])
		}
	}
	pairs := 0
	for _, cl := range r.Claims {
		for _, p := range cl.Detail {
			// Models of steps a and b are both correct on every image but
			// 5+a and 5+b.
			want := map[string]int{"l0": l0n - 2, "l2": n - 2}[p.Quantity]
			if want == 0 {
				continue
			}
			pairs++
			if p.N != want || p.Censored != 0 {
				t.Errorf("%s: %s − %s: %d pairs, %d censored; want %d, none", p.Quantity, p.B, p.A, p.N, p.Censored, want)
			}
		}
	}
	if pairs == 0 {
		t.Fatal("no paired comparison of an attack")
	}
}
