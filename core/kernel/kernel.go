package kernel

// Kernels is the arithmetic seam between layers and hardware.
type Kernels interface {
	// Gemm computes C = A·B, or C += A·B when accumulate is true, where A is
	// m×k with A(i,p) = a[i*ars+p*acs], B is k×n dense row-major and C is m×n
	// dense row-major.
	Gemm(c, a, b []float32, m, k, n, ars, acs int, accumulate bool)
	// Name says which implementation this is, for benchmarks and logs.
	Name() string
}

// NameAVX2 is the Name of the SIMD kernels on a CPU with AVX2 and FMA but
// without AVX-512 (the 6×16 assembly tiles), which runs at about half the
// speed of the AVX-512 ones: what reproduce's time estimates tell apart.
const NameAVX2 = "simd-avx2"

// GemmNN computes C (+)= A·B for dense row-major A (m×k).
func GemmNN(kern Kernels, c, a, b []float32, m, k, n int, accumulate bool) {
	kern.Gemm(c, a, b, m, k, n, k, 1, accumulate)
}

// GemmTN computes C (+)= Aᵀ·B where a holds the dense row-major k×m matrix A.
func GemmTN(kern Kernels, c, a, b []float32, m, k, n int, accumulate bool) {
	kern.Gemm(c, a, b, m, k, n, 1, m, accumulate)
}

// Transpose writes the transpose of the rows×cols row-major matrix src into
// dst (cols×rows).
func Transpose(dst, src []float32, rows, cols int) {
	_ = dst[rows*cols-1]
	_ = src[rows*cols-1]
	const blk = 32
	for i0 := 0; i0 < rows; i0 += blk {
		i1 := min(i0+blk, rows)
		for j0 := 0; j0 < cols; j0 += blk {
			j1 := min(j0+blk, cols)
			for i := i0; i < i1; i++ {
				row := src[i*cols : i*cols+cols]
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = row[j]
				}
			}
		}
	}
}

// CheckGemm panics with a clear message when the slices are too short for
// the stated shapes (a programming error, never a data error): every
// Kernels checks before it computes, those outside Go (WebAssembly, GPU)
// because they would read or write other memory.
func CheckGemm(c, a, b []float32, m, k, n, ars, acs int) {
	if m == 0 || n == 0 {
		return
	}
	if len(c) < m*n {
		panic("kernel: Gemm: c too short")
	}
	if k == 0 {
		return
	}
	if len(b) < k*n {
		panic("kernel: Gemm: b too short")
	}
	if ars < 0 || acs < 0 || len(a) <= (m-1)*ars+(k-1)*acs {
		panic("kernel: Gemm: a too short")
	}
}

// Col2Im is implemented by Kernels that also run the convolution's col2im
// step (the browser's SIMD kernels, where it is a large share of an input
// gradient): Col2Im adds the ((h-2)·(w-2))×(9c) patch-matrix gradient dcols
// of a 3×3 valid convolution onto the h×w×c NHWC image gradient dimg, in
// the (ky, kx, c) order of im2col. Layers fall back to their own Go loop.
type Col2Im interface {
	Col2Im(dimg, dcols []float32, h, w, c int)
}

// Transposer is implemented by Kernels with their own matrix transpose (the
// browser's SIMD kernels: there the input gradient's weight transposes are
// a large share of an attack iteration).
type Transposer interface {
	Transpose(dst, src []float32, rows, cols int)
}

// BitComparer is implemented by Kernels with their own SameBits (the
// browser's SIMD kernels: Go's comparison there is a scalar loop, slower
// than transposing the weights again, and the layers' cached weight
// transposes are worth keeping only with a vector comparison).
type BitComparer interface {
	// SameBits reports whether a and b[:len(a)] hold the same bits, as
	// the package's SameBits does.
	SameBits(a, b []float32) bool
}

// SameBitsWith reports whether a and b[:len(a)] hold the same bits, with
// kern's own SameBits when it has one, else with SameBits.
func SameBitsWith(kern Kernels, a, b []float32) bool {
	if c, ok := kern.(BitComparer); ok {
		return c.SameBits(a, b)
	}
	return SameBits(a, b)
}

// TransposeWith writes the transpose of the rows×cols matrix src into dst
// with kern's own Transpose when it has one, else with Transpose.
func TransposeWith(kern Kernels, dst, src []float32, rows, cols int) {
	if t, ok := kern.(Transposer); ok {
		t.Transpose(dst, src, rows, cols)
		return
	}
	Transpose(dst, src, rows, cols)
}
