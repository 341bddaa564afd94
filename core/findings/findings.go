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
	// AttackCounts, when it names an attack, says that it ran only on the
	// correct samples among the first AttackCounts[attack] (at most
	// AttackSamples); see eval.Counts.
	AttackCounts map[string]int
	// Overstated names the attacks whose distances the run's budget check
	// found more than the slack above the paper's parameters', each with
	// what it found in words: every claim compared under such an attack
	// says so, and, unless Alike names it, that its differences may be the
	// budget's.
	Overstated map[string]string
	// Uneven names the attacks whose bias the budget check finds
	// differing between models (reproduce.BiasUneven), each with its spread
	// in words: their paired differences may be the budget's alone, so
	// they decide no claim (each such effect keeps its own verdict and says
	// why it is left out: Effect.Excluded).
	Uneven map[string]string
	// Alike names the overstated attacks whose bias the budget check finds
	// alike on the models it checked (reproduce.BiasAlike), each with its
	// spread in words: it scales their differences between models rather
	// than making them, and they still decide.
	Alike map[string]string
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
	// Excluded says why the comparison decides nothing whatever its
	// Verdict ("" when it decides): its attack's budget bias differs
	// between models (Data.Uneven).
	Excluded string `json:",omitempty"`
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

// Power is the power of the paper's central comparison, student −
// assistant, under one attack: the smallest mean paired difference in the
// attack's distance that the run detects at two-sided α = 0.05 with 80%
// power (stats.MinDetectable: (z₀.₉₇₅ + z₀.₈₀)·sd/√n), over all
// temperatures pooled and at each temperature.
type Power struct {
	Attack string       `json:"attack"`
	N      int          `json:"n"`   // pairs, all T pooled
	MDE    stats.Number `json:"mde"` // all T pooled (null below 2 pairs)
	PerT   []PowerAt    `json:"per_t"`
}

// PowerAt is the power of student − assistant at one temperature.
type PowerAt struct {
	Temperature float64      `json:"temperature"`
	N           int          `json:"n"`
	MDE         stats.Number `json:"mde"`
}

// Result is the analysis of a reproduction.
type Result struct {
	Models    []ModelStat
	Stats     []Stat
	StepMeans []StepMean
	Curves    []Curve
	Claims    []Claim
	Power     []Power
	// BudgetNote says, once for every robustness claim, what the budget
	// check's findings mean for them ("" when it found nothing to say).
	BudgetNote string
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
	r.Power = a.power()
	r.BudgetNote = a.budgetNote()
	return r
}

// power is the power of student − assistant under every attack, with the
// censored pairs counted at the budget as in the claims.
func (a *analysis) power() []Power {
	var out []Power
	for _, atk := range a.d.Attacks {
		p := Power{Attack: atk, PerT: []PowerAt{}}
		var all []float64
		for _, t := range a.temps {
			x, y := a.model(t, 1), a.model(t, 2)
			if x == nil || y == nil {
				continue
			}
			xs, ys, _ := a.distancePairs(x, y, atk)
			d := make([]float64, len(xs))
			for i := range xs {
				d[i] = ys[i] - xs[i]
			}
			all = append(all, d...)
			p.PerT = append(p.PerT, PowerAt{Temperature: t, N: len(d), MDE: stats.Number(stats.MinDetectable(d))})
		}
		p.N, p.MDE = len(all), stats.Number(stats.MinDetectable(all))
		out = append(out, p)
	}
	return out
}

// PowerText says in one line per attack what the run can detect: the
// smallest student − assistant difference in mean distance, pooled and
// per temperature, and how it is computed. It is empty without a pair.
func PowerText(ps []Power) []string {
	var out []string
	for _, p := range ps {
		if p.N == 0 {
			continue
		}
		line := fmt.Sprintf("Power, %s: the smallest student − assistant paired difference in mean %s distance this run detects at 95%% (two-sided) with 80%% power is %s over all T pooled (n = %d pairs)",
			normLabel(p.Attack), normLabel(p.Attack), mde(p.MDE), p.N)
		var per []string
		for _, at := range p.PerT {
			per = append(per, fmt.Sprintf("T=%g %s (n = %d)", at.Temperature, mde(at.MDE), at.N))
		}
		if len(per) > 1 {
			line += ", and at each T alone: " + strings.Join(per, ", ")
		}
		out = append(out, line+".")
	}
	if len(out) > 0 {
		out = append(out, "Power is computed as "+stats.PowerFormula+"; a failed attack counts at the budget.")
	}
	return out
}

