package kernel

import "math"

// Element-wise helpers used around the GEMMs. Each has a portable version
// here, branch-free so that random signs cost no mispredictions (except
// maxArg4Portable, see there), and a SIMD
// version in the amd64 SIMD build; both are tested against each other.

// addPortable computes dst[i] += src[i].
func addPortable(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// reluPortable computes dst[i] = max(src[i], 0) by clearing the bits of
// negative values (their sign bit, spread by an arithmetic shift).
func reluPortable(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		b := math.Float32bits(v)
		dst[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// reluGradPortable computes dx[i] = dy[i] where y[i] > 0, else 0, for y the
// output of ReLU (so y[i] is +0 or positive).
func reluGradPortable(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i, g := range dy {
		yb := int64(math.Float32bits(y[i]))
		keep := ^uint32((yb - 1) >> 63) // all ones when y > 0
		dx[i] = math.Float32frombits(math.Float32bits(g) & keep)
	}
}

// maxArg4Portable computes, for each i, the largest of a[i], b[i], c[i],
// d[i] into y[i] and its position into arg[i]: off[0]+i for a, off[1]+i for
// b, and so on. Ties go to the earlier slice; a NaN is never taken over a
// number before it (only u > v replaces v). Unlike the helpers above it
// keeps the comparisons as branches: a masked select measured 3× slower
// here (BenchmarkMaxArg4 in the portable build, 38 µs against 12 µs).
func maxArg4Portable(y []float32, arg []int32, a, b, c, d []float32, off [4]int32) {
	n := len(y)
	arg, a, b, c, d = arg[:n], a[:n], b[:n], c[:n], d[:n]
	for i := range y {
		v, at := a[i], off[0]
		if u := b[i]; u > v {
			v, at = u, off[1]
		}
		if u := c[i]; u > v {
			v, at = u, off[2]
		}
		if u := d[i]; u > v {
			v, at = u, off[3]
		}
		y[i], arg[i] = v, at+int32(i)
	}
}

// sameBitsPortable reports whether a and b[:len(a)] hold the same bits.
func sameBitsPortable(a, b []float32) bool {
	b = b[:len(a)]
	for i, v := range a {
		if math.Float32bits(v) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
