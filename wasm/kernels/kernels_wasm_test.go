//go:build js && wasm

package kernels

import (
	"context"

	"fmt"
	"github.com/tadd-project/tadd/core/attack"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
)

// TestLoaded checks the loader attached what TADD_WANT_KERNELS says
// ("portable", "wasm-simd128" or "wasm-relaxed-simd"), so that a missing
// module fails the test instead of silently testing the portable kernels.
func TestLoaded(t *testing.T) {
	want := os.Getenv("TADD_WANT_KERNELS")
	if want == "" {
		t.Skip("TADD_WANT_KERNELS not set")
	}
	if got := Load().Name(); got != want {
		t.Fatalf("kernels %q, want %q", got, want)
	}
}

type shape struct{ m, k, n int }

// shapes are edge sizes (empty, 1×1, not multiples of 4 or 8) and the real
// shapes of the MNIST net at batch 1 (forward and input gradient).
var shapes = []shape{
	{0, 0, 0}, {0, 5, 3}, {3, 0, 5}, {5, 3, 0}, {1, 1, 1}, {1, 7, 1}, {2, 3, 5}, {3, 5, 7}, {4, 4, 4},
	{5, 9, 9}, {7, 1, 13}, {8, 8, 8}, {9, 17, 33}, {13, 31, 3}, {16, 16, 16}, {17, 2, 12},
	{676, 9, 32}, {576, 288, 32}, {100, 288, 64}, {64, 576, 64}, {1, 1024, 200}, {1, 200, 10},
	{576, 32, 288}, {100, 64, 288}, {64, 64, 576}, {1, 10, 200}, {1, 200, 1024},
	{1024, 200, 1}, {200, 200, 1}, {9, 17, 1}, {4, 3, 1}, {6, 4, 1}, // dense input gradients, dxᵀ = W·dyᵀ
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestGemmMatchesPortable compares the SIMD GEMM with the portable Go one on
// every shape, for A row-major, A transposed and padded rows, with and
// without accumulation, and checks nothing beyond C is written.
func TestGemmMatchesPortable(t *testing.T) {
	fast := Load()
	if _, ok := fast.(SIMD); !ok {
		t.Skip("no SIMD kernels loaded")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		for _, layout := range []string{"NN", "TN", "padded"} {
			ars, acs, alen := s.k, 1, s.m*s.k
			switch layout {
			case "TN":
				ars, acs = 1, s.m
			case "padded":
				ars, alen = s.k+3, s.m*(s.k+3)
			}
			for _, accumulate := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/%s/acc=%v", s.m, s.k, s.n, layout, accumulate)
				a, b := randSlice(r, alen), randSlice(r, s.k*s.n)
				c0 := randSlice(r, s.m*s.n+8) // 8 guard values after C
				want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
				kernel.Portable{}.Gemm(want, a, b, s.m, s.k, s.n, ars, acs, accumulate)
				fast.Gemm(got, a, b, s.m, s.k, s.n, ars, acs, accumulate)
				for i := range got {
					// Both sum k products in different orders (and
					// relaxed SIMD may fuse): allow float32 rounding of a
					// sum of k terms of size ~1.
					tol := 1e-5 * float64(s.k+1) * 4
					if d := math.Abs(float64(got[i] - want[i])); d > tol || math.IsNaN(float64(got[i])) {
						if i >= s.m*s.n {
							t.Fatalf("%s: wrote guard value %d: %v, was %v", name, i-s.m*s.n, got[i], c0[i])
						}
						t.Fatalf("%s: C[%d] = %v, portable %v (diff %g > %g)", name, i, got[i], want[i], d, tol)
					}
				}
			}
		}
	}
}

