#version 450
// y = x·m element-wise (dropout, forward and backward, with its mask).
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer M { float m[]; };
layout(push_constant) uniform P { uint total; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i < p.total) y[i] = x[i] * m[i];
}
