#version 450
// Cross-entropy of softmax(z/T) against targets (hard or soft labels), per
// sample, with a numerically stable log-sum-exp: loss[i] = -Σ_j t_ij log p_ij,
// dz = (p - t)·scale, where scale is 1/(T·batch).
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer DZ { float dz[]; };
layout(std430, binding = 1) writeonly buffer Loss { float loss[]; };
layout(std430, binding = 2) readonly buffer Z { float z[]; };
layout(std430, binding = 3) readonly buffer T { float targets[]; };
layout(push_constant) uniform P { uint n, k; float t, scale; } p;
void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i >= p.n) return;
	uint o = i * p.k;
	float mx = z[o] / p.t;
	for (uint j = 1; j < p.k; j++) mx = max(mx, z[o + j] / p.t);
	float s = 0.0;
	for (uint j = 0; j < p.k; j++) s += exp(z[o + j] / p.t - mx);
	float lse = mx + log(s);
	float l = 0.0;
	for (uint j = 0; j < p.k; j++) {
		float logp = z[o + j] / p.t - lse;
		float tj = targets[o + j];
		if (tj != 0.0) l -= tj * logp;
		dz[o + j] = (exp(logp) - tj) * p.scale;
	}
	loss[i] = l;
}
