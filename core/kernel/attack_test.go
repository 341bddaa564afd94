package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAttackStepsMatchReference checks AdamStep and BoxGradient, in
// whichever build runs the test, bit for bit against the attacks' own
// float32 loops (the portable versions, which core/attack's batched =
// alone tests pin down), and those within float32 rounding of the same
// formulas in float64.
func TestAttackStepsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 784, 1001} {
		for _, lrT := range []float32{0.01, 0.3} {
			g := randSlice(r, n)
			p, m, v := randSlice(r, n), randSlice(r, n), randSlice(r, n)
			for i := range v {
				v[i] = v[i] * v[i] // second moments are squares
			}
			if n > 3 {
				g[0], v[0], m[1], g[2] = 0, 0, 0, float32(math.Copysign(0, -1))
			}
			pw, mw, vw := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
			adamStepPortable(pw, mw, vw, g, lrT)
			AdamStep(p, m, v, g, lrT)
			for i := range p {
				if p[i] != pw[i] || m[i] != mw[i] || v[i] != vw[i] {
					t.Fatalf("AdamStep n=%d [%d]: p %v m %v v %v, reference %v %v %v", n, i, p[i], m[i], v[i], pw[i], mw[i], vw[i])
				}
			}
		}
		for _, kind := range []string{"random", "edges"} {
			g, x, y := randSlice(r, n), make([]float32, n), make([]float32, n)
			for j := range x {
				x[j], y[j] = r.Float32(), r.Float32()
				if kind == "edges" {
					y[j] = float32(j % 2) // saturated tanh: zero gradient
				}
			}
			want, got := append([]float32(nil), g...), append([]float32(nil), g...)
			boxGradientPortable(want, y, x)
			BoxGradient(got, y, x)
			for j := range got {
				y64 := float64(y[j])
				exact := (2*(y64-float64(x[j])) + float64(g[j])) * 2 * y64 * (1 - y64)
				if got[j] != want[j] || math.Abs(float64(want[j])-exact) > 1e-6*(1+math.Abs(exact)) {
					t.Fatalf("BoxGradient %s n=%d [%d]: %v, reference %v, float64 %v", kind, n, j, got[j], want[j], exact)
				}
			}
		}
	}
}

// TestAdamStepAgainstFloat64 checks one portable Adam step against the
// float64 formula.
func TestAdamStepAgainstFloat64(t *testing.T) {
	p, m, v, g := []float32{1, -2, 0.5}, []float32{0.1, 0, -0.3}, []float32{0.04, 0, 0.01}, []float32{2, -1, 0}
	const lrT = 0.05
	want := make([]float64, len(p))
	for i := range p {
		mi := 0.9*float64(m[i]) + 0.1*float64(g[i])
		vi := 0.999*float64(v[i]) + 0.001*float64(g[i])*float64(g[i])
		want[i] = float64(p[i]) - lrT*mi/(math.Sqrt(vi)+1e-8)
	}
	adamStepPortable(p, m, v, g, lrT)
	for i := range p {
		if math.Abs(float64(p[i])-want[i]) > 1e-6 {
			t.Errorf("[%d] %v, float64 %v", i, p[i], want[i])
		}
	}
}

// TestSameBits checks SameBits against a bit-by-bit comparison, for a
// difference at every position and in the sign of a zero.
func TestSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, n := range []int{0, 1, 7, 8, 9, 64, 203} {
		a := randSlice(r, n)
		b := append([]float32(nil), a...)
		if !SameBits(a, b) || !sameBitsPortable(a, b) {
			t.Fatalf("n=%d: equal slices differ", n)
		}
		for i := range n {
			for _, v := range []float32{b[i] + 1, float32(math.Copysign(0, -1))} {
				c := append([]float32(nil), b...)
				if v == 0 {
					a[i], c[i] = 0, v
				} else {
					c[i] = v
				}
				if SameBits(a, c) || sameBitsPortable(a, c) {
					t.Fatalf("n=%d: a change of %v at %d not seen", n, v, i)
				}
				a[i] = b[i]
			}
		}
	}
}
