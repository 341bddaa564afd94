package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tadd-project/tadd/core/catalog"
	ev "github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/findings"
	"github.com/tadd-project/tadd/site/serve"
)

// claimsSummary is the summary of a small synthetic reproduction: chains
// (teacher, assistant, student) at T = 1 and 40 whose L2 distances grow
// along the chain.
func claimsSummary(t *testing.T) findings.Summary {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	d := findings.Data{Attacks: []string{"l2"}, AttackSamples: 30, Pixels: 784, Seed: 1,
		Overstated: map[string]string{"l2": "×1.2 [1.1, 1.3] the paper's parameters'"}}
	for _, temp := range []float64{1, 40} {
		for step := range 3 {
			m := findings.Model{Identity: catalog.Identity{Temperature: temp, Step: step, Role: catalog.Role(step), Epochs: 50}}
			for i := range 30 {
				dist := 1 + 0.3*float64(step) + 0.1*rng.NormFloat64()
				m.Samples = append(m.Samples, ev.Sample{Index: i, Correct: i != 29, Amplitude: math.Pow(10, -3-temp/10),
					Distance: map[string]ev.Dist{"l2": ev.Dist(dist)}})
			}
			d.Models = append(d.Models, m)
		}
	}
	// Two models' samples files do not record their compute time, and
	// the per-attack count of L2 exceeds the attacked images (it is capped).
	return findings.NewSummary(findings.Analyze(d), findings.Run{Dataset: "mnist", Preset: "standard", Budget: "the paper's attack parameters",
		Samples: 30, AttackSamples: 30, Attacks: d.Attacks, Seed: 1, AttackCounts: map[string]int{"l2": 50},
		Machine: "2 × test cores", WallSeconds: 11160, Untimed: 2,
		NotEvaluated: []string{"T=40 step3 (mnist-T40-step3-step3.safetensors): not evaluated: trained for 7 epochs < 50"}})
}

// TestClaimsPanelInChromium checks the page's "What the paper claims, and
// what we measured" panel: without a shipped summary it says that none is
// shipped; with one it shows every claim's verdict, robustness against T
// for teacher, assistant and student with intervals, and the accuracy
// along the chain, as the summary has them.
func TestClaimsPanelInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	requireChromium(t)
	siteDir := t.TempDir()
	buildSite(t, siteDir)
	models, _ := modelDir(t)
	ctx, cancel := browser(t)
	defer cancel()

	// Nothing shipped (each server has its own cache of the site's files).
	none := httptest.NewServer(serve.New(os.DirFS(siteDir), os.DirFS(models)))
	defer none.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(none.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#claims-none", "No results are shipped yet", 2*time.Minute)
	if exists(t, ctx, "#claims-verdicts") {
		t.Error("the panel shows verdicts with no summary shipped")
	}

	// A shipped summary.
	s := claimsSummary(t)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(siteDir, "summary.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	shipped := httptest.NewServer(serve.New(os.DirFS(siteDir), os.DirFS(models)))
	defer shipped.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(shipped.URL+"/")); err != nil {
		t.Fatal(err)
	}
	run := waitText(t, ctx, "#claims-run", "standard preset: 30 test images per model", 2*time.Minute)
	for _, want := range []string{
		"L2 on the first 30.",
		"Computing took 3h6m0s of wall time, summed over the samples files of 4 of the 6 models; the other 2 files do not record it (unknown); machine: 2 × test cores.",
	} {
		if !strings.Contains(run, want) {
			t.Errorf("the run's description %q lacks %q", run, want)
		}
	}
	rows := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#claims-verdicts tr")).slice(1).map(r => r.cells[0].textContent.trim() + " | " + r.cells[1].textContent.trim())`)
	if len(rows) != len(s.Claims) {
		t.Errorf("%d claims shown, want %d: %q", len(rows), len(s.Claims), rows)
	}
	for i, c := range s.Claims {
		if want := c.Claim + " | " + string(c.Verdict); i < len(rows) && rows[i] != want {
			t.Errorf("claim %d: the panel shows %q, want %q", i, rows[i], want)
		}
	}
	if got := text(ctx, "#claims-budget"); !strings.Contains(got, s.Run.Budget) {
		t.Errorf("the budgets %q lack the run's %q", got, s.Run.Budget)
	}
	// What the budget check means for the claims, said once.
	if got := text(ctx, "#claims-budgetnote"); s.BudgetNote == "" || got != s.BudgetNote {
		t.Errorf("the budget note %q, want the summary's %q", got, s.BudgetNote)
	}
	if n := eval[int](t, ctx, `(document.getElementById("claims").textContent.match(/The budget check finds/g) || []).length`); n != 1 {
		t.Errorf("the budget check's note is said %d times, want once", n)
	}
	// Interim results say so, and name the models they lack.
	if got := text(ctx, "#claims-interim"); !strings.Contains(got, "Interim: these results cover 6 of the chains' 7 models") {
		t.Errorf("interim note %q", got)
	}
	if got := text(ctx, "#claims-missing"); !strings.Contains(got, s.Run.NotEvaluated[0]) {
		t.Errorf("the list of missing models %q lacks %q", got, s.Run.NotEvaluated[0])
	}
	// Each claim's effects are shown with their own verdicts, and its note
	// beside them.
	cells := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#claims-verdicts tr")).slice(1).map(r => r.cells[2].textContent)`)
	for i, c := range s.Claims {
		if i >= len(cells) {
			break
		}
		for _, e := range c.Effects {
			if !strings.Contains(cells[i], e.Text()) {
				t.Errorf("claim %d: effects %q lack %q", i, cells[i], e.Text())
			}
		}
		if !strings.Contains(cells[i], c.Note) {
			t.Errorf("claim %d: effects %q lack the note %q", i, cells[i], c.Note)
		}
	}
	l2 := text(ctx, "#claims-l2")
	for _, temp := range []float64{1, 40} {
		for step := range 3 {
			m, _ := s.Model(temp, step)
			a := m.Attacks["l2"]
			want := fmt.Sprintf("%.3g [%.3g, %.3g] (%d/%d)", a.Mean.Value, a.Mean.CI.Lo, a.Mean.CI.Hi, a.Successes, a.N)
			if !strings.Contains(l2, want) {
				t.Errorf("T=%g step %d: robustness %q not in %q", temp, step, want, l2)
			}
			acc := fmt.Sprintf("%.2f%% [%.2f, %.2f]", 100*m.Accuracy.Value, 100*m.Accuracy.CI.Lo, 100*m.Accuracy.CI.Hi)
			if got := text(ctx, "#claims-accuracy"); !strings.Contains(got, acc) {
				t.Errorf("T=%g step %d: accuracy %q not in %q", temp, step, acc, got)
			}
		}
	}
	screenshot(t, ctx, "claims.png") // into TADD_SCREENSHOTS when set

	// A summary that does not read says so rather than showing nothing.
	if err := os.WriteFile(filepath.Join(siteDir, "summary.json"), []byte(`{"version": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := httptest.NewServer(serve.New(os.DirFS(siteDir), os.DirFS(models)))
	defer broken.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(broken.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#claims-error", "version 99", 2*time.Minute)
}
