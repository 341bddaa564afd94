#version 450
// The patch matrix of a 3×3 valid convolution over a batch of NHWC images:
// cols is (n·(h-2)·(w-2)) × 9c, each row one output pixel's 3×3×c window in
// (ky, kx, c) order, the order of the HWIO weights.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Cols { float cols[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform P { uint n, h, w, c; } p;
void main() {
	uint oh = p.h - 2, ow = p.w - 2, k = 9 * p.c;
	uint idx = gl_GlobalInvocationID.x;
	if (idx >= p.n * oh * ow * k) return;
	uint row = idx / k, col = idx % k;
	uint img = row / (oh * ow), pos = row % (oh * ow);
	uint oy = pos / ow, ox = pos % ow;
	uint ky = col / (3 * p.c), r = col % (3 * p.c);
	uint kx = r / p.c, ch = r % p.c;
	cols[idx] = x[((img * p.h + oy + ky) * p.w + ox + kx) * p.c + ch];
}
