package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	Dataset       string     `json:"dataset"`
	Preset        string     `json:"preset"`
	MaxIterations int        `json:"max_iterations"` // the preset's cap on iterations per constant (0: none)
	Images        int        `json:"images"`         // test images attacked per model
	Attacks       []string   `json:"attacks"`        // the run's attacks, one ratio each
	Seed          uint64     `json:"seed"`           // the run's seed, which picks the goals
	Models        []ModelRef `json:"models"`
	Ratios        []BudgetRatio
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

// Uneven lists, in the check's order, the attacks whose bias the check
// finds differing between models: the by-model intervals of two models do
// not overlap. A bias common to all models (L∞ ×1.08 on each, say) scales
// every paired difference alike and keeps its sign; an uneven one can
// make, hide or reverse a difference between models, so no such attack
// may decide a comparison of models (package findings).
func (b BudgetCheck) Uneven() []string {
	if len(b.ByModel) != len(b.Models) {
		return nil
	}
	var out []string
	for _, r := range b.Ratios {
		lo, hi := math.Inf(-1), math.Inf(1) // the largest lower and the smallest upper bound
		for _, rs := range b.ByModel {
			for _, m := range rs {
				if m.Attack == r.Attack && m.Pairs > 0 {
					lo, hi = max(lo, m.Lo), min(hi, m.Hi)
				}
			}
		}
		if lo > hi {
			out = append(out, r.Attack)
		}
	}
	return out
}

// Spread is an attack's by-model ratios from the smallest mean to the
// largest, as "×0.999 to ×2.57 between models", or "×1.08 on each model"
// when they print alike ("" without by-model ratios).
func (b BudgetCheck) Spread(attack string) string {
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, rs := range b.ByModel {
		for _, m := range rs {
			if m.Attack == attack && m.Pairs > 0 {
				lo, hi, n = min(lo, m.Mean), max(hi, m.Mean), n+1
			}
		}
	}
	if n < 2 {
		return ""
	}
	if a, b := fmt.Sprintf("×%.3g", lo), fmt.Sprintf("×%.3g", hi); a != b {
		return a + " to " + b + " between models"
	}
	return fmt.Sprintf("×%.3g on each model", lo)
}

// For reports whether the check was made for a run of these settings: the
// same dataset, preset, cap on iterations, attacks and seed (a check file
// from before it recorded the last two is for no run).
func (b BudgetCheck) For(s Settings) bool {
	return b.Dataset == s.Dataset && b.Preset == s.Preset && b.MaxIterations == s.MaxIterations &&
		slices.Equal(b.Attacks, s.Attacks) && b.Seed == s.Seed
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
		Attacks: slices.Clone(p.Settings.Attacks), Seed: p.Settings.Seed}
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
