#version 450
// C = A·B, or C += A·B: A is m×k and B k×n, each read through two strides,
// A(i,p) = a[aoff + i*ars + p*acs], B(p,j) = b[boff + p*brs + j*bcs], so
// that transposed operands need no copy; C is m×n, dense and row-major, at
// coff.
//
// A workgroup of 16×16 invocations computes a 64×64 tile of C, each
// invocation a 4×4 block (rows ty + 16i, columns tx + 16j), from 64×16
// tiles of A and 16×64 tiles of B staged in shared memory: 16 fused
// multiply-adds per pair of shared loads.
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, binding = 0) buffer Cbuf { float c[]; };
layout(std430, binding = 1) readonly buffer Abuf { float a[]; };
layout(std430, binding = 2) readonly buffer Bbuf { float b[]; };

layout(push_constant) uniform Params {
	uint m, k, n, ars, acs, brs, bcs, accumulate, aoff, boff, coff;
} p;

shared float As[16][65]; // [p][i], padded against bank conflicts
shared float Bs[16][65]; // [p][j]

void main() {
	uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
	uint tid = ty * 16 + tx;
	uint row0 = gl_WorkGroupID.y * 64, col0 = gl_WorkGroupID.x * 64;
	// Each tile's 16 products are summed with fma, and the tiles' partial
	// sums added with Kahan's compensation: weight gradients sum over every
	// pixel of every image of a batch (k in the 100,000s).
	precise float sum[4][4];
	precise float comp[4][4];
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 4; j++) {
			sum[i][j] = 0.0;
			comp[i][j] = 0.0;
		}
	}
	for (uint t = 0; t < p.k; t += 16) {
		for (uint l = 0; l < 4; l++) {
			uint idx = tid + 256 * l;
			uint r = idx / 16, kk = idx % 16;
			uint gr = row0 + r, gk = t + kk;
			As[kk][r] = (gr < p.m && gk < p.k) ? a[p.aoff + gr * p.ars + gk * p.acs] : 0.0;
			uint kb = idx / 64, cc = idx % 64;
			uint gkb = t + kb, gc = col0 + cc;
			Bs[kb][cc] = (gkb < p.k && gc < p.n) ? b[p.boff + gkb * p.brs + gc * p.bcs] : 0.0;
		}
		barrier();
		float part[4][4];
		for (int i = 0; i < 4; i++) {
			for (int j = 0; j < 4; j++) {
				part[i][j] = 0.0;
			}
		}
		for (uint kk = 0; kk < 16; kk++) {
			float av[4], bv[4];
			for (int i = 0; i < 4; i++) {
				av[i] = As[kk][ty + 16 * i];
				bv[i] = Bs[kk][tx + 16 * i];
			}
			for (int i = 0; i < 4; i++) {
				for (int j = 0; j < 4; j++) {
					part[i][j] = fma(av[i], bv[j], part[i][j]);
				}
			}
		}
		for (int i = 0; i < 4; i++) {
			for (int j = 0; j < 4; j++) {
				precise float y = part[i][j] - comp[i][j];
				precise float s = sum[i][j] + y;
				comp[i][j] = (s - sum[i][j]) - y;
				sum[i][j] = s;
			}
		}
		barrier();
	}
	for (int i = 0; i < 4; i++) {
		uint row = row0 + ty + 16 * i;
		if (row >= p.m) continue;
		for (int j = 0; j < 4; j++) {
			uint col = col0 + tx + 16 * j;
			if (col >= p.n) continue;
			uint ci = p.coff + row * p.n + col;
			c[ci] = p.accumulate != 0u ? c[ci] + sum[i][j] : sum[i][j];
		}
	}
}
