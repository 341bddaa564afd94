package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/stats"
)

// ModelRef names a model of the chains: its temperature and step, and in
// a made check the SHA-256 of the model file it was made on.
type ModelRef struct {
	Temperature float64 `json:"temperature"`
	Step        int     `json:"step"`
	SHA256      string  `json:"sha256,omitempty"`
}

// BudgetModels are the models of the budget check: the T = 1 teacher, the
// T = 40 teacher and the T = 40 student, the least and most saturated.
func BudgetModels() []ModelRef {
	return []ModelRef{{Temperature: 1}, {Temperature: 40}, {Temperature: 40, Step: 2}}
}

// BudgetSlack is how far above the paper's parameters a preset's mean
// distance may be before the results say that the preset overstates it.
const BudgetSlack = 0.05

// BudgetRatio compares, for one attack, the minimal perturbation a preset
// finds with the one the paper's parameters find on the same images and
// goals: the ratio preset / full per image, over the images where both
// succeed.
type BudgetRatio struct {
	Attack string  `json:"attack"`
	Pairs  int     `json:"pairs"` // images where both budgets succeed (none: the ratios are 0)
	Mean   float64 `json:"mean_ratio"`
	Lo     float64 `json:"ci_lo"` // 95% bootstrap interval of the mean ratio
	Hi     float64 `json:"ci_hi"`
	// OnlyFull and OnlyPreset count the images only one budget succeeds on.
	OnlyFull   int `json:"only_full"`
	OnlyPreset int `json:"only_preset"`
}

// Above reports whether the preset's distances are more than BudgetSlack
// above the paper's.
func (r BudgetRatio) Above() bool { return r.Mean > 1+BudgetSlack }

// BudgetCheck is the budget check of a preset.
type BudgetCheck struct {
	Dataset       string   `json:"dataset"`
	Preset        string   `json:"preset"`
	MaxIterations int      `json:"max_iterations"` // the preset's cap on iterations per constant (0: none)
	Images        int      `json:"images"`         // test images attacked per model
	Attacks       []string `json:"attacks"`        // the run's attacks, one ratio each
	Seed          uint64   `json:"seed"`           // the run's seed, which picks the goals
	// AttackParams are the preset's parameters of each attack
	// (Settings.AttackParams); a file from before they were recorded gets
	// those of then (legacyConfigs) when parsed.
	AttackParams map[string]string `json:"attack_params,omitempty"`
	Models       []ModelRef        `json:"models"`
	Ratios       []BudgetRatio
	// ByModel are the same ratios per model of Models, in its order: a
	// preset can overstate one network's distances and not another's.
	ByModel [][]BudgetRatio `json:"by_model,omitempty"`
}

// BudgetFile is the file, in an output folder, of the budget check made
// for the run there: a run resumed without --budget, and tadd merge over
// its shards, keep it.
const BudgetFile = "budget.json"

// maxBudgetFile bounds a budget check file (a few hundred bytes).
const maxBudgetFile = 1 << 20

// Over lists the ratios of the attacks whose preset distances are more
// than BudgetSlack above the paper's parameters'.
func (b BudgetCheck) Over() []BudgetRatio {
	var out []BudgetRatio
	for _, r := range b.Ratios {
		if r.Pairs > 0 && r.Above() {
			out = append(out, r)
		}
	}
	return out
}

// Bias is how a preset's bias under one attack compares between the
// models a budget check attacked.
type Bias int

const (
	// BiasUnknown: the check has no by-model ratios for the attack, or
	// fewer than two models with pairs, and neither of the others holds.
	BiasUnknown Bias = iota
	// BiasAlike: the models' mean ratios lie within BudgetSlack of each
	// other (largest / smallest ≤ 1 + BudgetSlack) and their intervals
	// overlap: the bias scales differences between models alike.
	BiasAlike
	// BiasMixed: neither alike nor shown to differ.
	BiasMixed
	// BiasUneven: it differs between models: two models' intervals do not
	// overlap and their means lie more than BudgetSlack apart, or the
	// preset never succeeds where the full budget does on one model while
	// another has pairs. An uneven bias can make, hide or reverse a
	// difference between models, so no comparison of models may rest on
	// the attack (package findings).
	BiasUneven
)

