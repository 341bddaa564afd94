// Package stats holds the statistics of the reproduction: intervals and
// paired tests that make a verdict about the seed paper's claims from a
// finite sample of attacked images.
//
//   - Wilson: a 95% (or any level) interval for a success rate.
//   - Bootstrap: seeded percentile intervals for the mean and median.
//   - Paired: the mean paired difference of two models on the same images
//     and goals, with a bootstrap interval and a Wilcoxon signed-rank test
//     (exact for n ≤ 50, normal approximation with tie correction above).
//   - McNemar: an exact test of two models' accuracies on the same images.
//   - MinDetectable: the power of a paired comparison, as the smallest
//     mean difference it detects at α = 0.05 with 80% power.
//   - Curve: the share of images whose minimal perturbation exceeds ε.
//   - Decide: "supported", "contradicted" or "not resolved at 95%".
//
// Everything is deterministic: the bootstrap takes a seed.
package stats

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval the reproduction reports.
const Level = 0.95

// Resamples is the number of bootstrap resamples the reproduction uses.
const Resamples = 2000

// Interval is a closed interval [Lo, Hi].
type Interval struct {
	Lo, Hi float64
}

// Contains says whether v lies in the interval.
func (iv Interval) Contains(v float64) bool { return iv.Lo <= v && v <= iv.Hi }

// Estimate is a point estimate with its interval.
type Estimate struct {
	Value float64
	CI    Interval
}

// String prints "v [lo, hi]" with 3 significant digits.
func (e Estimate) String() string {
	return fmt.Sprintf("%.3g [%.3g, %.3g]", e.Value, e.CI.Lo, e.CI.Hi)
}

// jsonNumber is v for JSON, which has no NaN or infinity: those are null.
func jsonNumber(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// MarshalJSON writes {"lo": …, "hi": …}, null where a bound is undefined.
func (iv Interval) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Lo any `json:"lo"`
		Hi any `json:"hi"`
	}{jsonNumber(iv.Lo), jsonNumber(iv.Hi)})
}

// MarshalJSON writes {"value": …, "ci": …}, null where undefined.
func (e Estimate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value any      `json:"value"`
		CI    Interval `json:"ci"`
	}{jsonNumber(e.Value), e.CI})
}

// MarshalJSON writes the summary with a null maximum when no attack
// succeeded.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		Max any `json:"Max"`
	}{plain(s), jsonNumber(s.Max)})
}

// Number is a value that may be undefined (NaN): JSON writes it as null,
// and reads null as NaN.
type Number float64

// MarshalJSON writes the number, null when it is NaN or infinite.
func (v Number) MarshalJSON() ([]byte, error) { return json.Marshal(jsonNumber(float64(v))) }

// UnmarshalJSON reads a number, null as NaN.
func (v *Number) UnmarshalJSON(b []byte) error {
	f, err := number(b)
	if err != nil {
		return fmt.Errorf("number: %w", err)
	}
	*v = Number(f)
	return nil
}

// number reads a JSON number or null (NaN).
func number(raw json.RawMessage) (float64, error) {
	if string(raw) == "null" || len(raw) == 0 {
		return math.NaN(), nil
	}
	var v float64
	err := json.Unmarshal(raw, &v)
	return v, err
}

// UnmarshalJSON reads what MarshalJSON writes: null bounds are NaN.
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var raw struct{ Lo, Hi json.RawMessage }
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("interval: %w", err)
	}
	lo, err := number(raw.Lo)
	if err != nil {
		return fmt.Errorf("interval lo: %w", err)
	}
	hi, err := number(raw.Hi)
	if err != nil {
		return fmt.Errorf("interval hi: %w", err)
	}
	*iv = Interval{lo, hi}
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes: a null value is NaN.
func (e *Estimate) UnmarshalJSON(b []byte) error {
	var raw struct {
		Value json.RawMessage
		CI    Interval
	}
	raw.CI = Interval{math.NaN(), math.NaN()}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("estimate: %w", err)
	}
	v, err := number(raw.Value)
	if err != nil {
		return fmt.Errorf("estimate value: %w", err)
	}
	*e = Estimate{Value: v, CI: raw.CI}
	return nil
}

// z returns the two-sided standard normal quantile of level (1.96 at 0.95).
func z(level float64) float64 { return distuv.UnitNormal.Quantile(1 - (1-level)/2) }

// Wilson is the Wilson score interval of a proportion k/n at level. With
// n = 0 the interval is [0, 1] and the value NaN.
func Wilson(k, n int, level float64) Estimate {
	if n <= 0 {
		return Estimate{Value: math.NaN(), CI: Interval{0, 1}}
	}
	p, nf, zz := float64(k)/float64(n), float64(n), z(level)
	z2 := zz * zz
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := zz / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return Estimate{Value: p, CI: Interval{max(0, centre-half), min(1, centre+half)}}
}

