package reproduce

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/stats"
)

// ModelRef names a model of the chains: its temperature and step.
type ModelRef struct {
	Temperature float64 `json:"temperature"`
	Step        int     `json:"step"`
}

// BudgetModels are the models of the budget check: the T = 1 teacher, the
// T = 40 teacher and the T = 40 student, the least and most saturated.
func BudgetModels() []ModelRef { return []ModelRef{{1, 0}, {40, 0}, {40, 2}} }

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
	Preset string     `json:"preset"`
	Images int        `json:"images"` // test images attacked per model
	Models []ModelRef `json:"models"`
	Ratios []BudgetRatio
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
	}
	return t
}

// CheckBudget attacks the first images test images of each model of refs
// with the plan's preset and with the paper's parameters (attack.Defaults),
// on the same goals, and compares the distances. Each model's per-sample
// results of each budget are cached in the output folder under budget/
// like the run's, so an interrupted check resumes. The plan's chains are
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
	set.Samples, set.AttackSamples, set.Steps = images, images, 0
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
	check := BudgetCheck{Preset: p.Settings.Preset, Images: images, Models: refs}
	ratios := map[string][]float64{}
	onlyFull, onlyPreset := map[string]int{}, map[string]int{}
	for _, ref := range refs {
		m, info, err := p.Models.Model(ref.Temperature, ref.Step)
		if err != nil {
			return check, fmt.Errorf("budget check: T=%g step %d: %w", ref.Temperature, ref.Step, err)
		}
		var runs [2][]eval.Sample
		for i, q := range []Plan{preset, full} {
			ev, err := q.evaluate(ctx, m, nil, info)
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
		for k, s := range runs[0] {
			if !s.Correct {
				continue
			}
			for _, a := range set.Attacks {
				dp, df := float64(s.Distance[a]), float64(runs[1][k].Distance[a])
				switch {
				case !math.IsNaN(dp) && !math.IsNaN(df) && df > 0:
					ratios[a] = append(ratios[a], dp/df)
				case math.IsNaN(dp) && !math.IsNaN(df):
					onlyFull[a]++
				case !math.IsNaN(dp) && math.IsNaN(df):
					onlyPreset[a]++
				}
			}
		}
	}
	for _, a := range set.Attacks {
		r := BudgetRatio{Attack: a, Pairs: len(ratios[a]), OnlyFull: onlyFull[a], OnlyPreset: onlyPreset[a]}
		if r.Pairs > 0 {
			e := stats.Bootstrap(ratios[a], stats.Mean, stats.Resamples, stats.Level, set.Seed)
			r.Mean, r.Lo, r.Hi = e.Value, e.CI.Lo, e.CI.Hi
		}
		check.Ratios = append(check.Ratios, r)
	}
	return check, nil
}
