//go:build goexperiment.simd && amd64

package kernel

import (
	"simd/archsimd"
	"unsafe"
)

// Default returns the fastest Kernels this build has: the AVX2/FMA kernels
// when the CPU has them (AVX-512 tiles too where present), else Portable.
func Default() Kernels {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		wide := archsimd.X86.AVX512()
		return SIMD{wide: wide, tall: wide, six: !wide}
	}
	return Portable{}
}

// SIMD implements Kernels with fused multiply-adds through simd/archsimd:
// 256-bit AVX2 vectors, and 512-bit AVX-512 vectors for 32-column strips
// when the CPU has them. Only the GOEXPERIMENT=simd build on amd64 has it.
type SIMD struct {
	wide bool // use AVX-512 4×32 tiles
	tall bool // and the 8×32 assembly tile for row-major A (needs wide)
	six  bool // use the AVX2 6×16 assembly tile (without wide)
}

// Name implements Kernels.
func (s SIMD) Name() string {
	if s.wide && !s.tall {
		return "simd-avx512-4row"
	}
	if !s.wide && !s.six {
		return "simd-avx2-4row"
	}
	if s.wide {
		return "simd-avx512"
	}
	return NameAVX2
}

// kBlock bounds the depth of one pass so that a 16-column panel of B stays
// in the L1 cache.
const kBlock = 256

