//go:build goexperiment.simd && amd64

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// simdVariants lists every SIMD configuration this CPU can run, so that the
// AVX2-only tiles are tested even on an AVX-512 machine.
func simdVariants() []Kernels {
	if !archsimd.X86.AVX2() || !archsimd.X86.FMA() {
		return nil
	}
	ks := []Kernels{SIMD{}, SIMD{six: true}}
	if archsimd.X86.AVX512() {
		ks = append(ks, SIMD{wide: true}, SIMD{wide: true, tall: true})
	}
	return ks
}

// TestTallTilesSameBits checks that the assembly tiles give exactly the bits
// of the 4-row tiles they replace: the 8×32 AVX-512 tile (row-major A: the
// forward passes and input gradients) and the 6×16 AVX2 tiles (row-major
// and transposed A: the weight gradients too). Results
// must not depend on which tile computed them (a sample's result does not
// depend on its batch), and the attacks' results stay those of the archsimd
// tiles.
func TestTallTilesSameBits(t *testing.T) {
	shapes := []struct{ m, k, n int }{
		{8, 1, 32}, {8, 300, 32}, {9, 7, 33}, {12, 5, 16}, {13, 3, 17}, {16, 257, 64}, {23, 513, 200},
		{24, 256, 48}, {25, 257, 15}, {576, 288, 32}, {576, 32, 288}, {100, 288, 64}, {64, 64, 576},
		{676, 32, 9}, {12, 1024, 200}, {128, 1024, 200},
	}
	pairs := []struct {
		name      string
		four, big SIMD
		needs512  bool
	}{
		{"avx512 8x32", SIMD{wide: true}, SIMD{wide: true, tall: true}, true},
		{"avx2 6x16", SIMD{}, SIMD{six: true}, false},
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, pair := range pairs {
		if pair.needs512 && !archsimd.X86.AVX512() {
			t.Logf("%s: no AVX-512", pair.name)
			continue
		}
		for _, s := range shapes {
			for _, trans := range []bool{false, true} {
				ars, acs := s.k, 1
				if trans { // A stored transposed (the weight gradients)
					ars, acs = 1, s.m
				}
				for _, acc := range []bool{false, true} {
					a := randSlice(r, s.m*s.k)
					b := randSlice(r, s.k*s.n)
					want := randSlice(r, s.m*s.n)
					got := append([]float32(nil), want...)
					pair.four.Gemm(want, a, b, s.m, s.k, s.n, ars, acs, acc)
					pair.big.Gemm(got, a, b, s.m, s.k, s.n, ars, acs, acc)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s %dx%dx%d trans=%v acc=%v: c[%d] = %v, 4-row tiles %v", pair.name, s.m, s.k, s.n, trans, acc, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestEdgeColumnsSameBits checks that the columns beyond the last 8-column
// strip are, bit for bit, one float32 multiply-then-add chain per element in
// increasing p, as a plain row-by-row loop computes them.
func TestEdgeColumnsSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, kern := range simdVariants() {
		for _, s := range []struct{ m, k, n int }{{676, 32, 9}, {8, 300, 10}, {12, 1024, 203}, {4, 513, 7}} {
			for _, trans := range []bool{false, true} {
				a := randSlice(r, s.m*s.k)
				b := randSlice(r, s.k*s.n)
				c := randSlice(r, s.m*s.n)
				want := append([]float32(nil), c...)
				ars, acs := s.k, 1
				if trans {
					ars, acs = 1, s.m
				}
				kern.Gemm(c, a, b, s.m, s.k, s.n, ars, acs, true)
				for i := range s.m &^ 3 {
					for j := s.n &^ 7; j < s.n; j++ {
						sum := want[i*s.n+j]
						for p := range s.k {
							sum += a[i*ars+p*acs] * b[p*s.n+j]
						}
						if math.Float32bits(c[i*s.n+j]) != math.Float32bits(sum) {
							t.Fatalf("%s %dx%dx%d trans=%v: c[%d,%d] = %v, want %v", kern.Name(), s.m, s.k, s.n, trans, i, j, c[i*s.n+j], sum)
						}
					}
				}
			}
		}
	}
}

// TestCol2ImSameBits checks SIMD.Col2Im against col2imPortable bit for bit.
func TestCol2ImSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, kern := range simdVariants() {
		ck := kern.(SIMD)
		for _, s := range [][3]int{{28, 28, 1}, {26, 26, 32}, {12, 12, 32}, {10, 10, 64}, {7, 9, 16}, {5, 6, 3}, {3, 3, 48}} {
			h, w, c := s[0], s[1], s[2]
			dcols := randSlice(r, (h-2)*(w-2)*9*c)
			want := randSlice(r, h*w*c)
			got := append([]float32(nil), want...)
			col2imPortable(want, dcols, h, w, c)
			ck.Col2Im(got, dcols, h, w, c)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %v: dimg[%d] = %v, want %v", kern.Name(), s, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkFMAPeak measures one core's float32 fused multiply-add peak with
// 256-bit (AVX2) vectors: 12 independent accumulator chains in assembly
// (fmaPeakAVX2), enough to cover the FMA latency on both pipes. The GEMMs'
// GFLOP/s (BenchmarkGemm) are read against it.
func BenchmarkFMAPeak(b *testing.B) {
	const rounds = 10000
	for b.Loop() {
		fmaPeakAVX2(rounds)
	}
	b.ReportMetric(float64(b.N)*rounds*12*8*2/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkCol2Im measures the SIMD kernels' col2im on the input gradients
// of the MNIST net's convolutions (one image each).
func BenchmarkCol2Im(b *testing.B) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, s := range [][3]int{{26, 26, 32}, {12, 12, 32}, {10, 10, 64}} {
		h, w, c := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", h, w, c), func(b *testing.B) {
			dcols := randSlice(r, (h-2)*(w-2)*9*c)
			dimg := make([]float32, h*w*c)
			kern := Default()
			ck, ok := kern.(Col2Im)
			if !ok {
				b.Skipf("%s has no Col2Im", kern.Name())
			}
			for b.Loop() {
				ck.Col2Im(dimg, dcols, h, w, c)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/op")
		})
	}
}
