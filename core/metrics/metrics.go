// Package metrics computes the four measurements of the seed paper's
// section V on a test set, all with the model evaluated at T = 1:
//
//   - Accuracy: the fraction of samples classified correctly (Fig. 3, 7).
//   - Sensitivity: the amplitude of the gradient of the model's output
//     with respect to its input (Fig. 4).
//   - Robustness: the minimal perturbation the C&W attacks need (Fig. 5, 8).
//   - Confidence: eq. 14 (Fig. 6).
//
// Every function sees the model only through attack.Classifier.
package metrics

import (
	"context"
	"fmt"
	"math"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
)

// batch bounds how many samples are sent to the classifier at once.
const batch = 128

// CheckFinite reports the first of the first n images of set (all when n
// <= 0) on which clf's logits are not all finite: a model whose outputs
// overflow gives no measurement worth computing.
func CheckFinite(clf attack.Classifier, set *data.Set, n int) error {
	if n <= 0 || n > set.Len() {
		n = set.Len()
	}
	k := clf.Classes()
	z := make([]float32, batch*k)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		clf.Logits(z, set.Images[lo*set.ImageSize():hi*set.ImageSize()], hi-lo)
		for i, v := range z[:(hi-lo)*k] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("the model's output on test image %d is %v: its weights overflow float32", lo+i/k, v)
			}
		}
	}
	return nil
}

// Accuracy is the fraction of set that clf classifies correctly.
func Accuracy(clf attack.Classifier, set *data.Set) float64 {
	if set.Len() == 0 {
		return math.NaN()
	}
	k := clf.Classes()
	correct := 0
	z := make([]float32, batch*k)
	for lo := 0; lo < set.Len(); lo += batch {
		hi := min(lo+batch, set.Len())
		clf.Logits(z, set.Images[lo*set.ImageSize():hi*set.ImageSize()], hi-lo)
		for i := lo; i < hi; i++ {
			if nn.Argmax(z[(i-lo)*k:(i-lo+1)*k]) == int(set.Labels[i]) {
				correct++
			}
		}
	}
	return float64(correct) / float64(set.Len())
}

// Sensitivity summarises the input gradients of a model.
type Sensitivity struct {
	// MeanAmplitude is the mean over samples of the amplitude
	// (1/d)·Σ_i |∂F_y(x)/∂x_i|: the mean absolute input-gradient component
	// of the softmax probability F_y of the true class y.
	MeanAmplitude float64
	// NearZero is the proportion of samples whose amplitude is below 1e-10
	// (Fig. 4): the vanishing gradients that defensive distillation causes.
	NearZero float64
	// Amplitudes are the per-sample values.
	Amplitudes []float64
}

// NearZeroThreshold is the amplitude below which a gradient counts as
// vanished (Fig. 4).
const NearZeroThreshold = 1e-10

// MeasureSensitivity computes the Sensitivity of clf over set. The gradient
// of F_y = softmax(Z)_y at T = 1 is J_Zᵀ·w with w = F_y(e_y − F). On a
// saturated model (a logit margin beyond about 17, as at high distillation
// temperatures) float32 rounds F_y to 1 and 1 − F_y to 0, although the true
// amplitude is still, say, 10⁻⁸ at a margin of 20 or 10⁻³⁰ at a margin of
// 70. So w is computed in log space in float64 and scaled so that its
// largest component is 1; the backward pass, linear in w, runs in float32
// on the scaled weights, and the amplitude is rescaled in float64. Values
// are measured down to float64's range (about 10⁻³⁰⁸); below it they are 0.
func MeasureSensitivity(clf attack.Classifier, set *data.Set) Sensitivity {
	n, is, k := set.Len(), set.ImageSize(), clf.Classes()
	s := Sensitivity{Amplitudes: make([]float64, n)}
	if n == 0 {
		return s
	}
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
			a = a / float64(is) * math.Exp(logScale[i-lo])
			s.Amplitudes[i] = a
			s.MeanAmplitude += a
			if a < NearZeroThreshold {
				s.NearZero++
			}
		}
	}
	s.MeanAmplitude /= float64(n)
	s.NearZero /= float64(n)
	return s
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

