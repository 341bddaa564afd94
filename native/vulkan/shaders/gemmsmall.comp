#version 450
// C = A·B, or C += A·B: A is m×k and B k×n, each read through two strides,
// A(i,p) = a[aoff + i*ars + p*acs], B(p,j) = b[boff + p*brs + j*bcs], so
// that transposed operands need no copy; C is m×n, dense and row-major, at
// coff. The variant for small products (fewer than 64 rows or columns):
// 16×16 output tiles per workgroup, one output per invocation, with 16×16
// tiles of A and B staged in shared memory.
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, binding = 0) buffer Cbuf { float c[]; };
layout(std430, binding = 1) readonly buffer Abuf { float a[]; };
layout(std430, binding = 2) readonly buffer Bbuf { float b[]; };

layout(push_constant) uniform Params {
	uint m, k, n, ars, acs, brs, bcs, accumulate, aoff, boff, coff;
} p;

shared float As[16][17];
shared float Bs[16][17];

void main() {
	uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
	uint row = gl_WorkGroupID.y * 16 + ty, col = gl_WorkGroupID.x * 16 + tx;
	// Each tile's 16 products are summed with fma, and the tiles' partial
	// sums added with Kahan's compensation: weight gradients sum over
	// every pixel of every image of a batch (k in the 100,000s).
	precise float sum = 0.0, comp = 0.0;
	for (uint t = 0; t < p.k; t += 16) {
		uint ak = t + tx, bk = t + ty;
		As[ty][tx] = (row < p.m && ak < p.k) ? a[p.aoff + row * p.ars + ak * p.acs] : 0.0;
		Bs[ty][tx] = (bk < p.k && col < p.n) ? b[p.boff + bk * p.brs + col * p.bcs] : 0.0;
		barrier();
		float part = 0.0;
		for (uint i = 0; i < 16; i++) {
			part = fma(As[ty][i], Bs[i][tx], part);
		}
		precise float y = part - comp;
		precise float s = sum + y;
		comp = (s - sum) - y;
		sum = s;
		barrier();
	}
	if (row < p.m && col < p.n) {
		uint ci = p.coff + row * p.n + col;
		c[ci] = p.accumulate != 0u ? c[ci] + sum : sum;
	}
}
