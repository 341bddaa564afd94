#version 450
// db[dboff + j] += Σ_r dy[r·co + j]: the bias gradient over rows
// (samples, or samples × pixels).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DB { float db[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(push_constant) uniform P { uint rows, co, dboff; } p;
void main() {
	uint j = gl_GlobalInvocationID.x;
	if (j >= p.co) return;
	float s = 0.0;
	for (uint r = 0; r < p.rows; r++) s += dy[r * p.co + j];
	db[p.dboff + j] += s;
}
