#version 450
// One SGD step with momentum (Nesterov's when nesterov != 0), as
// core/train: v = mu·v - lr·g; w += mu·v - lr·g (Nesterov) or w += v.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer W { float w[]; };
layout(std430, binding = 1) buffer V { float v[]; };
layout(std430, binding = 2) readonly buffer G { float g[]; };
layout(push_constant) uniform P { uint total; float lr, mu; uint nesterov; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i >= p.total) return;
	float vi = p.mu * v[i] - p.lr * g[i];
	v[i] = vi;
	w[i] += p.nesterov != 0u ? p.mu * vi - p.lr * g[i] : vi;
}
