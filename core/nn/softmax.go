package nn

import "math"

// LogSumExpT returns log Σ_j exp(z_j / T), computed stably by factoring out
// the largest term, in float64.
func LogSumExpT(z []float32, t float32) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v)/float64(t))
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v)/float64(t) - m)
	}
	return m + math.Log(s)
}

// SoftmaxT writes softmax(z / T) into dst, which may alias z. It is
// stable for any T > 0 and any finite logits.
func SoftmaxT(dst, z []float32, t float32) {
	lse := LogSumExpT(z, t)
	for j, v := range z {
		dst[j] = float32(math.Exp(float64(v)/float64(t) - lse))
	}
}

// CrossEntropyT is the mean cross-entropy of a batch of n rows of logits
// (n×k) against target distributions (n×k; one-hot rows are hard labels,
// eq. 7 of the paper; soft rows are a teacher's F(X) at T, eq. 9), with the
// model's softmax at temperature T:
//
//	L = -(1/n) Σ_i Σ_j y_ij · log softmax(z_i / T)_j
//
// It writes dL/dz = (softmax(z/T) - y) / (T·n) into dz and returns L.
func CrossEntropyT(dz, z, targets []float32, n, k int, t float32) float64 {
	var loss float64
	scale := 1 / (t * float32(n))
	for i := range n {
		zi, yi, di := z[i*k:(i+1)*k], targets[i*k:(i+1)*k], dz[i*k:(i+1)*k]
		lse := LogSumExpT(zi, t)
		for j, v := range zi {
			logp := float64(v)/float64(t) - lse
			if yi[j] != 0 {
				loss -= float64(yi[j]) * logp
			}
			di[j] = (float32(math.Exp(logp)) - yi[j]) * scale
		}
	}
	return loss / float64(n)
}

// Argmax returns the index of the largest value (the first, on ties).
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