// Bias classifies the preset's bias under attack across the check's
// models; spread says it in words, as "×0.999 to ×2.57 between models" or
// "×1.08 on each model" ("" for BiasUnknown).
func (b BudgetCheck) Bias(attack string) (bias Bias, spread string) {
	if len(b.ByModel) != len(b.Models) {
		return BiasUnknown, ""
	}
	lo, hi := math.Inf(-1), math.Inf(1)            // the largest lower and the smallest upper bound
	least, most, n := math.Inf(1), math.Inf(-1), 0 // means
	neverPreset := false
	for _, rs := range b.ByModel {
		for _, m := range rs {
			switch {
			case m.Attack != attack:
			case m.Pairs > 0:
				lo, hi = max(lo, m.Lo), min(hi, m.Hi)
				least, most, n = min(least, m.Mean), max(most, m.Mean), n+1
			case m.OnlyFull > 0:
				neverPreset = true
			}
		}
	}
	if n == 0 {
		return BiasUnknown, ""
	}
	spread = fmt.Sprintf("×%.3g to ×%.3g between models", least, most)
	if fmt.Sprintf("%.3g", least) == fmt.Sprintf("%.3g", most) {
		spread = fmt.Sprintf("×%.3g on each model", least)
	}
	switch {
	case neverPreset:
		return BiasUneven, spread + ", and on one model the preset never succeeds where the full budget does"
	case n < 2:
		return BiasUnknown, ""
	case lo > hi && most > least*(1+BudgetSlack):
		return BiasUneven, spread + "; their 95% intervals do not overlap"
	case lo <= hi && most <= least*(1+BudgetSlack):
		return BiasAlike, spread
	}
	return BiasMixed, spread
}

// For reports whether the check was made for a run of these settings: the
// same dataset, preset, cap on iterations, attacks, seed and attack
// parameters (a check file from before it recorded attacks and seed is
// for no run).
func (b BudgetCheck) For(s Settings) bool {
	return b.Dataset == s.Dataset && b.Preset == s.Preset && b.MaxIterations == s.MaxIterations &&
		slices.Equal(b.Attacks, s.Attacks) && b.Seed == s.Seed && maps.Equal(b.AttackParams, s.params())
}

// Changed lists the check's models that the plan's chains hold in another
// version than the check was made on (retrained since), or not at all, as
// "T=… step …": a check with any is not the run's.
func (b BudgetCheck) Changed(p Plan) []string {
	var out []string
	for _, ref := range b.Models {
		name := fmt.Sprintf("T=%g step %d", ref.Temperature, ref.Step)
		if _, info, err := p.Models.Model(ref.Temperature, ref.Step); err != nil {
			out = append(out, name+" (not in the chains)")
		} else if info.SHA256 != ref.SHA256 {
			out = append(out, name)
		}
	}
	return out
}

// ParseBudgetCheck decodes a budget check file and checks what the
// reports rely on: a preset, non-negative counts and finite ratios.
func ParseBudgetCheck(b []byte) (BudgetCheck, error) {
	var c BudgetCheck
	if len(b) > maxBudgetFile {
		return c, fmt.Errorf("budget check: %d bytes, more than %d", len(b), maxBudgetFile)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("budget check: %w", err)
	}
	if c.Preset == "" || c.Images < 0 || c.MaxIterations < 0 {
		return c, fmt.Errorf("budget check: preset %q, %d images, at most %d iterations", c.Preset, c.Images, c.MaxIterations)
	}
	if c.AttackParams == nil {
		c.AttackParams = paramsOf(legacyConfigs(Settings{Dataset: c.Dataset, Preset: c.Preset, MaxIterations: c.MaxIterations}), c.Attacks)
	}
	if len(c.ByModel) > 0 && len(c.ByModel) != len(c.Models) {
		return c, fmt.Errorf("budget check: ratios of %d models, %d models", len(c.ByModel), len(c.Models))
	}
	for _, rs := range append([][]BudgetRatio{c.Ratios}, c.ByModel...) {
		for _, r := range rs {
			finite := !math.IsNaN(r.Mean+r.Lo+r.Hi) && !math.IsInf(r.Mean+r.Lo+r.Hi, 0)
			if r.Attack == "" || r.Pairs < 0 || r.OnlyFull < 0 || r.OnlyPreset < 0 || !finite {
				return c, fmt.Errorf("budget check: ratio %+v", r)
			}
		}
	}
	return c, nil
}

