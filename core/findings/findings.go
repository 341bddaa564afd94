// Package findings turns a reproduction's per-sample results into the
// verdicts on the seed paper's claims: every claim is tested by paired
// comparisons of models on the same test images and attack goals, with a
// 95% bootstrap interval of the effect and a Wilcoxon signed-rank (or, for
// accuracy, McNemar) test, and judged "supported", "contradicted" or "not
// resolved at 95%" from the interval (package stats).
//
// Failed attacks enter the paired comparisons as censored at the largest
// perturbation the norm allows on the image (L0: every pixel, L2: √pixels,
// L∞: 1): the attack could not find a smaller one. Per-model summaries
// (means, medians) are over successful attacks only, as in the paper.
package findings

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/stats"
)

// AccuracyBound is the paper's claim on accuracy: distillation changes it
// by at most 0.15 percentage points.
const AccuracyBound = 0.0015

// Model is one evaluated model of a chain and its per-sample results.
type Model struct {
	catalog.Identity // Epochs 0: unknown
	Samples          []eval.Sample
}

// Data is what a reproduction measured.
type Data struct {
	Attacks       []string // attack names ("l0", "l2", "linf")
	AttackSamples int      // the attacks ran on the correct samples among the first AttackSamples
	Pixels        int      // values per image (784 on MNIST): the censoring budget of each norm
	Seed          uint64   // of the bootstrap
	Models        []Model
}

// Budget is the largest perturbation an attack's norm allows on an image
// of pixels values in [0, 1]: where failed attacks are censored.
func Budget(name string, pixels int) float64 {
	a, err := attack.Defaults().Attack(name)
	if err != nil {
		return 1
	}
	return a.Norm().Largest(pixels)
}

// Stat is one model's summary under one attack.
type Stat struct {
	Temperature float64
	Step        int
	Attack      string
	Summary     stats.Summary
}

// Key names a model of the reproduction: its temperature and step.
type Key struct {
	Temperature float64
	Step        int
}

// Pair is one paired comparison, B − A, of a quantity ("accuracy",
// "log10 amplitude" or an attack's distance) on the images both models
// share.
type Pair struct {
	Quantity string
	A, B     string // the models, as "T=20 teacher"
	KeyA     Key
	KeyB     Key
	stats.Comparison
	Censored int      // pairs where at least one attack failed (censored at the budget)
	McNemarP *float64 `json:",omitempty"` // for accuracy: the McNemar test's p-value
	Confound string   `json:",omitempty"` // why the comparison mixes another effect in (training lengths)
}

// Effect is one pooled comparison that decides a claim: the mean paired
// difference with its interval, the number of pairs and the test's
// p-value (Wilcoxon signed-rank; McNemar for accuracy).
type Effect struct {
	Label    string // what is compared, as "l2: step 2 − step 1, all T pooled"
	Quantity string // "accuracy", "log10 amplitude" or an attack
	stats.Comparison
	Censored int           // pairs where at least one attack failed
	Verdict  stats.Verdict // what this comparison alone says
}

// Claim is one of the paper's claims and what the data say about it.
type Claim struct {
	Claim   string
	Verdict stats.Verdict
	// Tests are the pooled comparisons that decide the verdict, one line
	// each with the effect, its interval and n (Effects holds the same as
	// numbers); Detail the per-temperature comparisons behind them.
	Tests   []string
	Effects []Effect
	Detail  []Pair
	Note    string // what the verdict cannot say (confounds, untestable parts)
}

// Curve is one model's robustness curve under one attack: for each ε of
// the attack's grid, the share of attacked images whose minimal
// perturbation exceeds ε (a failed attack exceeds every ε).
type Curve struct {
	Temperature float64
	Step        int
	Attack      string
	Eps         []float64
	Above       []float64
	N           int // attacked images
}

// CurvePoints is the number of ε values of a robustness curve, from 0 to
// the largest distance any model needed under that attack.
const CurvePoints = 41

// ModelStat is one model's per-image quantities over every evaluated
// test image, each with its 95% interval: accuracy and the share of
// vanished gradients with Wilson intervals, the mean confidence and mean
// gradient amplitude with bootstrap intervals (the amplitude's percentile
// interval holds on a log axis too: it is invariant under monotone maps).
type ModelStat struct {
	Temperature float64
	Step        int
	Role        string
	Epochs      int // epochs it was trained (0: unknown)
	N           int // evaluated test images
	Accuracy    stats.Estimate
	Confidence  stats.Estimate
	Amplitude   stats.Estimate
	NearZero    stats.Estimate // share of images with amplitude < eval.NearZeroThreshold
}

