#version 450
// dx = dy where the ReLU's output y is positive, else 0.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint total; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i < p.total) dx[i] = y[i] > 0.0 ? dy[i] : 0.0;
}
