package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/findings"
	"github.com/tadd-project/tadd/core/reproduce"
)

// TestOverBudgetOnEveryFigure: when the budget check finds a preset's
// distances more than 5% above the paper's parameters', every figure's
// title and caption says so for that attack, in every preset; an attack
// within the slack is not called over budget.
func TestOverBudgetOnEveryFigure(t *testing.T) {
	check := reproduce.BudgetCheck{Dataset: "mnist", Preset: "standard", Images: 20, Models: reproduce.BudgetModels(), Ratios: []reproduce.BudgetRatio{
		{Attack: "l2", Pairs: 55, Mean: 1.02, Lo: 1, Hi: 1.04},
		{Attack: "linf", Pairs: 50, Mean: 1.3, Lo: 1.2, Hi: 1.4}}}
	for _, preset := range []string{"quick", "standard"} {
		t.Run(preset, func(t *testing.T) {
			r := synthetic([]float64{1, 10}, 2, 20, 5)
			r.Preset = preset
			c := check
			c.Preset = preset
			r.SetBudgetCheck(c)
			line := r.budgetLine()
			if !strings.Contains(line, "linf") || strings.Contains(line, "l2") || !strings.Contains(line, "×1.3") {
				t.Errorf("budget line %q, want linf ×1.3 only", line)
			}
			if w := repeated(line); w != "" {
				t.Errorf("budget line %q says %q twice", line, w)
			}
			_, html, figs := writeReport(t, r)
			for _, f := range figs {
				b, _ := os.ReadFile(f)
				if !strings.Contains(string(b), "over budget") {
					t.Errorf("%s does not say that linf is over budget", filepath.Base(f))
				}
			}
			if n := strings.Count(string(html), "distances of linf ×1.3 [1.2, 1.4] those with the paper"); n < len(figs) {
				t.Errorf("%d of %d captions say linf is over budget", n, len(figs))
			}
		})
	}
	// Within the slack, or without a check: no such line.
	r := synthetic([]float64{1, 10}, 2, 20, 5)
	if line := r.budgetLine(); line != "" {
		t.Errorf("no check: budget line %q", line)
	}
	c := check
	c.Ratios = c.Ratios[:1]
	r.SetBudgetCheck(c)
	if line := r.budgetLine(); strings.Contains(line, "over budget") || !strings.Contains(line, "within 5%") {
		t.Errorf("within the slack: budget line %q", line)
	}
}

// TestPresetLineShort: the preset line on every figure names the budgets
// without spelling them out (the report does), so that the title leaves
// room for the data.
func TestPresetLineShort(t *testing.T) {
	for _, preset := range []string{"quick", "standard", "full"} {
		r := synthetic([]float64{1}, 2, 20, 5)
		r.Preset = preset
		r.Budget = strings.Repeat("a long description of the budgets ", 10)
		if p := r.presetLine(); len([]rune(p)) > titleWidth || strings.Contains(p, "long description") || !strings.Contains(p, "preset "+preset) {
			t.Errorf("%s: preset line %q", preset, p)
		}
	}
}

// TestBudgetNoteOncePerRun: the findings' budget note names the pooled
// budget ratio, leaves the model-by-model ratios to the run's budget check
// and is said once, not under every claim.
func TestBudgetNoteOncePerRun(t *testing.T) {
	models := reproduce.BudgetModels()
	check := reproduce.BudgetCheck{Dataset: "mnist", Preset: "standard", Images: 20, Models: models,
		Ratios: []reproduce.BudgetRatio{{Attack: "l2", Pairs: 50, Mean: 1.3, Lo: 1.2, Hi: 1.4}}}
	for i := range models {
		check.ByModel = append(check.ByModel, []reproduce.BudgetRatio{{Attack: "l2", Pairs: 20, Mean: 1.1 + 0.2*float64(i), Lo: 1, Hi: 2}})
	}
	if !strings.Contains(check.Text(), "By model: l2 T=") {
		t.Fatalf("the check's own text lacks its by-model ratios: %q", check.Text())
	}
	res := analysedWith(t, check)
	if n := res.BudgetNote; !strings.Contains(n, "×1.3 [1.2, 1.4]") || strings.Contains(n, "step 0 ×") {
		t.Errorf("budget note %q, want the pooled ratio only", n)
	}
	for _, cl := range res.Claims {
		if strings.Contains(cl.Note, "budget check") {
			t.Errorf("%q: the note repeats the budget note: %q", cl.Claim, cl.Note)
		}
	}
}

// TestBudgetBiasReachesTheFindings: a check whose by-model ratios differ
// between models under one attack (l2 here) keeps that attack out of the
// verdicts, and one whose bias is alike on each model (linf) says that it
// scales the differences.
func TestBudgetBiasReachesTheFindings(t *testing.T) {
	models := reproduce.BudgetModels()
	check := reproduce.BudgetCheck{Dataset: "mnist", Preset: "standard", Images: 20, Models: models,
		Ratios: []reproduce.BudgetRatio{{Attack: "l2", Pairs: 60, Mean: 1.8, Lo: 1.5, Hi: 2.1}, {Attack: "linf", Pairs: 60, Mean: 1.3, Lo: 1.2, Hi: 1.4}}}
	for i := range models {
		m := 1 + float64(i)
		check.ByModel = append(check.ByModel, []reproduce.BudgetRatio{
			{Attack: "l2", Pairs: 20, Mean: m, Lo: m - 0.1, Hi: m + 0.1},
			{Attack: "linf", Pairs: 20, Mean: 1.3, Lo: 1.2, Hi: 1.4}})
	}
	res := analysedWith(t, check)
	checked := 0
	for _, cl := range res.Claims {
		for _, e := range cl.Effects {
			checked++
			if (e.Excluded != "") != (e.Quantity == "l2") {
				t.Errorf("%q, %s: excluded %q", cl.Claim, e.Quantity, e.Excluded)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no robustness effects")
	}
	if n := res.BudgetNote; !strings.Contains(n, "L2 decides no verdict") || !strings.Contains(n, "alike on the models it checked, the bias scales L∞") {
		t.Errorf("budget note %q", n)
	}
}

// analysedWith is the analysis of a synthetic run with the budget check c.
func analysedWith(t *testing.T, c reproduce.BudgetCheck) findings.Result {
	t.Helper()
	r := synthetic([]float64{1, 10}, 2, 20, 5)
	r.SetBudgetCheck(c)
	res, ok := r.Analysis()
	if !ok {
		t.Fatal("no analysis")
	}
	return res
}