// StepMean is Fig. 8's average over temperatures of the mean minimal
// perturbation at one distillation step under one attack, with a
// stratified bootstrap interval (each temperature's successful attacks
// resampled within themselves).
type StepMean struct {
	Step         int
	Attack       string
	Mean         stats.Estimate
	Temperatures int // temperatures with at least one successful attack
	N            int // successful attacks over those temperatures
}

// Result is the analysis of a reproduction.
type Result struct {
	Models    []ModelStat
	Stats     []Stat
	StepMeans []StepMean
	Curves    []Curve
	Claims    []Claim
}

// Analyze computes every summary and claim of d.
func Analyze(d Data) Result {
	a := analysis{d: d, byKey: map[[2]float64]*Model{}}
	for i := range d.Models {
		m := &d.Models[i]
		a.byKey[[2]float64{m.Temperature, float64(m.Step)}] = m
		if !slices.Contains(a.temps, m.Temperature) {
			a.temps = append(a.temps, m.Temperature)
		}
		a.maxStep = max(a.maxStep, m.Step)
	}
	slices.Sort(a.temps)
	var r Result
	grid := map[string][]float64{}
	for _, atk := range d.Attacks {
		top := 0.0
		for i := range d.Models {
			for _, v := range a.attacked(&d.Models[i], atk) {
				if !math.IsNaN(v) {
					top = max(top, v)
				}
			}
		}
		for k := range CurvePoints {
			grid[atk] = append(grid[atk], top*float64(k)/(CurvePoints-1))
		}
	}
	for _, t := range a.temps {
		for step := 0; step <= a.maxStep; step++ {
			m := a.model(t, step)
			if m == nil {
				continue
			}
			r.Models = append(r.Models, modelStat(m, d.Seed))
			for _, atk := range d.Attacks {
				dist := values(a.attacked(m, atk))
				ok := make([]bool, len(dist))
				for i, v := range dist {
					ok[i] = !math.IsNaN(v)
				}
				r.Stats = append(r.Stats, Stat{Temperature: t, Step: step, Attack: atk, Summary: stats.Summarize(dist, ok, d.Seed)})
				if len(dist) == 0 {
					continue // no attacked image: no curve
				}
				r.Curves = append(r.Curves, Curve{Temperature: t, Step: step, Attack: atk, Eps: grid[atk],
					Above: stats.Curve(dist, ok, grid[atk]), N: len(dist)})
			}
		}
	}
	for _, atk := range d.Attacks {
		for step := 0; step <= a.maxStep; step++ {
			var groups [][]float64
			sm := StepMean{Step: step, Attack: atk}
			for _, t := range a.temps {
				if m := a.model(t, step); m != nil {
					var found []float64
					for _, v := range values(a.attacked(m, atk)) {
						if !math.IsNaN(v) {
							found = append(found, v)
						}
					}
					if len(found) > 0 {
						groups = append(groups, found)
						sm.Temperatures++
						sm.N += len(found)
					}
				}
			}
			if sm.Temperatures == 0 {
				continue
			}
			sm.Mean = stats.BootstrapMeanOfMeans(groups, stats.Resamples, stats.Level, d.Seed+uint64(step))
			r.StepMeans = append(r.StepMeans, sm)
		}
	}
	r.Claims = []Claim{a.accuracyClaim(), a.sensitivityClaim(), a.temperatureClaim(),
		a.chainClaim("The student (teacher → assistant → student) is more robust than the assistant (teacher → student directly, Papernot's defensively distilled network)", 1, 2),
		a.chainClaim("The assistant is more robust than the teacher", 0, 1),
		a.chainClaim("The student is more robust than the teacher", 0, 2),
		a.multiStepClaim(), a.normsClaim()}
	return r
}

// modelStat summarizes one model's evaluated images.
func modelStat(m *Model, seed uint64) ModelStat {
	n := len(m.Samples)
	correct, near := 0, 0
	conf, amp := make([]float64, n), make([]float64, n)
	for i, s := range m.Samples {
		if s.Correct {
			correct++
		}
		if s.Amplitude < eval.NearZeroThreshold {
			near++
		}
		conf[i], amp[i] = s.Confidence, s.Amplitude
	}
	return ModelStat{Temperature: m.Temperature, Step: m.Step, Role: m.Role, Epochs: m.Epochs, N: n,
		Accuracy: stats.Wilson(correct, n, stats.Level), NearZero: stats.Wilson(near, n, stats.Level),
		Confidence: stats.Bootstrap(conf, stats.Mean, stats.Resamples, stats.Level, seed),
		Amplitude:  stats.Bootstrap(amp, stats.Mean, stats.Resamples, stats.Level, seed+1)}
}