// Mean is the arithmetic mean (NaN for no values).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return stat.Mean(xs, nil)
}

// Median is the middle value, the mean of the two middle ones for an even
// count (NaN for no values).
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Bootstrap is the percentile bootstrap interval of statistic over xs:
// resamples draws of len(xs) values with replacement, from a generator
// seeded with seed, and the (1−level)/2 and (1+level)/2 empirical
// quantiles of the statistic over them. The value is statistic(xs).
func Bootstrap(xs []float64, statistic func([]float64) float64, resamples int, level float64, seed uint64) Estimate {
	e := Estimate{Value: statistic(xs)}
	if len(xs) == 0 || resamples <= 0 {
		e.CI = Interval{math.NaN(), math.NaN()}
		return e
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	draw := make([]float64, len(xs))
	vals := make([]float64, resamples)
	for r := range vals {
		for i := range draw {
			draw[i] = xs[rng.IntN(len(xs))]
		}
		vals[r] = statistic(draw)
	}
	slices.Sort(vals)
	e.CI = Interval{
		stat.Quantile((1-level)/2, stat.Empirical, vals, nil),
		stat.Quantile((1+level)/2, stat.Empirical, vals, nil),
	}
	return e
}

// BootstrapMeanOfMeans is the stratified percentile bootstrap interval of
// the average of the groups' means (Fig. 8's mean over T of the per-T mean
// distances): each resample redraws every group from itself, with
// replacement, so each group keeps its size. Empty groups are left out;
// with none left the value and interval are NaN. With one group it draws
// exactly as Bootstrap(group, Mean, …) does.
func BootstrapMeanOfMeans(groups [][]float64, resamples int, level float64, seed uint64) Estimate {
	var gs [][]float64
	for _, g := range groups {
		if len(g) > 0 {
			gs = append(gs, g)
		}
	}
	meanOfMeans := func(gs [][]float64) float64 {
		var sum float64
		for _, g := range gs {
			sum += Mean(g)
		}
		return sum / float64(len(gs))
	}
	if len(gs) == 0 || resamples <= 0 {
		v := math.NaN()
		if len(gs) > 0 {
			v = meanOfMeans(gs)
		}
		return Estimate{Value: v, CI: Interval{math.NaN(), math.NaN()}}
	}
	e := Estimate{Value: meanOfMeans(gs)}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	draws := make([][]float64, len(gs))
	for k, g := range gs {
		draws[k] = make([]float64, len(g))
	}
	vals := make([]float64, resamples)
	for r := range vals {
		for k, g := range gs {
			for i := range draws[k] {
				draws[k][i] = g[rng.IntN(len(g))]
			}
		}
		vals[r] = meanOfMeans(draws)
	}
	slices.Sort(vals)
	e.CI = Interval{
		stat.Quantile((1-level)/2, stat.Empirical, vals, nil),
		stat.Quantile((1+level)/2, stat.Empirical, vals, nil),
	}
	return e
}

// Censored returns the distances with every failed attack (ok[i] false)
// replaced by budget: a failure means the minimal perturbation is at least
// what the attack could reach, so paired comparisons count it there.
func Censored(dist []float64, ok []bool, budget float64) []float64 {
	out := make([]float64, len(dist))
	for i, d := range dist {
		if ok[i] {
			out[i] = d
		} else {
			out[i] = budget
		}
	}
	return out
}

// Summary describes one model's minimal perturbations under one attack.
type Summary struct {
	N         int      // attacked images
	Successes int      // images the attack fooled
	Success   Estimate // success rate with its Wilson interval
	Mean      Estimate // mean distance over successes, bootstrap interval
	Median    Estimate // median distance over successes, bootstrap interval
	Max       float64  // largest distance over successes (Fig. 5's bottom row)
}

// Summarize computes the Summary of per-image distances, ok[i] saying
// whether the attack on image i succeeded (failures carry no distance).
func Summarize(dist []float64, ok []bool, seed uint64) Summary {
	var found []float64
	for i, d := range dist {
		if ok[i] {
			found = append(found, d)
		}
	}
	s := Summary{N: len(dist), Successes: len(found), Success: Wilson(len(found), len(dist), Level),
		Mean: Bootstrap(found, Mean, Resamples, Level, seed), Median: Bootstrap(found, Median, Resamples, Level, seed+1),
		Max: math.NaN()}
	if len(found) > 0 {
		s.Max = slices.Max(found)
	}
	return s
}

// Comparison is a paired comparison of b against a on the same images and
// goals: the differences b_i − a_i.
type Comparison struct {
	N        int      // pairs
	MeanDiff Estimate // mean of b − a, bootstrap interval
	// W is the Wilcoxon signed-rank statistic (the sum of the ranks of the
	// positive differences) over the NonZero pairs that differ.
	W       float64
	NonZero int
	P       float64 // two-sided p-value of the signed-rank test
	Exact   bool    // P is exact (n ≤ 50) rather than the normal approximation
	// MDE is the comparison's power: the smallest mean difference it
	// detects (MinDetectable of the differences; NaN below 2 pairs).
	MDE Number
}

// Paired compares b with a pair by pair. a and b must have equal lengths.
func Paired(a, b []float64, seed uint64) (Comparison, error) {
	if len(a) != len(b) {
		return Comparison{}, fmt.Errorf("stats: paired samples of %d and %d values", len(a), len(b))
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	c := Comparison{N: len(d), MeanDiff: Bootstrap(d, Mean, Resamples, Level, seed), MDE: Number(MinDetectable(d))}
	c.W, c.NonZero, c.P, c.Exact = Wilcoxon(d)
	return c, nil
}

// Power is the power at which MinDetectable sizes the smallest detectable
// effect.
const Power = 0.8

// PowerFormula says in words how MinDetectable computes the smallest
// detectable effect, for the reports that print it.
const PowerFormula = "MDE = (z₀.₉₇₅ + z₀.₈₀)·sd/√n = 2.80·sd/√n: the smallest mean paired difference that a two-sided test at α = 0.05 " +
	"(a 95% interval excluding 0) detects with 80% power, sd the standard deviation of the n paired differences (normal approximation)"

// MinDetectable is the minimal detectable effect of a paired comparison
// whose differences are d: the smallest true mean difference that a
// two-sided test at level 1 − Level (α = 0.05) detects with probability
// Power (80%), in the normal approximation of the paired z-test,
//
//	MDE = (z_{1−α/2} + z_{Power}) · sd_d / √n = (1.960 + 0.842) · sd_d / √n,
//
// sd_d the sample standard deviation (n − 1 in the denominator) of the n
// differences. It is the effect the verdicts resolve: they require the
// 95% interval of the mean difference, about ±1.96·sd_d/√n wide, to
// exclude 0. (Wilcoxon's signed-rank test, asymptotically at least 86.4%
// as efficient as the z-test, about 95.5% for normal differences, needs at
// most √(1/0.864) ≈ 1.08 times this effect.) With fewer than 2
// differences it is NaN.
func MinDetectable(d []float64) float64 {
	if len(d) < 2 {
		return math.NaN()
	}
	za := distuv.UnitNormal.Quantile(1 - (1-Level)/2)
	zb := distuv.UnitNormal.Quantile(Power)
	return (za + zb) * stat.StdDev(d, nil) / math.Sqrt(float64(len(d)))
}

// exactLimit is the largest number of non-zero differences for which
// Wilcoxon computes the exact null distribution.
const exactLimit = 50

// Wilcoxon is the two-sided Wilcoxon signed-rank test of differences d
// against a distribution symmetric about 0. Zero differences are dropped
// (Wilcoxon's convention); tied magnitudes get their average rank. It
// returns W+ (the sum of ranks of the positive differences), the number of
// non-zero differences n, the p-value and whether it is exact. Up to n = 50
// the null distribution is enumerated exactly (with ties, over the doubled
// average ranks); above, the normal approximation with the tie-corrected
// variance and a continuity correction is used. With n = 0, p is 1.
func Wilcoxon(d []float64) (w float64, n int, p float64, exact bool) {
	rank2, w2, tieTerm := signedRanks(d)
	n, w = len(rank2), float64(w2)/2
	if n == 0 {
		return 0, 0, 1, true
	}
	if n <= exactLimit {
		return w, n, exactSignedRankP(rank2, w2), true
	}
	return w, n, normalSignedRankP(n, w, tieTerm), false
}

// signedRanks drops the zero (and NaN) differences of d and ranks the
// magnitudes of the rest, ties getting their average rank. It returns twice
// each rank (an integer even with ties), twice W+ and Σ (t³ − t) over the
// groups of t tied magnitudes.
func signedRanks(d []float64) (rank2 []int, w2 int, tieTerm float64) {
	var mag []float64
	var pos []bool
	for _, v := range d {
		if v != 0 && !math.IsNaN(v) {
			mag = append(mag, math.Abs(v))
			pos = append(pos, v > 0)
		}
	}
	n := len(mag)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Compare(mag[i], mag[j]) })
	rank2 = make([]int, n)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && mag[order[hi]] == mag[order[lo]] {
			hi++
		}
		for k := lo; k < hi; k++ {
			rank2[order[k]] = lo + 1 + hi // 2 × the average of ranks lo+1 … hi
		}
		t := float64(hi - lo)
		tieTerm += t*t*t - t
		lo = hi
	}
	for i := range n {
		if pos[i] {
			w2 += rank2[i]
		}
	}
	return rank2, w2, tieTerm
}

