#version 450
// y[i] += b[boff + i mod co]: the bias of a conv or dense layer, in place.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(push_constant) uniform P { uint total, co, boff; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i < p.total) y[i] += b[p.boff + i % p.co];
}