// Confidence is eq. 14 of the seed paper (after Papernot et al.): the mean
// over samples of max_i F_i(x) when x is classified correctly and 0 when
// not, with F the softmax at T = 1.
func Confidence(clf attack.Classifier, set *data.Set) float64 {
	n, k := set.Len(), clf.Classes()
	if n == 0 {
		return math.NaN()
	}
	z := make([]float32, batch*k)
	p := make([]float32, k)
	var sum float64
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		clf.Logits(z, set.Images[lo*set.ImageSize():hi*set.ImageSize()], hi-lo)
		for i := lo; i < hi; i++ {
			nn.SoftmaxT(p, z[(i-lo)*k:(i-lo+1)*k], 1)
			if c := nn.Argmax(p); c == int(set.Labels[i]) {
				sum += float64(p[c])
			}
		}
	}
	return sum / float64(n)
}

// Robustness summarises one attack over a set of samples.
type Robustness struct {
	Attack      string
	Attempts    int // attacks run (samples × goals)
	Successes   int
	SuccessRate float64
	// MeanDistance and MaxDistance are over successful attacks, in the
	// attack's own norm (L0: pixels, L2, L∞).
	MeanDistance float64
	MaxDistance  float64
	Distances    []float64 // per attempt; NaN where the attack failed
	// Samples and Goals are each attempt's position in the set and goal,
	// in the order of Distances.
	Samples []int
	Goals   []attack.Goal
}

// AttackBatch runs one attack over len(goals) images x (one goal each),
// calling finished as each image's attack ends; attack.Attack.Run is
// one.
type AttackBatch func(ctx context.Context, x []float32, goals []attack.Goal, finished func(int, attack.Result)) ([]attack.Result, error)

// Distance picks the attack's own norm from a result.
func Distance(name string, r attack.Result) (float64, error) {
	a, err := attack.Defaults().Attack(name)
	if err != nil {
		return 0, err
	}
	return a.Norm().Of(r), nil
}

// MeasureRobustness attacks every sample of set that clf classifies
// correctly, with the goals of mode (see attack.Goals; "random" is
// attack.RandomTarget of seed and the sample's position in set, the rule
// the reproduction uses too), and summarises the minimal perturbations.
// Samples the model already misclassifies are skipped, as in the reference
// evaluation. All attacks go to run as one batch (results do not depend on
// how it schedules them). progress, if set, is called after each attack.
func MeasureRobustness(ctx context.Context, clf attack.Classifier, name string, run AttackBatch, set *data.Set, mode string, seed uint64, progress func(done, total int)) (Robustness, error) {
	if _, err := Distance(name, attack.Result{}); err != nil {
		return Robustness{}, err
	}
	k := clf.Classes()
	z := make([]float32, k)
	type job struct {
		sample int
		goal   attack.Goal
	}
	var jobs []job
	var xs []float32
	var goals []attack.Goal
	for i := range set.Len() {
		clf.Logits(z, set.Image(i), 1)
		label := int(set.Labels[i])
		gs, err := attack.Goals(mode, label, k, z, seed, i)
		if err != nil {
			return Robustness{}, err
		}
		if nn.Argmax(z) != label {
			continue
		}
		for _, g := range gs {
			jobs = append(jobs, job{i, g})
			xs = append(xs, set.Image(i)...)
			goals = append(goals, g)
		}
	}
	var results []attack.Result
	if len(jobs) > 0 {
		done := 0
		var err error
		results, err = run(ctx, xs, goals, func(int, attack.Result) {
			done++
			if progress != nil {
				progress(done, len(jobs))
			}
		})
		if err != nil {
			return Robustness{}, fmt.Errorf("%s attacks: %w", name, err)
		}
	}
	rob := Robustness{Attack: name, Attempts: len(jobs)}
	for j, r := range results {
		rob.Samples = append(rob.Samples, jobs[j].sample)
		rob.Goals = append(rob.Goals, jobs[j].goal)
		if !r.Success {
			rob.Distances = append(rob.Distances, math.NaN())
			continue
		}
		d, _ := Distance(name, r)
		rob.Successes++
		rob.Distances = append(rob.Distances, d)
		rob.MeanDistance += d
		rob.MaxDistance = math.Max(rob.MaxDistance, d)
	}
	if rob.Successes > 0 {
		rob.MeanDistance /= float64(rob.Successes)
	}
	if rob.Attempts > 0 {
		rob.SuccessRate = float64(rob.Successes) / float64(rob.Attempts)
	}
	return rob, nil
}