// normalSignedRankP is the two-sided p-value of W+ = w over n non-zero
// differences by the normal approximation: mean n(n+1)/4, variance
// n(n+1)(2n+1)/24 − Σ(t³ − t)/48, and a continuity correction of 1/2.
func normalSignedRankP(n int, w, tieTerm float64) float64 {
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	sd := math.Sqrt(nf*(nf+1)*(2*nf+1)/24 - tieTerm/48)
	if sd == 0 {
		return 1
	}
	zv := math.Max(0, math.Abs(w-mean)-0.5) / sd
	return math.Min(1, 2*distuv.UnitNormal.Survival(zv))
}

// exactSignedRankP is the two-sided p-value of the observed doubled rank
// sum w2 under the null hypothesis that each rank's sign is a fair coin:
// the distribution of Σ signs·rank2 is enumerated by dynamic programming.
func exactSignedRankP(rank2 []int, w2 int) float64 {
	total := 0
	for _, r := range rank2 {
		total += r
	}
	// count[s] is the probability that the positive ranks sum to s.
	count := make([]float64, total+1)
	count[0] = 1
	for _, r := range rank2 {
		for s := total; s >= r; s-- {
			count[s] = (count[s] + count[s-r]) / 2
		}
		for s := r - 1; s >= 0; s-- {
			count[s] /= 2
		}
	}
	// Two-sided: the probability of a sum at least as far from the centre.
	far := math.Abs(float64(w2) - float64(total)/2)
	var p float64
	for s, c := range count {
		if math.Abs(float64(s)-float64(total)/2) >= far-1e-9 {
			p += c
		}
	}
	return math.Min(1, p)
}

