#version 450
// y = x - offset (the input shift of the reference models).
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(push_constant) uniform P { uint total; float offset; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i < p.total) y[i] = x[i] - p.offset;
}