// mde writes a minimal detectable effect ("–" when undefined).
func mde(v stats.Number) string {
	if math.IsNaN(float64(v)) {
		return "– (fewer than 2 pairs)"
	}
	return fmt.Sprintf("%.3g", float64(v))
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
// attack ran on (NaN where it failed): the correct ones below the attack's
// count, so that every model's are among the same images.
func (a *analysis) attacked(m *Model, atk string) map[int]float64 {
	dist := map[int]float64{}
	n := eval.Counts{All: a.d.AttackSamples, Per: a.d.AttackCounts}.Of(atk)
	for _, s := range m.Samples {
		if s.Index < n && s.Correct {
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
	if len(d) == 0 {
		return label + ": no pairs in the data (one of the two models is not in them)", c
	}
	return fmt.Sprintf("%s: mean difference %v, n = %d, Wilcoxon %s, detectable difference (80%% power) %s", label, c.MeanDiff, c.N, PText(c.P), mde(c.MDE)), c
}

// PText writes "p = " and a p-value: four decimals, in powers of ten below
// 10⁻⁴, and "p < 1e-15" below 10⁻¹⁵ (the normal approximation's p is 0 in
// float64 there).
func PText(p float64) string {
	switch {
	case p < 1e-15:
		return "p < 1e-15"
	case p < 1e-4:
		return fmt.Sprintf("p = %.1e", p)
	}
	return fmt.Sprintf("p = %.4f", p)
}

// normLabel is an attack's norm as the text writes it (L0, L2, L∞), its
// name when it is no attack.
func normLabel(atk string) string {
	if a, err := attack.Defaults().Attack(atk); err == nil {
		return a.Norm().String()
	}
	return atk
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

// disagreement says which attacks support the claim and which contradict
// it when both happen (vs[i] is attacks[i]'s verdict), "" otherwise: a
// claim about robustness is contradicted by one attack that contradicts
// it, and the note keeps the others' support visible.
func disagreement(attacks []string, vs []stats.Verdict) string {
	var sup, con []string
	for i, v := range vs {
		switch v {
		case stats.Supported:
			sup = append(sup, normLabel(attacks[i]))
		case stats.Contradicted:
			con = append(con, normLabel(attacks[i]))
		}
	}
	if len(sup) == 0 || len(con) == 0 {
		return ""
	}
	verb := func(names []string, one, many string) string {
		if len(names) == 1 {
			return names[0] + " " + one
		}
		return strings.Join(names, " and ") + " " + many
	}
	return "The attacks disagree: " + verb(sup, "supports the claim", "support the claim") + ", " + verb(con, "contradicts it", "contradict it") + "."
}

// budgetNote says, for each attack the budget check found overstating or
// uneven between models, what that means for the robustness claims (""
// when none).
func (a *analysis) budgetNote() string {
	var parts []string
	for _, atk := range a.d.Attacks {
		n := normLabel(atk)
		what, over := a.d.Overstated[atk]
		spread, uneven := a.d.Uneven[atk]
		alike, isAlike := a.d.Alike[atk]
		switch {
		case uneven && over:
			parts = append(parts, fmt.Sprintf("The budget check finds the preset's %s distances %s and its bias differing between models (%s): %s differences between models may be the cut budget's, not the models', so %s decides no verdict.", n, what, spread, n, n))
		case uneven:
			parts = append(parts, fmt.Sprintf("The budget check finds the preset's %s bias differing between models (%s): %s decides no verdict.", n, spread, n))
		case over && isAlike:
			parts = append(parts, fmt.Sprintf("The budget check finds the preset's %s distances %s, %s: alike on the models it checked, the bias scales %s differences between them rather than making them.", n, what, alike, n))
		case over:
			parts = append(parts, fmt.Sprintf("The budget check finds the preset's %s distances %s: %s differences between models may be the cut budget's, not the models'.", n, what, n))
		}
	}
	return strings.Join(parts, " ")
}

// addNote appends a sentence to cl's note.
func (cl *Claim) addNote(s string) {
	if s == "" {
		return
	}
	if cl.Note != "" {
		cl.Note += " "
	}
	cl.Note += s
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
			cl.Tests = append(cl.Tests, fmt.Sprintf("%s − %s: accuracy %+.2f pp [%+.2f, %+.2f], n = %d, McNemar %s: %s",
				p.B, p.A, 100*p.MeanDiff.Value, 100*p.MeanDiff.CI.Lo, 100*p.MeanDiff.CI.Hi, p.N, PText(*p.McNemarP), v))
			e := Effect{Label: p.B + " − " + p.A, Quantity: "accuracy", Comparison: p.Comparison, Verdict: v}
			e.P = *p.McNemarP
			cl.Effects = append(cl.Effects, e)
		}
	}
	cl.Verdict = combine(vs)
	return cl
}

// logAmplitude is log10 of a sample's gradient amplitude: as measured
// (eval.Sample.Log10Amplitude), or, in files from before it was, from the
// amplitude with those that underflowed float64 counted at 10⁻³⁰⁸
// (floored reports that).
func logAmplitude(s eval.Sample) (v float64, floored bool) {
	if s.Log10Amplitude != nil {
		return *s.Log10Amplitude, false
	}
	return math.Log10(math.Max(s.Amplitude, 1e-308)), s.Amplitude < 1e-308
}

func (a *analysis) sensitivityClaim() Claim {
	cl := Claim{Claim: "Sensitivity (the input-gradient amplitude) falls as the teacher's temperature rises",
		Note: "Compared as log10 of the amplitude (measured in log space, beyond float64's range), teacher at T against the T = 1 teacher on the same images."}
	base := a.baseTeacher(&cl)
	if base == nil {
		return cl
	}
	amp := map[int]float64{}
	floored := 0
	for _, s := range base.Samples {
		v, f := logAmplitude(s)
		amp[s.Index] = v
		floored += b2i(f)
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
				y, f := logAmplitude(s)
				floored += b2i(f)
				xs, ys = append(xs, v), append(ys, y)
				all = append(all, y-v)
			}
		}
		c, _ := stats.Paired(xs, ys, a.d.Seed)
		cl.Detail = append(cl.Detail, Pair{Quantity: "log10 amplitude", A: base.name(), B: te.name(), KeyA: base.key(), KeyB: te.key(), Comparison: c})
	}
	line, c := pooled("teachers at T > 1 − T = 1 teacher, log10 amplitude, all T pooled", all, a.d.Seed)
	cl.Verdict = stats.Decide(c.MeanDiff.CI, false)
	cl.Tests = []string{line + ": " + string(cl.Verdict)}
	cl.Effects = []Effect{{Label: "teachers at T > 1 − T = 1 teacher, all T pooled", Quantity: "log10 amplitude", Comparison: c, Verdict: cl.Verdict}}
	if floored > 0 {
		cl.addNote(fmt.Sprintf("%d amplitudes underflowed float64 and count at 10⁻³⁰⁸ (their files predate log10 amplitudes): the difference is a bound, not a measurement.", floored))
	}
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
	var deciding []string // the attacks whose verdicts decide, in vs
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
		label := fmt.Sprintf("%s: teachers at T > 1 − T = 1 teacher", normLabel(atk))
		if v, decides := a.addPooled(&cl, label, atk, all, cens); decides {
			deciding, vs = append(deciding, atk), append(vs, v)
		}
	}
	cl.Verdict = combine(vs)
	cl.addNote(disagreement(deciding, vs))
	return cl
}