// LoadBudgetCheck reads the budget check of an output folder (BudgetFile
// in fsys). ok is false when there is none, or when it was made for other
// settings than set (For); a file that does not parse is an error.
func LoadBudgetCheck(fsys fs.FS, set Settings) (check BudgetCheck, ok bool, err error) {
	b, err := readSized(fsys, BudgetFile, maxBudgetFile)
	if errors.Is(err, fs.ErrNotExist) {
		return check, false, nil
	}
	if err != nil {
		return check, false, err
	}
	if check, err = ParseBudgetCheck(b); err != nil {
		return check, false, fmt.Errorf("%s: %w", BudgetFile, err)
	}
	return check, check.For(set), nil
}

// Text says what the check found, in one paragraph.
func (b BudgetCheck) Text() string {
	var models []string
	for _, m := range b.Models {
		models = append(models, fmt.Sprintf("T=%g step %d", m.Temperature, m.Step))
	}
	var parts, above []string
	for _, r := range b.Ratios {
		if r.Pairs == 0 {
			parts = append(parts, fmt.Sprintf("%s: no image where both budgets succeed", r.Attack))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s ×%.3g [%.3g, %.3g] (n = %d; only the full budget succeeds on %d, only the preset on %d)",
			r.Attack, r.Mean, r.Lo, r.Hi, r.Pairs, r.OnlyFull, r.OnlyPreset))
		if r.Above() {
			above = append(above, r.Attack)
		}
	}
	t := fmt.Sprintf("Budget check of the %s preset on the first %d test images of %s: mean ratio of the minimal perturbation to the paper's parameters' (95%% bootstrap interval): %s.",
		b.Preset, b.Images, strings.Join(models, ", "), strings.Join(parts, "; "))
	if len(above) > 0 {
		t += fmt.Sprintf(" The %s preset's %s distances are more than %.0f%% above the full budget's: they overstate the minimal perturbation.",
			b.Preset, strings.Join(above, ", "), 100*BudgetSlack)
		if by := b.byModelText(above); by != "" {
			t += " By model: " + by + "."
		}
	}
	return t
}

