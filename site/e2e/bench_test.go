package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/pretrained"
	"github.com/tadd-project/tadd/site/serve"
	"github.com/tadd-project/tadd/wasm/demo"
)

// TestBrowserAttackTimes is a measurement, not a check: with TADD_BENCH=1 it
// draws a digit in the real page with the shipped T=1 teacher, times each
// attack with the browser budgets, and runs the same attacks natively with
// the paper's full budgets on the same 28×28 input, for BENCHMARKS.md.
func TestBrowserAttackTimes(t *testing.T) {
	if os.Getenv("TADD_BENCH") == "" {
		t.Skip("set TADD_BENCH=1 to measure")
	}
	models := pretrained.FS()
	if _, err := models.Open("mnist-T1-step0-teacher.safetensors"); err != nil {
		t.Skip("no shipped T=1 teacher")
	}
	ctx, cancel := browser(t)
	defer cancel()
	siteDir := t.TempDir()
	buildSite(t, siteDir)
	srv := httptest.NewServer(serve.New(os.DirFS(siteDir), models))
	defer srv.Close()
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("page ready with the MNIST teacher: %.2fs", time.Since(start).Seconds())
	// A "7": a bar and a diagonal.
	drawn := time.Now()
	draw(t, ctx, [][2]float64{{0.25, 0.22}, {0.72, 0.22}, {0.45, 0.85}})
	pred := waitText(t, ctx, "#prediction", "Prediction:", 10*time.Second)
	t.Logf("drawing to prediction: %.2fs (%s)", time.Since(drawn).Seconds(), strings.Join(strings.Fields(pred), " "))
	input, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`taddInput()`))
	if err != nil || len(input) != 784 {
		t.Fatalf("input: %v (%d values)", err, len(input))
	}
	x := make([]float32, 784)
	for i, v := range input {
		x[i] = float32(v)
	}
	b, _ := pretrained.FS().(interface{ ReadFile(string) ([]byte, error) }).ReadFile("mnist-T1-step0-teacher.safetensors")
	m, _, err := weights.Load(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	clf := attack.NewModel(m, 1)
	z := make([]float32, 10)
	clf.Logits(z, x, 1)
	label := 0
	for i := range z {
		if z[i] > z[label] {
			label = i
		}
	}
	target := (label + 3) % 10
	setTarget(t, ctx, fmt.Sprint(target))
	type run struct {
		first, result  string
		firstAt, total time.Duration
	}
	runs := map[string]run{}
	for _, a := range []string{"l2", "l0", "linf"} {
		click(t, ctx, "#atk-"+a)
		began := time.Now()
		click(t, ctx, "#run")
		first := waitText(t, ctx, "#live", "iteration", 10*time.Second)
		firstAt := time.Since(began)
		res := waitText(t, ctx, "#result", "iterations", 10*time.Minute)
		runs[a] = run{strings.Join(strings.Fields(first), " "), strings.Join(strings.Fields(res), " "), firstAt, time.Since(began)}
		t.Logf("%s %d→%d: browser %.1fs (first live update after %.2fs: %q): %s", a, label, target, runs[a].total.Seconds(), firstAt.Seconds(), runs[a].first, runs[a].result)
	}
	cancel() // the browser is no longer needed
	for _, a := range []string{"l2", "l0", "linf"} {
		browserBudget, _ := demo.Budgets().Run(context.Background(), a, clf, x, attack.Goal{Label: label, Target: target}, nil)
		full, err := attack.Defaults().Run(context.Background(), a, clf, x, attack.Goal{Label: label, Target: target}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s native, browser budget: success %v L0 %d L2 %.3f L∞ %.3f (%d iterations)", a, browserBudget.Success, browserBudget.L0, browserBudget.L2, browserBudget.LInf, browserBudget.Iterations)
		t.Logf("%s native, paper budget:   success %v L0 %d L2 %.3f L∞ %.3f (%d iterations)", a, full.Success, full.L0, full.L2, full.LInf, full.Iterations)
	}
}
