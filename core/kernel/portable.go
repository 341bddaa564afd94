package kernel

// Portable is the pure-Go implementation of Kernels. It runs everywhere,
// WebAssembly included, and is the reference the other implementations are
// tested against.
type Portable struct{}

// Name implements Kernels.
func (Portable) Name() string { return "portable" }

// Gemm implements Kernels. C is walked in 4×4 tiles held in sixteen scalar
// accumulators, so that the inner loop does 16 multiply-adds per 8 loads
// and no stores; edges are a plain loop.
func (Portable) Gemm(c, a, b []float32, m, k, n, ars, acs int, accumulate bool) {
	CheckGemm(c, a, b, m, k, n, ars, acs)
	if !accumulate {
		clear(c[:m*n])
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		j := 0
		for ; j+4 <= n; j += 4 {
			tile4x4(c, a, b, i, j, k, n, ars, acs)
		}
		edge(c, a, b, i, i+4, j, k, n, ars, acs)
	}
	edge(c, a, b, i, m, 0, k, n, ars, acs)
}

// tile4x4 adds A(i..i+3, :)·B(:, j..j+3) into C.
func tile4x4(c, a, b []float32, i, j, k, n, ars, acs int) {
	c0, c1, c2, c3 := c[i*n+j:i*n+j+4], c[(i+1)*n+j:(i+1)*n+j+4], c[(i+2)*n+j:(i+2)*n+j+4], c[(i+3)*n+j:(i+3)*n+j+4]
	s00, s01, s02, s03 := c0[0], c0[1], c0[2], c0[3]
	s10, s11, s12, s13 := c1[0], c1[1], c1[2], c1[3]
	s20, s21, s22, s23 := c2[0], c2[1], c2[2], c2[3]
	s30, s31, s32, s33 := c3[0], c3[1], c3[2], c3[3]
	pa, pb := i*ars, j
	for range k {
		a0, a1, a2, a3 := a[pa], a[pa+ars], a[pa+2*ars], a[pa+3*ars]
		bp := b[pb : pb+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		s00 += a0 * b0
		s01 += a0 * b1
		s02 += a0 * b2
		s03 += a0 * b3
		s10 += a1 * b0
		s11 += a1 * b1
		s12 += a1 * b2
		s13 += a1 * b3
		s20 += a2 * b0
		s21 += a2 * b1
		s22 += a2 * b2
		s23 += a2 * b3
		s30 += a3 * b0
		s31 += a3 * b1
		s32 += a3 * b2
		s33 += a3 * b3
		pa += acs
		pb += n
	}
	c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
	c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
	c2[0], c2[1], c2[2], c2[3] = s20, s21, s22, s23
	c3[0], c3[1], c3[2], c3[3] = s30, s31, s32, s33
}

// edge adds A(i0..i1, :)·B(:, j0..n) into C with a plain loop.
func edge(c, a, b []float32, i0, i1, j0, k, n, ars, acs int) {
	if j0 >= n {
		return
	}
	for i := i0; i < i1; i++ {
		ci := c[i*n+j0 : i*n+n]
		for p := range k {
			av := a[i*ars+p*acs]
			brow := b[p*n+j0 : p*n+n]
			ci := ci[:len(brow)]
			for j, bv := range brow {
				ci[j] += av * bv
			}
		}
	}
}