// Gemm implements Kernels. C is walked in 8×32 (AVX-512 assembly, for
// row-major A), 6×16 (AVX2 assembly, on CPUs without AVX-512), 4×32
// (AVX-512), 4×16 and 4×8 register tiles over depth blocks of kBlock,
// reading A in place: as contiguous groups A(i..i+3, p) when A is
// transposed (ars == 1), as row slices when it is row-major (acs == 1).
// Edges and other strides are plain Go. Every element of C that a register
// tile computes is one chain of fused multiply-adds in increasing p,
// whichever tile it falls in.
func (s SIMD) Gemm(c, a, b []float32, m, k, n, ars, acs int, accumulate bool) {
	CheckGemm(c, a, b, m, k, n, ars, acs)
	zero := false
	if !accumulate {
		// The assembly tiles start from zero on the first depth block
		// (rows8, rows6): clear only what they do not cover, and save a
		// pass over C (for an input gradient's patch matrix, megabytes).
		if rows, cols := s.zeroCover(m, k, n, ars, acs); rows > 0 && cols > 0 {
			for i := range rows {
				clear(c[i*n+cols : i*n+n])
			}
			clear(c[rows*n : m*n])
			zero = true
		} else {
			clear(c[:m*n])
		}
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	if rem := m % 4; rem != 0 && acs == 1 && ars != 1 {
		// Row-major A, whose rows are samples in the dense layers: the last
		// rows go through a 4-row tile too, padded with zero rows, so that a
		// sample's result does not depend on where it falls in a batch (a
		// sample alone or in a batch rounds the same: sharded runs merge
		// exactly).
		i0 := m - rem
		pa := make([]float32, 4*k)
		for r := range rem {
			copy(pa[r*k:(r+1)*k], a[(i0+r)*ars:(i0+r)*ars+k])
		}
		s.tiles(c[i0*n:], pa, b, 4, k, n, k, 1, rem, false)
		m = i0
		if m == 0 {
			return
		}
	}
	s.tiles(c, a, b, m, k, n, ars, acs, m, zero)
}

// zeroCover returns how many of the first rows and columns of C the
// assembly tiles compute for Gemm(m, k, n, ars, acs), so that Gemm need not
// clear them when it does not accumulate: the 8×32 tiles of row-major A on
// AVX-512, the 12-row groups of 6×16 tiles (row-major or transposed A) on
// AVX2. It follows tiles' walk: a row-major A's last m mod 4 rows go
// through a padded 4-row tile, before the groups.
func (s SIMD) zeroCover(m, k, n, ars, acs int) (rows, cols int) {
	if k == 0 {
		return 0, 0
	}
	rowMajor := acs == 1 && ars != 1
	switch {
	case s.tall && rowMajor:
		return m &^ 7, n &^ 31
	case s.six && (rowMajor || ars == 1):
		if rowMajor {
			m -= m % 4
		}
		return m - m%12, n &^ 15
	}
	return 0, 0
}

// tiles computes C += A·B for the first keep rows of C (m ≥ keep; the rows
// beyond keep go to scratch); with zero, the 8×32 tiles take C as zero
// instead of reading it (Gemm has not cleared them).
func (s SIMD) tiles(c, a, b []float32, m, k, n, ars, acs, keep int, zero bool) {
	if keep < m {
		scratch := make([]float32, m*n)
		copy(scratch, c[:keep*n])
		s.tiles(scratch, a, b, m, k, n, ars, acs, m, zero)
		copy(c[:keep*n], scratch[:keep*n])
		return
	}
	for p0 := 0; p0 < k; p0 += kBlock {
		p1 := min(p0+kBlock, k)
		i := 0
		if s.tall && acs == 1 && ars != 1 {
			// Row-major A on AVX-512: 8×32 tiles in assembly where they
			// fit, the 4-row tiles for the other columns.
			for ; i+8 <= m; i += 8 {
				j := s.rows8(c, a, b, i, p0, p1, n, ars, zero && p0 == 0)
				s.rows4(c, a, b, i, j, p0, p1, n, ars, acs)
				s.rows4(c, a, b, i+4, j, p0, p1, n, ars, acs)
			}
		}
		if s.six && (acs == 1 || ars == 1) {
			// On AVX2: two 6×16 tiles in assembly down 12 rows where they
			// fit, the 4-row tiles for the other columns of those 12 rows
			// (and for the last rows; m is a multiple of 4 here when A is
			// row-major).
			z := zero && p0 == 0
			for ; i+12 <= m; i += 12 {
				j := s.rows6(c, a, b, i, p0, p1, n, ars, acs, z)
				s.rows6(c, a, b, i+6, p0, p1, n, ars, acs, z)
				s.rows4(c, a, b, i, j, p0, p1, n, ars, acs)
				s.rows4(c, a, b, i+4, j, p0, p1, n, ars, acs)
				s.rows4(c, a, b, i+8, j, p0, p1, n, ars, acs)
			}
		}
		for ; i+4 <= m; i += 4 {
			s.rows4(c, a, b, i, 0, p0, p1, n, ars, acs)
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

// rows8 adds A(i..i+7, p0..p1)·B(p0..p1, j) into C for the 32-column
// strips j < n&^31 with the assembly 8×32 tile (row-major A, acs == 1), and
// returns the first column it left. Every element is the same chain of
// fused multiply-adds as in the 4-row tiles, so results do not depend on
// which tile computed them.
func (s SIMD) rows8(c, a, b []float32, i, p0, p1, n, ars int, zero bool) int {
	kc := p1 - p0
	j := 0
	for ; j+32 <= n; j += 32 {
		// The last element each operand's tile reads, checked here
		// because the assembly does not.
		_ = c[(i+7)*n+j+31]
		_ = a[(i+7)*ars+p1-1]
		_ = b[(p1-1)*n+j+31]
		rows8x32asm(&c[i*n+j], n, &a[i*ars+p0], ars, &b[p0*n+j], n, kc, zero)
	}
	return j
}

// rows6 adds A(i..i+5, p0..p1)·B(p0..p1, j) into C for the 16-column
// strips j < n&^15 with the AVX2 assembly 6×16 tiles (row-major A, acs ==
// 1, or transposed A, ars == 1), and returns the first column it left.
// Every element is the same chain of fused multiply-adds as in the 4-row
// tiles, so results do not depend on which tile computed them. With zero
// the tiles take C as zero instead of reading it.
func (s SIMD) rows6(c, a, b []float32, i, p0, p1, n, ars, acs int, zero bool) int {
	kc := p1 - p0
	j := 0
	for ; j+16 <= n; j += 16 {
		// The last element each operand's tile reads, checked here
		// because the assembly does not.
		_ = c[(i+5)*n+j+15]
		_ = a[(i+5)*ars+(p1-1)*acs]
		_ = b[(p1-1)*n+j+15]
		tile6x16asm(&c[i*n+j], n, &a[i*ars+p0*acs], ars, acs, &b[p0*n+j], n, kc, zero)
	}
	return j
}

// rows4 adds A(i..i+3, p0..p1)·B(p0..p1, j0..n) into C with the 4-row
// register tiles: as contiguous groups A(i..i+3, p) when A is transposed
// (ars == 1), as four row slices when it is row-major (acs == 1); the
// columns beyond the last 8-column strip (and any other strides) are plain
// Go.
func (s SIMD) rows4(c, a, b []float32, i, j0, p0, p1, n, ars, acs int) {
	kc := p1 - p0
	bp := b[p0*n:]
	j := j0
	if ars == 1 {
		// Aᵀ: the 4 values A(i..i+3, p) are contiguous, acs apart.
		ap := a[i+p0*acs:]
		if s.wide {
			for ; j+32 <= n; j += 32 {
				tile4x32(c[i*n+j:], ap, acs, bp[j:], n, kc)
			}
		}
		for ; j+16 <= n; j += 16 {
			tile4x16(c[i*n+j:], ap, acs, bp[j:], n, kc)
		}
		for ; j+8 <= n; j += 8 {
			tile4x8(c[i*n+j:], ap, acs, bp[j:], n, kc)
		}
	} else if acs == 1 {
		// Row-major A: read its 4 rows in place.
		r0 := a[i*ars+p0 : i*ars+p1]
		r1 := a[(i+1)*ars+p0 : (i+1)*ars+p1]
		r2 := a[(i+2)*ars+p0 : (i+2)*ars+p1]
		r3 := a[(i+3)*ars+p0 : (i+3)*ars+p1]
		if s.wide {
			for ; j+32 <= n; j += 32 {
				rows4x32(c[i*n+j:], r0, r1, r2, r3, bp[j:], n)
			}
		}
		for ; j+16 <= n; j += 16 {
			rows4x16(c[i*n+j:], r0, r1, r2, r3, bp[j:], n)
		}
		for ; j+8 <= n; j += 8 {
			rows4x8(c[i*n+j:], r0, r1, r2, r3, bp[j:], n)
		}
	}
	// Before the scalar code (see elementwise_simd_amd64.go).
	archsimd.ClearAVXUpperBits()
	for ; j < n; j++ { // edge columns (and any other strides)
		// The four rows' sums in one pass, as four independent chains (one
		// chain was bound by the add's latency: conv1's input gradient,
		// n = 9, spent 4% of an attack iteration here); each sum is the
		// same sequence of rounded products and adds as row by row.
		s0, s1, s2, s3 := c[i*n+j], c[(i+1)*n+j], c[(i+2)*n+j], c[(i+3)*n+j]
		for p := p0; p < p1; p++ {
			bv, ap := b[p*n+j], i*ars+p*acs
			s0 += a[ap] * bv
			s1 += a[ap+ars] * bv
			s2 += a[ap+2*ars] * bv
			s3 += a[ap+3*ars] * bv
		}
		c[i*n+j], c[(i+1)*n+j], c[(i+2)*n+j], c[(i+3)*n+j] = s0, s1, s2, s3
	}
}

// rows4x32 adds A·B into the 4×32 tile of c (row stride n), where A's four
// rows are r0..r3 (each kc long) and B(p, j) = b[p*n+j]; 512-bit vectors.
func rows4x32(c, r0, r1, r2, r3, b []float32, n int) {
	kc := len(r0)
	r1, r2, r3 = r1[:kc], r2[:kc], r3[:kc]
	o0, o1, o2, o3 := c[:32], c[n:n+32], c[2*n:2*n+32], c[3*n:3*n+32]
	c0a, c0b := archsimd.LoadFloat32x16Slice(o0), archsimd.LoadFloat32x16Slice(o0[16:])
	c1a, c1b := archsimd.LoadFloat32x16Slice(o1), archsimd.LoadFloat32x16Slice(o1[16:])
	c2a, c2b := archsimd.LoadFloat32x16Slice(o2), archsimd.LoadFloat32x16Slice(o2[16:])
	c3a, c3b := archsimd.LoadFloat32x16Slice(o3), archsimd.LoadFloat32x16Slice(o3[16:])
	for p := range kc {
		bp := b[p*n : p*n+32]
		b0 := archsimd.LoadFloat32x16((*[16]float32)(bp))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(bp[16:]))
		x := archsimd.BroadcastFloat32x16(r0[p])
		c0a, c0b = x.MulAdd(b0, c0a), x.MulAdd(b1, c0b)
		x = archsimd.BroadcastFloat32x16(r1[p])
		c1a, c1b = x.MulAdd(b0, c1a), x.MulAdd(b1, c1b)
		x = archsimd.BroadcastFloat32x16(r2[p])
		c2a, c2b = x.MulAdd(b0, c2a), x.MulAdd(b1, c2b)
		x = archsimd.BroadcastFloat32x16(r3[p])
		c3a, c3b = x.MulAdd(b0, c3a), x.MulAdd(b1, c3b)
	}
	c0a.StoreSlice(o0)
	c0b.StoreSlice(o0[16:])
	c1a.StoreSlice(o1)
	c1b.StoreSlice(o1[16:])
	c2a.StoreSlice(o2)
	c2b.StoreSlice(o2[16:])
	c3a.StoreSlice(o3)
	c3b.StoreSlice(o3[16:])
}

// rows4x16 is rows4x32 for a 16-column strip with 256-bit vectors.
func rows4x16(c, r0, r1, r2, r3, b []float32, n int) {
	kc := len(r0)
	r1, r2, r3 = r1[:kc], r2[:kc], r3[:kc]
	o0, o1, o2, o3 := c[:16], c[n:n+16], c[2*n:2*n+16], c[3*n:3*n+16]
	c0a, c0b := archsimd.LoadFloat32x8Slice(o0), archsimd.LoadFloat32x8Slice(o0[8:])
	c1a, c1b := archsimd.LoadFloat32x8Slice(o1), archsimd.LoadFloat32x8Slice(o1[8:])
	c2a, c2b := archsimd.LoadFloat32x8Slice(o2), archsimd.LoadFloat32x8Slice(o2[8:])
	c3a, c3b := archsimd.LoadFloat32x8Slice(o3), archsimd.LoadFloat32x8Slice(o3[8:])
	for p := range kc {
		bp := b[p*n : p*n+16]
		b0 := archsimd.LoadFloat32x8((*[8]float32)(bp))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(bp[8:]))
		x := archsimd.BroadcastFloat32x8(r0[p])
		c0a, c0b = x.MulAdd(b0, c0a), x.MulAdd(b1, c0b)
		x = archsimd.BroadcastFloat32x8(r1[p])
		c1a, c1b = x.MulAdd(b0, c1a), x.MulAdd(b1, c1b)
		x = archsimd.BroadcastFloat32x8(r2[p])
		c2a, c2b = x.MulAdd(b0, c2a), x.MulAdd(b1, c2b)
		x = archsimd.BroadcastFloat32x8(r3[p])
		c3a, c3b = x.MulAdd(b0, c3a), x.MulAdd(b1, c3b)
	}
	c0a.StoreSlice(o0)
	c0b.StoreSlice(o0[8:])
	c1a.StoreSlice(o1)
	c1b.StoreSlice(o1[8:])
	c2a.StoreSlice(o2)
	c2b.StoreSlice(o2[8:])
	c3a.StoreSlice(o3)
	c3b.StoreSlice(o3[8:])
}

// rows4x8 is rows4x16 for an 8-column strip.
func rows4x8(c, r0, r1, r2, r3, b []float32, n int) {
	kc := len(r0)
	r1, r2, r3 = r1[:kc], r2[:kc], r3[:kc]
	o0, o1, o2, o3 := c[:8], c[n:n+8], c[2*n:2*n+8], c[3*n:3*n+8]
	c0, c1 := archsimd.LoadFloat32x8Slice(o0), archsimd.LoadFloat32x8Slice(o1)
	c2, c3 := archsimd.LoadFloat32x8Slice(o2), archsimd.LoadFloat32x8Slice(o3)
	for p := range kc {
		b0 := archsimd.LoadFloat32x8((*[8]float32)(b[p*n : p*n+8]))
		c0 = archsimd.BroadcastFloat32x8(r0[p]).MulAdd(b0, c0)
		c1 = archsimd.BroadcastFloat32x8(r1[p]).MulAdd(b0, c1)
		c2 = archsimd.BroadcastFloat32x8(r2[p]).MulAdd(b0, c2)
		c3 = archsimd.BroadcastFloat32x8(r3[p]).MulAdd(b0, c3)
	}
	c0.StoreSlice(o0)
	c1.StoreSlice(o1)
	c2.StoreSlice(o2)
	c3.StoreSlice(o3)
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

// rows8x32asm adds A·B into the 8×32 tile at c (row stride ldc), where A's
// 8 rows start at a, lda apart, and B(p, j) is b[p*ldb+j], for p < kc: one
// fused multiply-add chain per element in increasing p, as in rows4x32.
// With zero set it starts from +0 instead of c's values. In
// gemm_avx512_amd64.s; the caller checks the bounds.
//
//go:noescape
func rows8x32asm(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, kc int, zero bool)

// tile6x16asm adds A·B into the 6×16 tile at c (row stride ldc), where
// A(r, p) is a[r*rs+p*ps] (row-major A: rs = lda, ps = 1; transposed A: rs
// = 1, ps = its stride) and B(p, j) is b[p*ldb+j], for p < kc: one fused
// multiply-add chain per element in increasing p, as in the 4-row tiles.
// With zero set it starts from +0 instead of c's values. In
// gemm_avx2_amd64.s; the caller checks the bounds.
//
//go:noescape
func tile6x16asm(c *float32, ldc int, a *float32, rs, ps int, b *float32, ldb int, kc int, zero bool)

// fmaPeakAVX2 runs n rounds of 12 independent 256-bit fused multiply-adds:
// what BenchmarkFMAPeak times. In gemm_avx2_amd64.s.
//
//go:noescape
func fmaPeakAVX2(n int)

// Col2Im implements the Col2Im interface (see there). It gathers instead of
// scattering: for each image pixel and 8 channels at a time it adds up, in
// a 256-bit register, the (at most 9) patch-matrix values that fall on it,
// and stores the sum once. The order of the adds is col2imPortable's (the
// output pixels that cover an image pixel in row-major order), so the bits
// are the same. Scattering them (each output pixel's three kernel rows
// added onto the image in turn) read back values it had just stored,
// overlapping by 2c, a chain through memory that made col2im as slow as
// the input gradient's GEMM on MNIST's conv2. Channels not a multiple of 8
// go to col2imPortable.
func (s SIMD) Col2Im(dimg, dcols []float32, h, w, c int) {
	if c%8 != 0 || h < 3 || w < 3 {
		col2imPortable(dimg, dcols, h, w, c)
		return
	}
	oh, ow := h-2, w-2
	rowLen := 3 * c
	k := 3 * rowLen
	_ = dimg[h*w*c-1]
	_ = dcols[oh*ow*k-1]
	// The loads go through pointers: the indexes stay within the two
	// checks above, and slicing for each of the 9 loads per vector cost
	// more than the loads.
	img, cols := unsafe.Pointer(&dimg[0]), unsafe.Pointer(&dcols[0])
	const f = 4 // bytes per float32
	for y := range h {
		oy0, oy1 := max(0, y-2), min(oh-1, y)
		for x := range w {
			ox0, ox1 := max(0, x-2), min(ow-1, x)
			px := unsafe.Add(img, (y*w+x)*c*f)
			for ch := 0; ch < c; ch += 8 {
				at := (*[8]float32)(unsafe.Add(px, ch*f))
				sum := archsimd.LoadFloat32x8(at)
				for oy := oy0; oy <= oy1; oy++ {
					// Output pixel (oy, ox) sees this pixel in its kernel
					// row y−oy and column x−ox: patch-matrix column
					// (y−oy)·3c + (x−ox)·c + ch.
					row := oy*ow*k + (y-oy)*rowLen + x*c + ch
					for ox := ox0; ox <= ox1; ox++ {
						src := unsafe.Add(cols, (row+ox*(k-c))*f)
						sum = sum.Add(archsimd.LoadFloat32x8((*[8]float32)(src)))
					}
				}
				sum.Store(at)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
}
