#version 450
// The input gradient of 2×2 max-pooling, gathered: each input value takes
// its window's output gradient if it was the maximum, else 0.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer Arg { uint arg[]; };
layout(push_constant) uniform P { uint n, h, w, c; } p;
void main() {
	uint oh = p.h / 2, ow = p.w / 2;
	uint idx = gl_GlobalInvocationID.x;
	if (idx >= p.n * p.h * p.w * p.c) return;
	uint isz = p.h * p.w * p.c;
	uint img = idx / isz, within = idx % isz;
	uint ch = within % p.c, t = within / p.c;
	uint x = t % p.w, y = t / p.w;
	float g = 0.0;
	if (y / 2 < oh && x / 2 < ow) {
		uint o = ((img * oh + y / 2) * ow + x / 2) * p.c + ch;
		if (arg[o] == within) g = dy[o];
	}
	dx[idx] = g;
}
