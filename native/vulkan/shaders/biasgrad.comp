#version 450
// db[dboff + j] += Σ_r dy[r·co + j]: the bias gradient over rows (samples,
// or samples × pixels; up to some 100,000). One workgroup per j: each
// invocation sums a stride of the rows, then the 256 partial sums are
// added pairwise in shared memory, for accuracy as well as speed.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DB { float db[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(push_constant) uniform P { uint rows, co, dboff; } p;
shared float part[256];
void main() {
	uint j = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
	float s = 0.0;
	for (uint r = t; r < p.rows; r += 256) s += dy[r * p.co + j];
	part[t] = s;
	barrier();
	for (uint h = 128; h > 0; h >>= 1) {
		if (t < h) part[t] += part[t + h];
		barrier();
	}
	if (t == 0) db[p.dboff + j] += part[0];
}
