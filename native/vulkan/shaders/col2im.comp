#version 450
// The image gradient of a 3×3 valid convolution from the patch-matrix
// gradient, gathered (each input value sums the up to 9 windows it was in):
// no two invocations write the same place.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer DCols { float dcols[]; };
layout(push_constant) uniform P { uint n, h, w, c; } p;
void main() {
	uint oh = p.h - 2, ow = p.w - 2, k = 9 * p.c;
	uint idx = gl_GlobalInvocationID.x;
	if (idx >= p.n * p.h * p.w * p.c) return;
	uint ch = idx % p.c, t = idx / p.c;
	uint x = t % p.w; t /= p.w;
	uint y = t % p.h, img = t / p.h;
	float sum = 0.0;
	for (uint ky = 0; ky < 3; ky++) {
		if (y < ky || y - ky >= oh) continue;
		for (uint kx = 0; kx < 3; kx++) {
			if (x < kx || x - kx >= ow) continue;
			uint row = img * oh * ow + (y - ky) * ow + (x - kx);
			sum += dcols[row * k + (ky * 3 + kx) * p.c + ch];
		}
	}
	dx[idx] = sum;
}