// chainClaim tests that step hi of every chain needs larger perturbations
// than step lo, per attack, all temperatures pooled.
func (a *analysis) chainClaim(claim string, lo, hi int) Claim {
	cl := Claim{Claim: claim}
	var vs []stats.Verdict
	var deciding []string // the attacks whose verdicts decide, in vs
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
		label := fmt.Sprintf("%s: step %d − step %d, all T pooled", normLabel(atk), hi, lo)
		if v, decides := a.addPooled(&cl, label, atk, all, cens); decides {
			deciding, vs = append(deciding, atk), append(vs, v)
		}
	}
	cl.Verdict = combine(vs)
	if len(confounds) > 0 {
		cl.Note = "Training length differs between the compared models (" + strings.Join(confounds, "; ") + "): the difference mixes the distillation step with the training schedule."
	}
	cl.addNote(disagreement(deciding, vs))
	return cl
}

// addPooled tests the pooled paired differences all of one attack's
// distances (higher is more robust), cens of them censored, and records the
// effect and its test line in cl; it returns the effect's verdict, and
// whether it decides the claim: not when the attack's budget bias differs
// between models (Data.Uneven), whatever the interval says.
func (a *analysis) addPooled(cl *Claim, label, atk string, all []float64, cens int) (v stats.Verdict, decides bool) {
	line, c := pooled(label, all, a.d.Seed)
	v, excluded := stats.Decide(c.MeanDiff.CI, true), ""
	if spread, ok := a.d.Uneven[atk]; ok {
		excluded = unevenReason(atk, spread)
	}
	cl.Effects = append(cl.Effects, Effect{Label: label, Quantity: atk, Comparison: c, Censored: cens, Verdict: v, Excluded: excluded})
	test := fmt.Sprintf("%s (%d censored pairs): %s", line, cens, v)
	if excluded != "" {
		test += ", but " + excluded
	}
	cl.Tests = append(cl.Tests, test)
	return v, excluded == ""
}

