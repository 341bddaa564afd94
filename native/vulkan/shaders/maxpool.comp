#version 450
// 2×2 max-pooling of NHWC images (h×w×c, output floor(h/2)×floor(w/2)),
// remembering for each output the index (within its image) of the input it
// took; ties go to the first of top-left, top-right, bottom-left,
// bottom-right, as on the CPU.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) writeonly buffer Arg { uint arg[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(push_constant) uniform P { uint n, h, w, c; } p;
void main() {
	uint oh = p.h / 2, ow = p.w / 2;
	uint o = gl_GlobalInvocationID.x;
	if (o >= p.n * oh * ow * p.c) return;
	uint ch = o % p.c, t = o / p.c;
	uint ox = t % ow; t /= ow;
	uint oy = t % oh, img = t / oh;
	uint isz = p.h * p.w * p.c, base = ((2 * oy) * p.w + 2 * ox) * p.c + ch;
	uint at = base;
	float v = x[img * isz + base];
	uint cand[3] = uint[3](base + p.c, base + p.w * p.c, base + p.w * p.c + p.c);
	for (int j = 0; j < 3; j++) {
		float u = x[img * isz + cand[j]];
		if (u > v) { v = u; at = cand[j]; }
	}
	y[o] = v;
	arg[o] = at;
}
