#version 450
// buf[off + i] = value for i < total (zeroing the gradients).
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Buf { float buf[]; };
layout(push_constant) uniform P { uint total, off; float value; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i < p.total) buf[p.off + i] = p.value;
}
