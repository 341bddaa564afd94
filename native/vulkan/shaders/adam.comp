#version 450
// One Adam step (Kingma & Ba), as the attacks take it: m = b1·m + (1-b1)·g,
// v = b2·v + (1-b2)·g², w -= lr·m̂/(√v̂ + eps), with the bias corrections
// c1 = 1 - b1^t and c2 = 1 - b2^t computed by the host.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer W { float w[]; };
layout(std430, binding = 1) buffer M { float m[]; };
layout(std430, binding = 2) buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer G { float g[]; };
layout(push_constant) uniform P { uint total; float lr, b1, b2, eps, c1, c2; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i >= p.total) return;
	float gi = g[i];
	float mi = p.b1 * m[i] + (1.0 - p.b1) * gi;
	float vi = p.b2 * v[i] + (1.0 - p.b2) * gi * gi;
	m[i] = mi;
	v[i] = vi;
	w[i] -= p.lr * (mi / p.c1) / (sqrt(vi / p.c2) + p.eps);
}
