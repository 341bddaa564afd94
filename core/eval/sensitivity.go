package eval

import (
	"fmt"
	"math"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
)

// NearZeroThreshold is the amplitude below which a gradient counts as
// vanished (Fig. 4).
const NearZeroThreshold = 1e-10

// Amplitudes returns, for each image of set, the amplitude
// (1/d)·Σ_i |∂F_y(x)/∂x_i| of the input gradient of the softmax
// probability F_y of its true class y, at T = 1 (Fig. 4). The gradient of
// F_y = softmax(Z)_y is J_Zᵀ·w with w = F_y(e_y − F). On a saturated model
// (a logit margin beyond about 17, as at high distillation temperatures)
// float32 rounds F_y to 1 and 1 − F_y to 0, although the true amplitude is
// still, say, 10⁻⁸ at a margin of 20 or 10⁻³⁰ at a margin of 70. So w is
// computed in log space in float64 and scaled so that its largest
// component is 1; the backward pass, linear in w, runs in float32 on the
// scaled weights, and the amplitude is rescaled in float64. Values are
// measured down to float64's range (about 10⁻³⁰⁸); below it they are 0:
// Log10Amplitudes measures them beyond it.
func Amplitudes(clf attack.Classifier, set *data.Set) []float64 {
	amp, _ := AmplitudesAndLog10(clf, set)
	return amp
}

// Log10Amplitudes returns, for each image of set, log10 of its amplitude
// (Amplitudes), computed from the log-space scale so that amplitudes far
// below float64's range (10⁻⁵⁰⁰ on a network distilled at T = 40) are
// measured, not 0; -Inf only where the scaled gradient itself is 0.
func Log10Amplitudes(clf attack.Classifier, set *data.Set) []float64 {
	_, logs := AmplitudesAndLog10(clf, set)
	return logs
}

// AmplitudesAndLog10 returns Amplitudes and Log10Amplitudes from one pass.
func AmplitudesAndLog10(clf attack.Classifier, set *data.Set) (amp, log10 []float64) {
	n, is, k := set.Len(), set.ImageSize(), clf.Classes()
	amp, log10 = make([]float64, n), make([]float64, n)
	g := make([]float32, batch*is)
	z := make([]float32, batch*k)
	logScale := make([]float64, batch)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		clf.Gradient(g, z, set.Images[lo*is:hi*is], hi-lo, func(i int, zi, wi []float32) {
			logScale[i] = scaledSoftmaxGradWeights(wi, zi, int(set.Labels[lo+i]))
		})
		for i := lo; i < hi; i++ {
			var a float64
			for _, v := range g[(i-lo)*is : (i-lo+1)*is] {
				a += math.Abs(float64(v))
			}
			amp[i] = a / float64(is) * math.Exp(logScale[i-lo])
			log10[i] = math.Log10(a/float64(is)) + logScale[i-lo]/math.Ln10
		}
	}
	return amp, log10
}

// scaledSoftmaxGradWeights writes into w the weights F_y(e_y − F) of the
// gradient of F_y = softmax(z)_y, divided by their largest magnitude, and
// returns the natural log of that magnitude. Everything is computed from
// log-probabilities in float64, so no weight rounds to zero before the
// scaling: log F_j = z_j − LSE(z), log|w_j| = log F_y + log F_j for j ≠ y,
// and log w_y = log F_y + log(1 − F_y) = log F_y + LSE_{j≠y}(z) − LSE(z).
func scaledSoftmaxGradWeights(w, z []float32, y int) float64 {
	lse := logSumExp(z, -1)
	logFy := float64(z[y]) - lse
	logW := make([]float64, len(z))
	top := math.Inf(-1)
	for j := range z {
		if j == y {
			logW[j] = logFy + logSumExp(z, y) - lse
		} else {
			logW[j] = logFy + float64(z[j]) - lse
		}
		top = max(top, logW[j])
	}
	for j := range z {
		v := math.Exp(logW[j] - top)
		if j != y {
			v = -v
		}
		w[j] = float32(v)
	}
	return top
}

// logSumExp is log Σ_j exp(z_j) over j ≠ skip, in float64, shifted by the
// maximum so that it neither overflows nor underflows.
func logSumExp(z []float32, skip int) float64 {
	m := math.Inf(-1)
	for j, v := range z {
		if j != skip {
			m = max(m, float64(v))
		}
	}
	if math.IsInf(m, -1) {
		return m
	}
	var sum float64
	for j, v := range z {
		if j != skip {
			sum += math.Exp(float64(v) - m)
		}
	}
	return m + math.Log(sum)
}

// finite is &v for a finite v, nil otherwise.
func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}

// FillLog10Amplitudes measures on clf the log10 amplitudes of the samples
// that lack one (of test images test.Image(s.Index)) and sets them,
// leaving the rest of each sample as it is: what completes a samples file
// from before they were measured. It returns how many samples it measured
// (a sample whose gradient is exactly 0 stays without one, and is
// measured again the next time).
func FillLog10Amplitudes(clf attack.Classifier, test *data.Set, samples []Sample) (int, error) {
	var idx []int
	sub := &data.Set{Name: test.Name, H: test.H, W: test.W, C: test.C}
	for i, s := range samples {
		if s.Log10Amplitude != nil {
			continue
		}
		if s.Index < 0 || s.Index >= test.Len() {
			return 0, fmt.Errorf("sample of test image %d: the test set has %d", s.Index, test.Len())
		}
		idx = append(idx, i)
		sub.Images = append(sub.Images, test.Image(s.Index)...)
		sub.Labels = append(sub.Labels, test.Labels[s.Index])
	}
	if len(idx) == 0 {
		return 0, nil
	}
	for k, v := range Log10Amplitudes(clf, sub) {
		samples[idx[k]].Log10Amplitude = finite(v)
	}
	return len(idx), nil
}
