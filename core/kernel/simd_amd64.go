//go:build goexperiment.simd && amd64

package kernel

import "simd/archsimd"

// Default returns the fastest Kernels this build has: the AVX2/FMA kernels
// when the CPU has them (AVX-512 tiles too where present), else Portable.
func Default() Kernels {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		return SIMD{wide: archsimd.X86.AVX512()}
	}
	return Portable{}
}

// SIMD implements Kernels with fused multiply-adds through simd/archsimd:
// 256-bit AVX2 vectors, and 512-bit AVX-512 vectors for 32-column strips
// when the CPU has them. Only the GOEXPERIMENT=simd build on amd64 has it.
type SIMD struct {
	wide bool // use AVX-512 4×32 tiles
}

// Name implements Kernels.
func (s SIMD) Name() string {
	if s.wide {
		return "simd-avx512"
	}
	return "simd-avx2"
}

// kBlock bounds the depth of one pass so that a 16-column panel of B stays
// in the L1 cache.
const kBlock = 256

// Gemm implements Kernels. C is walked in 4×32 (AVX-512), 4×16 and 4×8
// register tiles over depth blocks of kBlock. A tile reads the 4 values
// A(i..i+3, p) as one contiguous group per depth step p: in place when A is
// transposed (ars == 1), else from a packed copy of the 4 rows.
func (s SIMD) Gemm(c, a, b []float32, m, k, n, ars, acs int, accumulate bool) {
	checkGemm(c, a, b, m, k, n, ars, acs)
	if !accumulate {
		clear(c[:m*n])
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	var pack [4 * kBlock]float32
	for p0 := 0; p0 < k; p0 += kBlock {
		p1 := min(p0+kBlock, k)
		kc := p1 - p0
		i := 0
		for ; i+4 <= m; i += 4 {
			var ap []float32
			as := 4
			if ars == 1 {
				ap, as = a[i+p0*acs:], acs
			} else {
				ap = pack[:4*kc]
				for p := range kc {
					base := i*ars + (p0+p)*acs
					ap[4*p] = a[base]
					ap[4*p+1] = a[base+ars]
					ap[4*p+2] = a[base+2*ars]
					ap[4*p+3] = a[base+3*ars]
				}
			}
			bp := b[p0*n:]
			j := 0
			if s.wide {
				for ; j+32 <= n; j += 32 {
					tile4x32(c[i*n+j:], ap, as, bp[j:], n, kc)
				}
			}
			for ; j+16 <= n; j += 16 {
				tile4x16(c[i*n+j:], ap, as, bp[j:], n, kc)
			}
			for ; j+8 <= n; j += 8 {
				tile4x8(c[i*n+j:], ap, as, bp[j:], n, kc)
			}
			for ; j < n; j++ {
				for r := range 4 {
					sum := c[(i+r)*n+j]
					for p := range kc {
						sum += ap[p*as+r] * bp[p*n+j]
					}
					c[(i+r)*n+j] = sum
				}
			}
		}
		for ; i < m; i++ {
			ci := c[i*n : i*n+n]
			for p := p0; p < p1; p++ {
				av := a[i*ars+p*acs]
				brow := b[p*n : p*n+n]
				ci := ci[:len(brow)]
				for j, bv := range brow {
					ci[j] += av * bv
				}
			}
		}
	}
}

// tile4x32 adds A·B into the 4×32 tile of c (row stride n), where A(r, p) =
// ap[p*as+r] and B(p, j) = b[p*n+j], for p < kc; 512-bit vectors.
func tile4x32(c, ap []float32, as int, b []float32, n, kc int) {
	r0, r1, r2, r3 := c[:32], c[n:n+32], c[2*n:2*n+32], c[3*n:3*n+32]
	c0a, c0b := archsimd.LoadFloat32x16Slice(r0), archsimd.LoadFloat32x16Slice(r0[16:])
	c1a, c1b := archsimd.LoadFloat32x16Slice(r1), archsimd.LoadFloat32x16Slice(r1[16:])
	c2a, c2b := archsimd.LoadFloat32x16Slice(r2), archsimd.LoadFloat32x16Slice(r2[16:])
	c3a, c3b := archsimd.LoadFloat32x16Slice(r3), archsimd.LoadFloat32x16Slice(r3[16:])
	for p := range kc {
		a4 := ap[p*as : p*as+4]
		bp := b[p*n : p*n+32]
		b0 := archsimd.LoadFloat32x16((*[16]float32)(bp))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(bp[16:]))
		x := archsimd.BroadcastFloat32x16(a4[0])
		c0a, c0b = x.MulAdd(b0, c0a), x.MulAdd(b1, c0b)
		x = archsimd.BroadcastFloat32x16(a4[1])
		c1a, c1b = x.MulAdd(b0, c1a), x.MulAdd(b1, c1b)
		x = archsimd.BroadcastFloat32x16(a4[2])
		c2a, c2b = x.MulAdd(b0, c2a), x.MulAdd(b1, c2b)
		x = archsimd.BroadcastFloat32x16(a4[3])
		c3a, c3b = x.MulAdd(b0, c3a), x.MulAdd(b1, c3b)
	}
	c0a.StoreSlice(r0)
	c0b.StoreSlice(r0[16:])
	c1a.StoreSlice(r1)
	c1b.StoreSlice(r1[16:])
	c2a.StoreSlice(r2)
	c2b.StoreSlice(r2[16:])
	c3a.StoreSlice(r3)
	c3b.StoreSlice(r3[16:])
}