// McNemar is the exact two-sided McNemar test of two classifiers on the
// same images: onlyA images only the first classifies correctly, onlyB
// only the second. Under the null hypothesis of equal accuracy the
// discordant images split as a fair coin: p = min(1, 2·P(X ≤ min)) for
// X ~ Binomial(onlyA + onlyB, 1/2). With no discordant image p is 1.
func McNemar(onlyA, onlyB int) float64 {
	n := onlyA + onlyB
	if n == 0 {
		return 1
	}
	k := min(onlyA, onlyB)
	// Σ_{i ≤ k} C(n, i) / 2ⁿ, summed in log space for large n.
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	var p float64
	for i := 0; i <= k; i++ {
		p += math.Exp(lg(n) - lg(i) - lg(n-i) - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*p)
}

// Curve is the robustness curve of one model under one attack: for each ε,
// the share of attacked images whose minimal perturbation exceeds ε (what
// robustness libraries call robust accuracy against ε). A failed attack
// counts as exceeding every ε.
func Curve(dist []float64, ok []bool, eps []float64) []float64 {
	out := make([]float64, len(eps))
	if len(dist) == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	for j, e := range eps {
		above := 0
		for i, d := range dist {
			if !ok[i] || d > e {
				above++
			}
		}
		out[j] = float64(above) / float64(len(dist))
	}
	return out
}

// Verdict is what the data say about one claim.
type Verdict string

// The three verdicts.
const (
	Supported    Verdict = "supported"
	Contradicted Verdict = "contradicted"
	NotResolved  Verdict = "not resolved at 95%"
)

// Decide judges a claim that an effect is positive (or, with positive
// false, negative) from its interval: supported when the whole interval
// lies on the claimed side of 0, contradicted when it lies on the other
// side, not resolved when it contains 0.
func Decide(effect Interval, positive bool) Verdict {
	lo, hi := effect.Lo, effect.Hi
	if !positive {
		lo, hi = -hi, -lo
	}
	switch {
	case math.IsNaN(lo) || math.IsNaN(hi):
		return NotResolved
	case lo > 0:
		return Supported
	case hi < 0:
		return Contradicted
	}
	return NotResolved
}

// DecideWithin judges a claim that an effect is small, |effect| ≤ bound:
// supported when the whole interval lies within [−bound, bound],
// contradicted when it lies wholly outside it, not resolved otherwise.
func DecideWithin(effect Interval, bound float64) Verdict {
	switch {
	case math.IsNaN(effect.Lo) || math.IsNaN(effect.Hi):
		return NotResolved
	case effect.Lo >= -bound && effect.Hi <= bound:
		return Supported
	case effect.Lo > bound || effect.Hi < -bound:
		return Contradicted
	}
	return NotResolved
}