// TestGemmAfterMemoryGrowth allocates enough to grow Go's linear memory
// between two calls and checks both old and new slices still compute right.
func TestGemmAfterMemoryGrowth(t *testing.T) {
	fast := Load()
	if _, ok := fast.(SIMD); !ok {
		t.Skip("no SIMD kernels loaded")
	}
	r := rand.New(rand.NewPCG(3, 4))
	m, k, n := 33, 70, 21
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	want := make([]float32, m*n)
	kernel.Portable{}.Gemm(want, a, b, m, k, n, k, 1, false)
	check := func(when string, a, b []float32) {
		got := make([]float32, m*n)
		fast.Gemm(got, a, b, m, k, n, k, 1, false)
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-3 {
				t.Fatalf("%s: C[%d] = %v, want %v", when, i, got[i], want[i])
			}
		}
	}
	check("before growth", a, b)
	big := make([]float32, 64<<20) // 256 MB: Go must grow its memory
	big[len(big)-1] = 1
	check("after growth, old slices", a, b)
	a2, b2 := big[len(big)-m*k-k*n:len(big)-k*n], big[len(big)-k*n:]
	copy(a2, a)
	copy(b2, b)
	check("after growth, slices in new memory", a2, b2)
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	fast := Load()
	if _, ok := fast.(SIMD); !ok {
		t.Skip("no SIMD kernels loaded")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short C")
		}
	}()
	fast.Gemm(make([]float32, 3), make([]float32, 4), make([]float32, 4), 2, 2, 2, 2, 1, false)
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range []shape{{576, 288, 32}, {100, 288, 64}, {64, 576, 64}, {576, 32, 288}, {128, 1024, 200}} {
		r := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
		for _, k := range []kernel.Kernels{kernel.Portable{}, Load()} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", k.Name(), s.m, s.k, s.n), func(b *testing.B) {
				for b.Loop() {
					k.Gemm(c, a, bb, s.m, s.k, s.n, s.k, 1, false)
				}
				b.ReportMetric(float64(2*s.m*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkForwardInputGradient is one attack iteration of the MNIST net at
// batch 1 and 9 (forward pass and input gradient), portable against SIMD.
func BenchmarkForwardInputGradient(b *testing.B) {
	for _, batch := range []int{1, 9} {
		for _, k := range []kernel.Kernels{kernel.Portable{}, Load()} {
			m, err := nn.New(nn.MNISTArch(), k)
			if err != nil {
				b.Fatal(err)
			}
			m.Init(1)
			r := rand.New(rand.NewPCG(1, 1))
			x := make([]float32, batch*m.InputSize())
			for i := range x {
				x[i] = r.Float32()
			}
			dz := make([]float32, 10*batch)
			for i := range batch {
				dz[10*i+3], dz[10*i+7] = 1, -1
			}
			b.Run(fmt.Sprintf("%s/batch%d", k.Name(), batch), func(b *testing.B) {
				for b.Loop() {
					m.Forward(x, batch, false)
					m.InputGradient(dz, batch)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/iter")
			})
		}
	}
}

// BenchmarkL2Iteration is one iteration of the C&W L2 attack (quick budgets,
// one binary-search step) on the MNIST net at batch 1: forward pass, input
// gradient and the attack's own work, portable against SIMD.
func BenchmarkL2Iteration(b *testing.B) {
	for _, k := range []kernel.Kernels{kernel.Portable{}, Load()} {
		m, err := nn.New(nn.MNISTArch(), k)
		if err != nil {
			b.Fatal(err)
		}
		m.Init(1)
		x := make([]float32, m.InputSize())
		for i := range x {
			x[i] = float32(i%29) / 29
		}
		cfg := attack.QuickConfigs().L2
		cfg.BinarySearchSteps, cfg.MaxIterations, cfg.AbortEarly = 1, 50, false
		b.Run(k.Name(), func(b *testing.B) {
			iters := 0
			for b.Loop() {
				rs, err := attack.L2(context.Background(), attack.NewClassifier(m, 1), cfg, x, []attack.Goal{{Label: 0, Target: 1}}, nil)
				if err != nil {
					b.Fatal(err)
				}
				iters += rs[0].Iterations
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(iters)/1000, "ms/iter")
		})
	}
}

// col2imRef is the convolution's col2im in plain Go.
func col2imRef(dimg, dcols []float32, h, w, c int) {
	k := 9 * c
	for oy := range h - 2 {
		for ox := range w - 2 {
			src := dcols[(oy*(w-2)+ox)*k:]
			for ky := range 3 {
				for j := range 3 * c {
					dimg[((oy+ky)*w+ox)*c+j] += src[ky*3*c+j]
				}
			}
		}
	}
}

func TestCol2ImMatchesGo(t *testing.T) {
	fast, ok := Load().(SIMD)
	if !ok {
		t.Skip("no SIMD kernels loaded")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range []struct{ h, w, c int }{{3, 3, 1}, {5, 4, 1}, {4, 7, 3}, {6, 6, 5}, {28, 28, 1}, {26, 26, 32}, {12, 12, 32}, {10, 10, 64}, {9, 11, 7}} {
		dcols := randSlice(r, (s.h-2)*(s.w-2)*9*s.c)
		img0 := randSlice(r, s.h*s.w*s.c+8)
		want, got := append([]float32(nil), img0...), append([]float32(nil), img0...)
		col2imRef(want, dcols, s.h, s.w, s.c)
		fast.Col2Im(got, dcols, s.h, s.w, s.c)
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: dimg[%d] = %v, want %v", s, i, got[i], want[i])
			}
		}
	}
}

// TestModelMatchesPortable runs the MNIST net's forward pass and input
// gradient (batch 1 and 3) on the SIMD and the portable kernels with the
// same weights: what an attack computes must not depend on the kernels.
func TestModelMatchesPortable(t *testing.T) {
	fast := Load()
	if _, ok := fast.(SIMD); !ok {
		t.Skip("no SIMD kernels loaded")
	}
	ref, err := nn.New(nn.MNISTArch(), kernel.Portable{})
	if err != nil {
		t.Fatal(err)
	}
	ref.Init(3)
	m, _ := nn.New(nn.MNISTArch(), fast)
	copy(m.Params, ref.Params)
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 3} {
		x := make([]float32, n*784)
		for i := range x {
			x[i] = r.Float32()
		}
		dz := randSlice(r, n*10)
		zr := append([]float32(nil), ref.Forward(x, n, false)...)
		zf := m.Forward(x, n, false)
		gr := append([]float32(nil), ref.InputGradient(dz, n)...)
		gf := m.InputGradient(dz, n)
		for i := range zr {
			if math.Abs(float64(zr[i]-zf[i])) > 1e-4*(1+math.Abs(float64(zr[i]))) {
				t.Fatalf("batch %d logit %d: SIMD %v, portable %v", n, i, zf[i], zr[i])
			}
		}
		var scale float64
		for _, v := range gr {
			scale = max(scale, math.Abs(float64(v)))
		}
		for i := range gr {
			if math.Abs(float64(gr[i]-gf[i])) > 1e-4*scale {
				t.Fatalf("batch %d input gradient %d: SIMD %v, portable %v", n, i, gf[i], gr[i])
			}
		}
	}
}

func TestTransposeMatchesGo(t *testing.T) {
	fast, ok := Load().(SIMD)
	if !ok {
		t.Skip("no SIMD kernels loaded")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][2]int{{1, 1}, {1, 7}, {7, 1}, {3, 5}, {4, 4}, {5, 9}, {8, 12}, {13, 6}, {288, 32}, {576, 64}, {1024, 200}, {200, 10}, {9, 32}} {
		src := randSlice(r, s[0]*s[1])
		want, got := make([]float32, s[0]*s[1]+4), make([]float32, s[0]*s[1]+4)
		kernel.Transpose(want, src, s[0], s[1])
		fast.Transpose(got, src, s[0], s[1])
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%dx%d: dst[%d] = %v, want %v", s[0], s[1], i, got[i], want[i])
			}
		}
	}
}