// tile4x16 is tile4x32 for a 16-column strip with 256-bit vectors.
func tile4x16(c, ap []float32, as int, b []float32, n, kc int) {
	r0, r1, r2, r3 := c[:16], c[n:n+16], c[2*n:2*n+16], c[3*n:3*n+16]
	c0a, c0b := archsimd.LoadFloat32x8Slice(r0), archsimd.LoadFloat32x8Slice(r0[8:])
	c1a, c1b := archsimd.LoadFloat32x8Slice(r1), archsimd.LoadFloat32x8Slice(r1[8:])
	c2a, c2b := archsimd.LoadFloat32x8Slice(r2), archsimd.LoadFloat32x8Slice(r2[8:])
	c3a, c3b := archsimd.LoadFloat32x8Slice(r3), archsimd.LoadFloat32x8Slice(r3[8:])
	for p := range kc {
		a4 := ap[p*as : p*as+4]
		bp := b[p*n : p*n+16]
		b0 := archsimd.LoadFloat32x8((*[8]float32)(bp))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(bp[8:]))
		x := archsimd.BroadcastFloat32x8(a4[0])
		c0a, c0b = x.MulAdd(b0, c0a), x.MulAdd(b1, c0b)
		x = archsimd.BroadcastFloat32x8(a4[1])
		c1a, c1b = x.MulAdd(b0, c1a), x.MulAdd(b1, c1b)
		x = archsimd.BroadcastFloat32x8(a4[2])
		c2a, c2b = x.MulAdd(b0, c2a), x.MulAdd(b1, c2b)
		x = archsimd.BroadcastFloat32x8(a4[3])
		c3a, c3b = x.MulAdd(b0, c3a), x.MulAdd(b1, c3b)
	}
	c0a.StoreSlice(r0)
	c0b.StoreSlice(r0[8:])
	c1a.StoreSlice(r1)
	c1b.StoreSlice(r1[8:])
	c2a.StoreSlice(r2)
	c2b.StoreSlice(r2[8:])
	c3a.StoreSlice(r3)
	c3b.StoreSlice(r3[8:])
}

// tile4x8 is tile4x16 for an 8-column strip.
func tile4x8(c, ap []float32, as int, b []float32, n, kc int) {
	r0, r1, r2, r3 := c[:8], c[n:n+8], c[2*n:2*n+8], c[3*n:3*n+8]
	c0, c1 := archsimd.LoadFloat32x8Slice(r0), archsimd.LoadFloat32x8Slice(r1)
	c2, c3 := archsimd.LoadFloat32x8Slice(r2), archsimd.LoadFloat32x8Slice(r3)
	for p := range kc {
		a4 := ap[p*as : p*as+4]
		b0 := archsimd.LoadFloat32x8((*[8]float32)(b[p*n : p*n+8]))
		c0 = archsimd.BroadcastFloat32x8(a4[0]).MulAdd(b0, c0)
		c1 = archsimd.BroadcastFloat32x8(a4[1]).MulAdd(b0, c1)
		c2 = archsimd.BroadcastFloat32x8(a4[2]).MulAdd(b0, c2)
		c3 = archsimd.BroadcastFloat32x8(a4[3]).MulAdd(b0, c3)
	}
	c0.StoreSlice(r0)
	c1.StoreSlice(r1)
	c2.StoreSlice(r2)
	c3.StoreSlice(r3)
}