// unevenReason is why an attack whose budget bias differs between models
// (spread, as "×0.999 to ×2.57 between models; their 95% intervals do not
// overlap") decides nothing.
func unevenReason(atk, spread string) string {
	return fmt.Sprintf("decides nothing: the budget check finds the preset's %s bias differing between models (%s), so the difference may be the budget's", normLabel(atk), spread)
}

func (a *analysis) multiStepClaim() Claim {
	const lastStep = 6 // the claim's last step
	cl := Claim{Claim: "Each further distillation step (3 to 6) raises robustness"}
	if a.maxStep < 3 {
		cl.Verdict, cl.Note = stats.NotResolved, "These results have no step beyond the student (a run with --steps 2, or steps 3 to 6 not evaluated yet): nothing to compare."
		return cl
	}
	var vs []stats.Verdict
	var deciding []string // the attacks whose verdicts decide, in vs
	var confounds []string
	var compared, missing []string // "T=40 step 3" pairs with step − 1, and those the data lack
	for _, t := range a.temps {
		for step := 3; step <= lastStep; step++ {
			name := fmt.Sprintf("T=%g step %d", t, step)
			if a.model(t, step-1) != nil && a.model(t, step) != nil {
				compared = append(compared, name)
			} else {
				missing = append(missing, name)
			}
		}
	}
	ks, pooledOver := fmt.Sprintf("3..%d", a.maxStep), "all T pooled"
	if a.maxStep == 3 {
		ks = "3"
	}
	var withPairs []string
	for _, t := range a.temps {
		for _, c := range compared {
			if strings.HasPrefix(c, fmt.Sprintf("T=%g step", t)) && !slices.Contains(withPairs, fmt.Sprintf("T=%g", t)) {
				withPairs = append(withPairs, fmt.Sprintf("T=%g", t))
			}
		}
	}
	switch {
	case len(withPairs) == 1:
		pooledOver = withPairs[0] + " only"
	case len(withPairs) < len(a.temps):
		pooledOver = strings.Join(withPairs, ", ") + " pooled"
	}
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
		label := fmt.Sprintf("%s: step k − step k−1 for k = %s, %s", normLabel(atk), ks, pooledOver)
		if v, decides := a.addPooled(&cl, label, atk, all, cens); decides {
			deciding, vs = append(deciding, atk), append(vs, v)
		}
	}
	cl.Verdict = combine(vs)
	if len(confounds) > 0 {
		cl.Note = "Training length differs (" + strings.Join(confounds, "; ") + ")."
	}
	// The claim is about every step 3 to 6 of every chain: the pairs the
	// data lack can contradict it, never support it.
	if len(missing) > 0 {
		what := fmt.Sprintf("These results compare %s with the step before; %d of the %d steps 3 to %d of their temperatures are not in them", listed(compared), len(missing), len(compared)+len(missing), lastStep)
		if cl.Verdict == stats.Supported {
			cl.Verdict = stats.NotResolved
			what += ": supported on the steps compared, not resolved for the claim"
		}
		cl.addNote(what + ".")
	}
	cl.addNote(disagreement(deciding, vs))
	return cl
}

// listed writes names as "a", "a and b" or "a, b and c", and "n steps" for
// more than six (counted as steps).
func listed(names []string) string {
	switch n := len(names); {
	case n > 6:
		return fmt.Sprintf("%d steps", n)
	case n > 1:
		return strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	case n == 1:
		return names[0]
	}
	return "no step"
}

func (a *analysis) normsClaim() Claim {
	return Claim{Claim: "L2 is the most efficient attack and L0 the least", Verdict: stats.NotResolved,
		Note: "Not testable from minimal perturbations: L0 counts pixels, L2 and L∞ measure sizes, so their distances share no scale, and the reproduction does not time attacks per image. The claim is reported, not judged."}
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
