package kernel

// Portable is the pure-Go implementation of Kernels. It runs everywhere,
// WebAssembly included, and is the reference the other implementations are
// tested against.
type Portable struct{}

// Name implements Kernels.
func (Portable) Name() string { return "portable" }

// Gemm implements Kernels with a 4-row register block over an axpy inner
// loop, which the Go compiler keeps free of bounds checks.
func (Portable) Gemm(c, a, b []float32, m, k, n, ars, acs int, accumulate bool) {
	checkGemm(c, a, b, m, k, n, ars, acs)
	if !accumulate {
		clear(c[:m*n])
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		c2 := c[(i+2)*n : (i+2)*n+n]
		c3 := c[(i+3)*n : (i+3)*n+n]
		for p := 0; p < k; p++ {
			a0 := a[i*ars+p*acs]
			a1 := a[(i+1)*ars+p*acs]
			a2 := a[(i+2)*ars+p*acs]
			a3 := a[(i+3)*ars+p*acs]
			brow := b[p*n : p*n+n]
			c0, c1, c2, c3 := c0[:len(brow)], c1[:len(brow)], c2[:len(brow)], c3[:len(brow)]
			for j, bv := range brow {
				c0[j] += a0 * bv
				c1[j] += a1 * bv
				c2[j] += a2 * bv
				c3[j] += a3 * bv
			}
		}
	}
	for ; i < m; i++ {
		ci := c[i*n : i*n+n]
		for p := 0; p < k; p++ {
			av := a[i*ars+p*acs]
			brow := b[p*n : p*n+n]
			ci := ci[:len(brow)]
			for j, bv := range brow {
				ci[j] += av * bv
			}
		}
	}
}