// ModelText is what the check found for one attack model by model, as
// "T=1 step 0 ×1, T=40 step 0 ×2.05" ("" when the check has no
// per-model ratios: files from before it kept them).
func (b BudgetCheck) ModelText(attack string) string {
	if len(b.ByModel) != len(b.Models) {
		return ""
	}
	var parts []string
	for i, rs := range b.ByModel {
		for _, r := range rs {
			if r.Attack == attack && r.Pairs > 0 {
				parts = append(parts, fmt.Sprintf("T=%g step %d ×%.3g [%.3g, %.3g]", b.Models[i].Temperature, b.Models[i].Step, r.Mean, r.Lo, r.Hi))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// byModelText is ModelText for each of attacks, "; "-separated.
func (b BudgetCheck) byModelText(attacks []string) string {
	var parts []string
	for _, a := range attacks {
		if m := b.ModelText(a); m != "" {
			parts = append(parts, a+" "+m)
		}
	}
	return strings.Join(parts, "; ")
}

// BudgetChunk is the most attacked images of a budget check's model
// computed between two writes of its partial file, when the plan resumes
// by chunks: one image at the paper's parameters takes minutes, and the
// run's chunk (tens of images) would keep nothing of a check interrupted
// within its first hour.
const BudgetChunk = 4

// CheckBudget attacks the first images test images of each model of refs
// with the plan's preset and with the paper's parameters (attack.Defaults),
// on the same goals, and compares the distances. Each model's per-sample
// results of each budget are cached in the output folder under budget/
// like the run's, so an interrupted check resumes (by chunks of at most
// BudgetChunk images when the plan resumes by chunks). The plan's chains are
// completed first, as Run does.
func CheckBudget(ctx context.Context, p Plan, images int, refs []ModelRef) (BudgetCheck, error) {
	if images < 1 {
		return BudgetCheck{}, fmt.Errorf("budget check: %d images, want at least 1", images)
	}
	if err := p.complete(ctx); err != nil {
		return BudgetCheck{}, err
	}
	images = min(images, p.Test.Len())
	set := p.Settings
	set.Samples, set.AttackSamples, set.AttackCounts, set.Steps = images, images, nil, 0
	preset := p
	preset.Settings, preset.Shard, preset.Shipped = set, eval.Shard{I: 0, N: 1}, nil
	preset.prefix = "budget/" + set.Preset + "/"
	full := preset
	full.Settings.Preset, full.Settings.MaxIterations = Full, 0
	full.prefix = "budget/" + Full + "/"
	if full.full == nil {
		d := attack.Defaults()
		full.full = &d
	}
	if p.Chunk > 0 {
		preset.Chunk, full.Chunk = min(p.Chunk, BudgetChunk), min(p.Chunk, BudgetChunk)
	}
	check := BudgetCheck{Dataset: p.Settings.Dataset, Preset: p.Settings.Preset, MaxIterations: p.Settings.MaxIterations, Images: images,
		Attacks: slices.Clone(p.Settings.Attacks), Seed: p.Settings.Seed, AttackParams: preset.settings().AttackParams}
	var all ratioSet
	for _, ref := range refs {
		m, info, err := p.Models.Model(ref.Temperature, ref.Step)
		if err != nil {
			return check, fmt.Errorf("budget check: T=%g step %d: %w", ref.Temperature, ref.Step, err)
		}
		ref.SHA256 = info.SHA256
		check.Models = append(check.Models, ref)
		var runs [2][]eval.Sample
		for i, q := range []Plan{preset, full} {
			ev, err := q.evaluate(ctx, m, chainModels{}, info)
			if err != nil {
				return check, fmt.Errorf("budget check: T=%g %s, %s budget: %w", ref.Temperature, info.Role, q.Settings.Preset, err)
			}
			what := "evaluated" + ev.timing
			if ev.from != "" {
				what = "cached in " + ev.from
			}
			p.log("budget check: T=%g %s, %s budget: %s", ref.Temperature, info.Role, q.Settings.Preset, what)
			runs[i] = ev.samples
		}
		var one ratioSet
		one.add(set.Attacks, runs[0], runs[1])
		all.add(set.Attacks, runs[0], runs[1])
		check.ByModel = append(check.ByModel, one.mean(set.Attacks, set.Seed))
	}
	check.Ratios = all.mean(set.Attacks, set.Seed)
	return check, nil
}

// ratioSet gathers, per attack, the ratios preset / full of the images
// where both budgets succeed, and counts those only one succeeds on.
type ratioSet struct {
	ratios               map[string][]float64
	onlyFull, onlyPreset map[string]int
}

// add adds the correctly classified samples of one model's two runs.
func (r *ratioSet) add(attacks []string, preset, full []eval.Sample) {
	if r.ratios == nil {
		r.ratios, r.onlyFull, r.onlyPreset = map[string][]float64{}, map[string]int{}, map[string]int{}
	}
	for k, s := range preset {
		if !s.Correct {
			continue
		}
		for _, a := range attacks {
			dp, df := float64(s.Distance[a]), float64(full[k].Distance[a])
			switch {
			case !math.IsNaN(dp) && !math.IsNaN(df) && df > 0:
				r.ratios[a] = append(r.ratios[a], dp/df)
			case math.IsNaN(dp) && !math.IsNaN(df):
				r.onlyFull[a]++
			case !math.IsNaN(dp) && math.IsNaN(df):
				r.onlyPreset[a]++
			}
		}
	}
}

// mean is the set's mean ratio per attack with seeded bootstrap intervals.
func (r ratioSet) mean(attacks []string, seed uint64) []BudgetRatio {
	var out []BudgetRatio
	for _, a := range attacks {
		q := BudgetRatio{Attack: a, Pairs: len(r.ratios[a]), OnlyFull: r.onlyFull[a], OnlyPreset: r.onlyPreset[a]}
		if q.Pairs > 0 {
			e := stats.Bootstrap(r.ratios[a], stats.Mean, stats.Resamples, stats.Level, seed)
			q.Mean, q.Lo, q.Hi = e.Value, e.CI.Lo, e.CI.Hi
		}
		out = append(out, q)
	}
	return out
}