type analysis struct {
	d       Data
	byKey   map[[2]float64]*Model
	temps   []float64
	maxStep int
}

func (a *analysis) model(t float64, step int) *Model { return a.byKey[[2]float64{t, float64(step)}] }

// baseTeacher is the T = 1 teacher that the temperature claims compare
// with; without one, cl is not resolved and says why.
func (a *analysis) baseTeacher(cl *Claim) *Model {
	base := a.model(1, 0)
	if base == nil {
		cl.Verdict, cl.Note = stats.NotResolved, "No T = 1 teacher in the data."
	}
	return base
}

// Name is how a model is called in the findings: "T=20 student".
func Name(t float64, role string) string { return fmt.Sprintf("T=%g %s", t, role) }

func (m *Model) name() string { return Name(m.Temperature, m.Role) }

func (m *Model) key() Key { return Key{m.Temperature, m.Step} }

// attacked returns, by test-set index, the distance of every sample the
// attack ran on (NaN where it failed).
func (a *analysis) attacked(m *Model, atk string) map[int]float64 {
	dist := map[int]float64{}
	for _, s := range m.Samples {
		if s.Index < a.d.AttackSamples && s.Correct {
			dist[s.Index] = float64(s.Distance[atk])
		}
	}
	return dist
}

// values lists m's values in key order.
func values(m map[int]float64) []float64 {
	var out []float64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// confound says whether two models were trained for different lengths.
func confound(x, y *Model) string {
	if x.Epochs > 0 && y.Epochs > 0 && x.Epochs != y.Epochs && x.Step > 0 && y.Step > 0 {
		return fmt.Sprintf("trained %d vs %d epochs", x.Epochs, y.Epochs)
	}
	return ""
}

// distancePairs pairs the censored distances of two models under an attack
// on the images both were attacked on (the same goal: the random target
// depends on the image only).
func (a *analysis) distancePairs(x, y *Model, atk string) (xs, ys []float64, censored int) {
	dx, dy := a.attacked(x, atk), a.attacked(y, atk)
	budget := Budget(atk, a.d.Pixels)
	for _, k := range slices.Sorted(maps.Keys(dx)) {
		vy, both := dy[k]
		if !both {
			continue
		}
		vx := dx[k]
		if math.IsNaN(vx) || math.IsNaN(vy) {
			censored++
		}
		if math.IsNaN(vx) {
			vx = budget
		}
		if math.IsNaN(vy) {
			vy = budget
		}
		xs, ys = append(xs, vx), append(ys, vy)
	}
	return xs, ys, censored
}

// distancePair is the paired comparison y − x of an attack's distances.
func (a *analysis) distancePair(x, y *Model, atk string, seed uint64) (Pair, []float64, []float64) {
	xs, ys, cens := a.distancePairs(x, y, atk)
	c, _ := stats.Paired(xs, ys, seed)
	return Pair{Quantity: atk, A: x.name(), B: y.name(), KeyA: x.key(), KeyB: y.key(), Comparison: c, Censored: cens, Confound: confound(x, y)}, xs, ys
}

// accuracyPair compares the correctness of two models on the same images.
func (a *analysis) accuracyPair(x, y *Model, seed uint64) (Pair, []float64) {
	cx := map[int]bool{}
	for _, s := range x.Samples {
		cx[s.Index] = s.Correct
	}
	var diff []float64
	onlyX, onlyY := 0, 0
	for _, s := range y.Samples {
		c, ok := cx[s.Index]
		if !ok {
			continue
		}
		switch {
		case c && !s.Correct:
			onlyX++
			diff = append(diff, -1)
		case !c && s.Correct:
			onlyY++
			diff = append(diff, 1)
		default:
			diff = append(diff, 0)
		}
	}
	c, _ := stats.Paired(make([]float64, len(diff)), diff, seed)
	mcnemar := stats.McNemar(onlyX, onlyY)
	return Pair{Quantity: "accuracy", A: x.name(), B: y.name(), KeyA: x.key(), KeyB: y.key(), Comparison: c, McNemarP: &mcnemar, Confound: confound(x, y)}, diff
}

// pooled is the paired comparison of all the differences of several pairs
// taken together, as one line of evidence.
func pooled(label string, d []float64, seed uint64) (string, stats.Comparison) {
	c, _ := stats.Paired(make([]float64, len(d)), d, seed)
	return fmt.Sprintf("%s: mean difference %v, n = %d, Wilcoxon p = %s", label, c.MeanDiff, c.N, pValue(c.P)), c
}

func pValue(p float64) string {
	if p < 1e-4 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.4f", p)
}

// combine is the verdict of a claim tested by several pooled tests: it is
// supported when every test supports it, contradicted when any contradicts
// it, and not resolved otherwise.
func combine(vs []stats.Verdict) stats.Verdict {
	if len(vs) == 0 {
		return stats.NotResolved
	}
	all := true
	for _, v := range vs {
		if v == stats.Contradicted {
			return stats.Contradicted
		}
		all = all && v == stats.Supported
	}
	if all {
		return stats.Supported
	}
	return stats.NotResolved
}

func (a *analysis) accuracyClaim() Claim {
	cl := Claim{Claim: fmt.Sprintf("Distillation changes test accuracy by at most %.2f percentage points", 100*AccuracyBound)}
	var vs []stats.Verdict
	for _, t := range a.temps {
		te := a.model(t, 0)
		if te == nil {
			continue
		}
		for step := 1; step <= a.maxStep; step++ {
			m := a.model(t, step)
			if m == nil {
				continue
			}
			p, _ := a.accuracyPair(te, m, a.d.Seed+uint64(step))
			v := stats.DecideWithin(p.MeanDiff.CI, AccuracyBound)
			vs = append(vs, v)
			cl.Detail = append(cl.Detail, p)
			cl.Tests = append(cl.Tests, fmt.Sprintf("%s − %s: accuracy %+.2f pp [%+.2f, %+.2f], n = %d, McNemar p = %s: %s",
				p.B, p.A, 100*p.MeanDiff.Value, 100*p.MeanDiff.CI.Lo, 100*p.MeanDiff.CI.Hi, p.N, pValue(*p.McNemarP), v))
			e := Effect{Label: p.B + " − " + p.A, Quantity: "accuracy", Comparison: p.Comparison, Verdict: v}
			e.P = *p.McNemarP
			cl.Effects = append(cl.Effects, e)
		}
	}
	cl.Verdict = combine(vs)
	return cl
}

// logAmplitude is log10 of a gradient amplitude, with amplitudes that
// underflowed float64 counted at 10⁻³⁰⁸.
func logAmplitude(v float64) float64 { return math.Log10(math.Max(v, 1e-308)) }

func (a *analysis) sensitivityClaim() Claim {
	cl := Claim{Claim: "Sensitivity (the input-gradient amplitude) falls as the teacher's temperature rises",
		Note: "Compared as log10 of the amplitude, teacher at T against the T = 1 teacher on the same images."}
	base := a.baseTeacher(&cl)
	if base == nil {
		return cl
	}
	amp := map[int]float64{}
	for _, s := range base.Samples {
		amp[s.Index] = logAmplitude(s.Amplitude)
	}
	var all []float64
	for _, t := range a.temps {
		te := a.model(t, 0)
		if t == 1 || te == nil {
			continue
		}
		var xs, ys []float64
		for _, s := range te.Samples {
			if v, ok := amp[s.Index]; ok {
				xs, ys = append(xs, v), append(ys, logAmplitude(s.Amplitude))
				all = append(all, ys[len(ys)-1]-v)
			}
		}
		c, _ := stats.Paired(xs, ys, a.d.Seed)
		cl.Detail = append(cl.Detail, Pair{Quantity: "log10 amplitude", A: base.name(), B: te.name(), KeyA: base.key(), KeyB: te.key(), Comparison: c})
	}
	line, c := pooled("teachers at T > 1 − T = 1 teacher, log10 amplitude, all T pooled", all, a.d.Seed)
	cl.Verdict = stats.Decide(c.MeanDiff.CI, false)
	cl.Tests = []string{line + ": " + string(cl.Verdict)}
	cl.Effects = []Effect{{Label: "teachers at T > 1 − T = 1 teacher, all T pooled", Quantity: "log10 amplitude", Comparison: c, Verdict: cl.Verdict}}
	return cl
}

func (a *analysis) temperatureClaim() Claim {
	cl := Claim{Claim: "Robustness (the minimal perturbation) rises with the teacher's temperature",
		Note: "Teacher at T against the T = 1 teacher on the same images and goals, all T > 1 pooled."}
	base := a.baseTeacher(&cl)
	if base == nil {
		return cl
	}
	var vs []stats.Verdict
	for _, atk := range a.d.Attacks {
		var all []float64
		cens := 0
		for _, t := range a.temps {
			te := a.model(t, 0)
			if t == 1 || te == nil {
				continue
			}
			p, xs, ys := a.distancePair(base, te, atk, a.d.Seed)
			cl.Detail = append(cl.Detail, p)
			cens += p.Censored
			for i := range xs {
				all = append(all, ys[i]-xs[i])
			}
		}
		label := fmt.Sprintf("%s: teachers at T > 1 − T = 1 teacher", atk)
		vs = append(vs, cl.addPooled(label, atk, all, cens, a.d.Seed))
	}
	cl.Verdict = combine(vs)
	return cl
}

// chainClaim tests that step hi of every chain needs larger perturbations
// than step lo, per attack, all temperatures pooled.
func (a *analysis) chainClaim(claim string, lo, hi int) Claim {
	cl := Claim{Claim: claim}
	var vs []stats.Verdict
	var confounds []string
	for _, atk := range a.d.Attacks {
		var all []float64
		cens := 0
		for _, t := range a.temps {
			x, y := a.model(t, lo), a.model(t, hi)
			if x == nil || y == nil {
				continue
			}
			p, xs, ys := a.distancePair(x, y, atk, a.d.Seed)
			cl.Detail = append(cl.Detail, p)
			cens += p.Censored
			if p.Confound != "" && !slices.Contains(confounds, fmt.Sprintf("T=%g: %s", t, p.Confound)) {
				confounds = append(confounds, fmt.Sprintf("T=%g: %s", t, p.Confound))
			}
			for i := range xs {
				all = append(all, ys[i]-xs[i])
			}
		}
		label := fmt.Sprintf("%s: step %d − step %d, all T pooled", atk, hi, lo)
		vs = append(vs, cl.addPooled(label, atk, all, cens, a.d.Seed))
	}
	cl.Verdict = combine(vs)
	if len(confounds) > 0 {
		cl.Note = "Training length differs between the compared models (" + strings.Join(confounds, "; ") + "): the difference mixes the distillation step with the training schedule."
	}
	return cl
}

// addPooled tests the pooled paired differences all of one attack's
// distances (higher is more robust), cens of them censored, and records the
// effect and its test line in cl; it returns the verdict.
func (cl *Claim) addPooled(label, atk string, all []float64, cens int, seed uint64) stats.Verdict {
	line, c := pooled(label, all, seed)
	v := stats.Decide(c.MeanDiff.CI, true)
	cl.Effects = append(cl.Effects, Effect{Label: label, Quantity: atk, Comparison: c, Censored: cens, Verdict: v})
	cl.Tests = append(cl.Tests, fmt.Sprintf("%s (%d censored pairs): %s", line, cens, v))
	return v
}

func (a *analysis) multiStepClaim() Claim {
	cl := Claim{Claim: "Each further distillation step (3 to 6) raises robustness"}
	if a.maxStep < 3 {
		cl.Verdict, cl.Note = stats.NotResolved, "The data have no step beyond the student."
		return cl
	}
	var vs []stats.Verdict
	var confounds []string
	for _, atk := range a.d.Attacks {
		var all []float64
		cens := 0
		for _, t := range a.temps {
			for step := 3; step <= a.maxStep; step++ {
				x, y := a.model(t, step-1), a.model(t, step)
				if x == nil || y == nil {
					continue
				}
				p, xs, ys := a.distancePair(x, y, atk, a.d.Seed)
				cl.Detail = append(cl.Detail, p)
				cens += p.Censored
				if p.Confound != "" && !slices.Contains(confounds, fmt.Sprintf("T=%g step %d: %s", t, step, p.Confound)) {
					confounds = append(confounds, fmt.Sprintf("T=%g step %d: %s", t, step, p.Confound))
				}
				for i := range xs {
					all = append(all, ys[i]-xs[i])
				}
			}
		}
		label := fmt.Sprintf("%s: step k − step k−1 for k = 3..%d, all T pooled", atk, a.maxStep)
		vs = append(vs, cl.addPooled(label, atk, all, cens, a.d.Seed))
	}
	cl.Verdict = combine(vs)
	if len(confounds) > 0 {
		cl.Note = "Training length differs (" + strings.Join(confounds, "; ") + ")."
	}
	return cl
}

func (a *analysis) normsClaim() Claim {
	return Claim{Claim: "L2 is the most efficient attack and L0 the least", Verdict: stats.NotResolved,
		Note: "Not testable from minimal perturbations: L0 counts pixels, L2 and L∞ measure sizes, so their distances share no scale, and the reproduction does not time attacks per image. The claim is reported, not judged."}
}