// TestSameBitsMatchesGo checks the module's comparison against Go's on every
// length up to a few vector rounds, with one bit changed at every position
// (the mantissa's last, or the sign: 0 against −0), and a NaN against
// itself (which has the same bits).
func TestSameBitsMatchesGo(t *testing.T) {
	fast, ok := Load().(SIMD)
	if !ok {
		t.Skip("no SIMD kernels loaded")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for n := 0; n <= 70; n++ {
		a := randSlice(r, n)
		if n > 0 {
			a[n/2] = float32(math.NaN())
			a[n/3] = 0
		}
		b := append(append([]float32(nil), a...), 1, 2) // longer b: only b[:len(a)] counts
		if !fast.SameBits(a, b) || !kernel.SameBits(a, b) {
			t.Fatalf("n %d: equal slices reported different", n)
		}
		for i := range n {
			for _, flip := range []uint32{1, 1 << 31} { // the last bit of the mantissa; the sign (0 against −0)
				c := append([]float32(nil), a...)
				c[i] = math.Float32frombits(math.Float32bits(a[i]) ^ flip)
				if got, want := fast.SameBits(a, c), kernel.SameBits(a, c); got != want || got {
					t.Fatalf("n %d, position %d changed to %v: SIMD %v, Go %v", n, i, c[i], got, want)
				}
			}
		}
	}
}

// TestInputGradientFollowsChangedWeights: with the module's comparison the
// layers keep their weight transposes between input gradients, and must
// still see a changed weight (dense or convolutional): after each change
// the input gradient equals a fresh model's.
func TestInputGradientFollowsChangedWeights(t *testing.T) {
	fast := Load()
	if _, ok := fast.(SIMD); !ok {
		t.Skip("no SIMD kernels loaded")
	}
	m, _ := nn.New(nn.MNISTArch(), fast)
	m.Init(5)
	r := rand.New(rand.NewPCG(13, 14))
	x := make([]float32, m.InputSize())
	for i := range x {
		x[i] = r.Float32()
	}
	dz := randSlice(r, 10)
	grad := func(m *nn.Model) []float32 {
		m.Forward(x, 1, false)
		return append([]float32(nil), m.InputGradient(dz, 1)...)
	}
	grad(m)
	for _, change := range []struct {
		name  string
		index int
	}{{"the first conv weight", 0}, {"a dense weight", len(m.Params) - 5000}, {"a weight of the last dense layer", len(m.Params) - 20}} {
		m.Params[change.index] += 0.5
		fresh, _ := nn.New(nn.MNISTArch(), fast)
		copy(fresh.Params, m.Params)
		want, got := grad(fresh), grad(m)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("after changing %s: input gradient %d is %v, a fresh model's %v", change.name, i, got[i], want[i])
			}
		}
	}
}
