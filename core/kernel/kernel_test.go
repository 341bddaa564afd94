package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the float64 triple loop every implementation is checked against.
func naiveGemm(c, a, b []float32, m, k, n, ars, acs int, accumulate bool) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			if accumulate {
				s = float64(c[i*n+j])
			}
			for p := range k {
				s += float64(a[i*ars+p*acs]) * float64(b[p*n+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func implementations() []Kernels {
	return append([]Kernels{Portable{}}, simdVariants()...)
}

func TestGemmMatchesNaive(t *testing.T) {
	shapes := []struct{ m, k, n int }{
		{0, 3, 4}, {3, 0, 4}, {3, 4, 0}, {1, 1, 1}, {1, 7, 1}, {4, 4, 16}, {5, 3, 17},
		{7, 9, 10}, {13, 300, 33}, {576, 288, 32}, {64, 576, 64}, {9, 1024, 200}, {128, 200, 10},
		{3, 513, 24}, {6, 2, 9},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, kern := range implementations() {
		for _, s := range shapes {
			for _, trans := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					name := fmt.Sprintf("%s/%dx%dx%d/trans=%v/acc=%v", kern.Name(), s.m, s.k, s.n, trans, acc)
					t.Run(name, func(t *testing.T) {
						a := randSlice(r, s.m*s.k)
						b := randSlice(r, s.k*s.n)
						c := randSlice(r, s.m*s.n)
						ars, acs := s.k, 1
						if trans {
							ars, acs = 1, s.m
						}
						want := naiveGemm(c, a, b, s.m, s.k, s.n, ars, acs, acc)
						kern.Gemm(c, a, b, s.m, s.k, s.n, ars, acs, acc)
						for i, w := range want {
							tol := 1e-5 * float64(s.k+1)
							if d := math.Abs(float64(c[i]) - w); d > tol {
								t.Fatalf("c[%d] = %v, want %v (|diff| %g > %g)", i, c[i], w, d, tol)
							}
						}
					})
				}
			}
		}
	}
}

func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][2]int{{1, 1}, {3, 5}, {33, 70}, {288, 32}} {
		src := randSlice(r, s[0]*s[1])
		dst := make([]float32, len(src))
		Transpose(dst, src, s[0], s[1])
		for i := range s[0] {
			for j := range s[1] {
				if dst[j*s[0]+i] != src[i*s[1]+j] {
					t.Fatalf("%v: dst[%d,%d] wrong", s, j, i)
				}
			}
		}
	}
}

func TestShortSlicePanicsWithMessage(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic for short c")
		}
	}()
	Portable{}.Gemm(make([]float32, 3), make([]float32, 4), make([]float32, 4), 2, 2, 2, 2, 1, false)
}

// The real shapes of the MNIST net's GEMMs, per image (conv) or per batch
// of 128 (dense): forward, weight gradient (A transposed) and input gradient.
var benchShapes = []struct {
	name    string
	m, k, n int
	transA  bool
}{
	{"conv2_fwd_576x288x32", 576, 288, 32, false},
	{"conv2_dW_288x576x32", 288, 576, 32, true},
	{"conv2_dX_576x32x288", 576, 32, 288, false},
	{"conv4_fwd_64x576x64", 64, 576, 64, false},
	{"conv3_fwd_100x288x64", 100, 288, 64, false},
	{"dense1_fwd_128x1024x200", 128, 1024, 200, false},
	{"cifar_conv2_900x576x64", 900, 576, 64, false},
}

func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, kern := range implementations() {
		for _, s := range benchShapes {
			b.Run(kern.Name()+"/"+s.name, func(b *testing.B) {
				a := randSlice(r, s.m*s.k)
				bm := randSlice(r, s.k*s.n)
				c := make([]float32, s.m*s.n)
				ars, acs := s.k, 1
				if s.transA {
					ars, acs = 1, s.m
				}
				b.ResetTimer()
				for b.Loop() {
					kern.Gemm(c, a, bm, s.m, s.k, s.n, ars, acs, false)
				}
				flops := 2 * float64(s.m*s.k*s.n) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func TestElementwiseMatchesPortable(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 7, 8, 9, 33, 1000} {
		x := randSlice(r, n)
		y := randSlice(r, n)
		g := randSlice(r, n)
		if n > 2 {
			x[1], x[2] = 0, float32(math.Copysign(0, -1))
		}
		want, got := append([]float32(nil), y...), append([]float32(nil), y...)
		addPortable(want, x)
		Add(got, x)
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("Add n=%d [%d]: %v vs %v", n, i, got[i], want[i])
			}
		}
		relu, reluP := make([]float32, n), make([]float32, n)
		ReLU(relu, x)
		reluPortable(reluP, x)
		for i := range relu {
			if relu[i] != reluP[i] || relu[i] != float32(math.Max(float64(x[i]), 0)) {
				t.Fatalf("ReLU n=%d [%d] of %v: %v vs %v", n, i, x[i], relu[i], reluP[i])
			}
		}
		dx, dxP := make([]float32, n), make([]float32, n)
		ReLUGrad(dx, g, relu)
		reluGradPortable(dxP, g, relu)
		for i := range dx {
			want := float32(0)
			if relu[i] > 0 {
				want = g[i]
			}
			if dx[i] != want || dxP[i] != want {
				t.Fatalf("ReLUGrad n=%d [%d]: %v, %v, want %v", n, i, dx[i], dxP[i], want)
			}
		}
	}
}

func TestMaxArg4(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 7, 8, 9, 16, 33, 1000} {
		var in [4][]float32
		for k := range in {
			in[k] = randSlice(r, n)
			for i := range in[k] {
				switch r.IntN(4) {
				case 0:
					in[k][i] = 0 // ReLU outputs: many ties at zero
				case 1:
					in[k][i] = float32(r.IntN(3)) // ties between windows' values
				}
			}
		}
		if n > 3 {
			in[0][3], in[2][2] = nan, nan
		}
		off := [4]int32{5, 100, 1000, 7000}
		y, arg := make([]float32, n), make([]int32, n)
		MaxArg4(y, arg, in[0], in[1], in[2], in[3], off)
		for i := range n {
			v, at := in[0][i], off[0]
			for k := 1; k < 4; k++ {
				if in[k][i] > v {
					v, at = in[k][i], off[k]
				}
			}
			at += int32(i)
			if math.Float32bits(y[i]) != math.Float32bits(v) || arg[i] != at {
				t.Fatalf("n=%d [%d] of %v %v %v %v: got %v at %d, want %v at %d",
					n, i, in[0][i], in[1][i], in[2][i], in[3][i], y[i], arg[i], v, at)
			}
		}
	}
}

// BenchmarkMaxArg4 times the 2×2 max-pool window kernel on ReLU-like
// outputs (a quarter zeros), one 32-channel 28×28 layer's worth.
func BenchmarkMaxArg4(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	const n = 32 * 14 * 14
	var in [4][]float32
	for k := range in {
		in[k] = randSlice(r, n)
		for i, v := range in[k] {
			if v < 0 {
				in[k][i] = 0
			}
		}
	}
	y, arg := make([]float32, n), make([]int32, n)
	off := [4]int32{0, 1, 28, 29}
	b.SetBytes(4 * 4 * n)
	for b.Loop() {
		MaxArg4(y, arg, in[0], in[1], in[2], in[3], off)
	}
}
