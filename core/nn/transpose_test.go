package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestInputGradientFollowsChangedWeights checks that the input gradient
// kept from one set of weights is not reused after the weights change: in
// place (as a training step does), through the shared parameters of a
// replica, and by a change of sign of a zero only. Each time it must equal
// the input gradient of a model that never saw the old weights.
func TestInputGradientFollowsChangedWeights(t *testing.T) {
	m, _ := New(TinyArch(), nil)
	m.Init(1)
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, m.InputSize())
	for i := range x {
		x[i] = r.Float32()
	}
	dz := []float32{1, -1, 0, 0, 0.5, 0, 0, 0, 0, 0}
	grad := func(m *Model) []float32 {
		m.Forward(x, 1, false)
		return slices.Clone(m.InputGradient(dz, 1))
	}
	fresh := func() []float32 {
		f, _ := New(TinyArch(), nil)
		copy(f.Params, m.Params)
		return grad(f)
	}
	rep := m.Replica()
	before := grad(m)
	grad(rep)
	for _, change := range []struct {
		name string
		do   func()
	}{
		{"every weight", func() {
			for i := range m.Params {
				m.Params[i] *= 1.5
			}
		}},
		{"one dense weight", func() { m.Params[len(m.Params)-20] += 0.25 }},
		{"one conv weight", func() { m.Params[3] -= 0.5 }},
		{"the sign of a zero", func() {
			m.Params[len(m.Params)-30] = 0
			grad(m)
			grad(rep)
			m.Params[len(m.Params)-30] = float32(math.Copysign(0, -1))
		}},
	} {
		change.do()
		want := fresh()
		for name, model := range map[string]*Model{"model": m, "replica": rep} {
			if got := grad(model); !slices.Equal(bits(got), bits(want)) {
				t.Errorf("%s, after changing %s: input gradient of the old weights", name, change.name)
			}
		}
	}
	if slices.Equal(before, grad(m)) {
		t.Fatal("the changes did not change the input gradient: the test is vacuous")
	}
}

func bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, f := range v {
		out[i] = math.Float32bits(f)
	}
	return out
}
