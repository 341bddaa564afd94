//go:build goexperiment.simd && amd64

package kernel

import "simd/archsimd"

var hasAVX2 = archsimd.X86.AVX2()

// Every kernel here clears the upper halves of the vector registers
// (archsimd.ClearAVXUpperBits, VZEROUPPER) when its vector loop ends and
// before any scalar code: Go compiles float arithmetic to legacy SSE
// instructions, which run several times slower while those halves are
// dirty (a false dependency on every SSE instruction). Without it the
// float64 math.Tanh of an attack's box mapping took 23% of an iteration,
// 4× its time alone.

// Add computes dst[i] += src[i] for i < len(dst).
func Add(dst, src []float32) {
	if !hasAVX2 {
		addPortable(dst, src)
		return
	}
	src = src[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		d := archsimd.LoadFloat32x8Slice(dst[i:])
		d.Add(archsimd.LoadFloat32x8Slice(src[i:])).StoreSlice(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	addPortable(dst[i:], src[i:])
}

// ReLU computes dst[i] = max(src[i], 0) for i < len(dst).
func ReLU(dst, src []float32) {
	if !hasAVX2 {
		reluPortable(dst, src)
		return
	}
	src = src[:len(dst)]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		archsimd.LoadFloat32x8Slice(src[i:]).Max(zero).StoreSlice(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	reluPortable(dst[i:], src[i:])
}

// ReLUGrad computes dx[i] = dy[i] if y[i] > 0 else 0, for y a ReLU output.
func ReLUGrad(dx, dy, y []float32) {
	if !hasAVX2 {
		reluGradPortable(dx, dy, y)
		return
	}
	dy, y = dy[:len(dx)], y[:len(dx)]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= len(dx); i += 8 {
		pos := archsimd.LoadFloat32x8Slice(y[i:]).Greater(zero)
		archsimd.LoadFloat32x8Slice(dy[i:]).Masked(pos).StoreSlice(dx[i:])
	}
	archsimd.ClearAVXUpperBits()
	reluGradPortable(dx[i:], dy[i:], y[i:])
}

var iota8 = [8]int32{0, 1, 2, 3, 4, 5, 6, 7}

// MaxArg4 computes y[i] = max(a[i], b[i], c[i], d[i]) and arg[i] = off[k]+i
// for the slice k it came from (ties to the earlier slice), for i < len(y):
// the 2×2 max-pool window over len(y) channels.
func MaxArg4(y []float32, arg []int32, a, b, c, d []float32, off [4]int32) {
	if !hasAVX2 {
		maxArg4Portable(y, arg, a, b, c, d, off)
		return
	}
	n := len(y)
	arg, a, b, c, d = arg[:n], a[:n], b[:n], c[:n], d[:n]
	idx := archsimd.LoadInt32x8(&iota8)
	step := archsimd.BroadcastInt32x8(8)
	oa, ob := archsimd.BroadcastInt32x8(off[0]).Add(idx), archsimd.BroadcastInt32x8(off[1]).Add(idx)
	oc, od := archsimd.BroadcastInt32x8(off[2]).Add(idx), archsimd.BroadcastInt32x8(off[3]).Add(idx)
	i := 0
	for ; i+8 <= n; i += 8 {
		v, at := archsimd.LoadFloat32x8Slice(a[i:]), oa
		u := archsimd.LoadFloat32x8Slice(b[i:])
		m := u.Greater(v)
		v, at = u.Merge(v, m), ob.Merge(at, m)
		u = archsimd.LoadFloat32x8Slice(c[i:])
		m = u.Greater(v)
		v, at = u.Merge(v, m), oc.Merge(at, m)
		u = archsimd.LoadFloat32x8Slice(d[i:])
		m = u.Greater(v)
		v, at = u.Merge(v, m), od.Merge(at, m)
		v.StoreSlice(y[i:])
		at.StoreSlice(arg[i:])
		oa, ob, oc, od = oa.Add(step), ob.Add(step), oc.Add(step), od.Add(step)
	}
	archsimd.ClearAVXUpperBits()
	off[0], off[1], off[2], off[3] = off[0]+int32(i), off[1]+int32(i), off[2]+int32(i), off[3]+int32(i)
	maxArg4Portable(y[i:], arg[i:], a[i:], b[i:], c[i:], d[i:], off)
}

// AdamStep is one Adam step (β1 0.9, β2 0.999, ε 1e-8) on p with moments
// m, v and gradient g, at step size lrT (the learning rate with both bias
// corrections folded in), for i < len(p).
func AdamStep(p, m, v, g []float32, lrT float32) {
	if !hasAVX2 {
		adamStepPortable(p, m, v, g, lrT)
		return
	}
	n := len(p)
	m, v, g = m[:n], v[:n], g[:n]
	b1, c1 := archsimd.BroadcastFloat32x8(adamB1), archsimd.BroadcastFloat32x8(1-adamB1)
	b2, c2 := archsimd.BroadcastFloat32x8(adamB2), archsimd.BroadcastFloat32x8(1-adamB2)
	eps, lr := archsimd.BroadcastFloat32x8(adamEps), archsimd.BroadcastFloat32x8(lrT)
	i := 0
	for ; i+8 <= n; i += 8 {
		gi := archsimd.LoadFloat32x8Slice(g[i:])
		mi := b1.Mul(archsimd.LoadFloat32x8Slice(m[i:])).Add(c1.Mul(gi))
		vi := b2.Mul(archsimd.LoadFloat32x8Slice(v[i:])).Add(c2.Mul(gi).Mul(gi))
		mi.StoreSlice(m[i:])
		vi.StoreSlice(v[i:])
		step := lr.Mul(mi).Div(vi.Sqrt().Add(eps))
		archsimd.LoadFloat32x8Slice(p[i:]).Sub(step).StoreSlice(p[i:])
	}
	archsimd.ClearAVXUpperBits()
	adamStepPortable(p[i:], m[i:], v[i:], g[i:], lrT)
}

// BoxGradient sets g[j] = (2(y[j] − x[j]) + g[j])·2y[j](1 − y[j]) for
// j < len(g): the gradient of ‖y − x‖² + (a term whose gradient g was) with
// respect to u, for y = tanh(u)/2 + 1/2.
func BoxGradient(g, y, x []float32) {
	if !hasAVX2 {
		boxGradientPortable(g, y, x)
		return
	}
	n := len(g)
	y, x = y[:n], x[:n]
	two, one := archsimd.BroadcastFloat32x8(2), archsimd.BroadcastFloat32x8(1)
	j := 0
	for ; j+8 <= n; j += 8 {
		yj := archsimd.LoadFloat32x8Slice(y[j:])
		d := two.Mul(yj.Sub(archsimd.LoadFloat32x8Slice(x[j:]))).Add(archsimd.LoadFloat32x8Slice(g[j:]))
		d.Mul(two).Mul(yj).Mul(one.Sub(yj)).StoreSlice(g[j:])
	}
	archsimd.ClearAVXUpperBits()
	boxGradientPortable(g[j:], y[j:], x[j:])
}

// SameBits reports whether a and b[:len(a)] hold the same bits (unlike ==,
// 0 and −0 differ and a NaN equals itself).
func SameBits(a, b []float32) bool {
	if !hasAVX2 {
		return sameBitsPortable(a, b)
	}
	n := len(a)
	b = b[:n]
	var diff archsimd.Int32x8 // the OR of every a ^ b
	i := 0
	for ; i+8 <= n; i += 8 {
		d := archsimd.LoadFloat32x8Slice(a[i:]).AsInt32x8().Xor(archsimd.LoadFloat32x8Slice(b[i:]).AsInt32x8())
		diff = diff.Or(d)
	}
	var zero archsimd.Int32x8
	same := diff.NotEqual(zero).ToBits() == 0
	archsimd.ClearAVXUpperBits()
	return same && sameBitsPortable(a[i:], b[i:])
}
