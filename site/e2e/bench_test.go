package e2e

import (
	"net/http"

	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/demo"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/pretrained"
	"github.com/tadd-project/tadd/site/serve"
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
	siteDir := t.TempDir()
	buildSite(t, siteDir)
	srv := httptest.NewServer(serve.New(os.DirFS(siteDir), models))
	defer srv.Close()
	var x []float32
	var label, target int
	for _, path := range []struct{ name, query string }{
		{"portable Go kernels, on the page's thread", "?kernels=portable&workers=0"},
		{"SIMD kernels, in Web Workers", "?workers=2"},
	} {
		if os.Getenv("TADD_BENCH") == "fast" && strings.Contains(path.query, "portable") {
			continue
		}
		x, label, target = browserAttacks(t, srv.URL+"/"+path.query, path.name)
	}
	if os.Getenv("TADD_BENCH") == "fast" {
		return // TADD_BENCH=fast: only the fast path, no native comparison
	}
	b, _ := pretrained.FS().(interface{ ReadFile(string) ([]byte, error) }).ReadFile("mnist-T1-step0-teacher.safetensors")
	m, _, err := weights.Load(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	clf := attack.NewClassifier(m, 1)
	browser := demo.Budgets().Attacks()
	for i, a := range attack.Defaults().Attacks() {
		browserBudget, _ := attack.RunOne(context.Background(), browser[i], clf, x, attack.Goal{Label: label, Target: target}, nil)
		full, err := attack.RunOne(context.Background(), a, clf, x, attack.Goal{Label: label, Target: target}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s native, browser budget: success %v L0 %d L2 %.3f L∞ %.3f (%d iterations)", a.Name(), browserBudget.Success, browserBudget.L0, browserBudget.L2, browserBudget.LInf, browserBudget.Iterations)
		t.Logf("%s native, paper budget:   success %v L0 %d L2 %.3f L∞ %.3f (%d iterations)", a.Name(), full.Success, full.L0, full.L2, full.LInf, full.Iterations)
	}
}

// TestBrowserKernelBench is a measurement, not a check: with TADD_BENCH=1 it
// times one attack iteration (forward pass and input gradient of the MNIST
// net, batch 1 and 9) in headless Chromium with (a) the portable Go kernels,
// (b) the SIMD kernels, (c) TensorFlow.js on its wasm backend (site/bench,
// `npm ci` there first), single-threaded and, where the page is
// cross-origin isolated, with its threads, for BENCHMARKS.md.
func TestBrowserKernelBench(t *testing.T) {
	if os.Getenv("TADD_BENCH") == "" {
		t.Skip("set TADD_BENCH=1 to measure")
	}
	if _, err := os.Stat("../bench/node_modules/@tensorflow/tfjs-backend-wasm"); err != nil {
		t.Fatal("run `npm ci` in site/bench first")
	}
	models := pretrained.FS()
	siteDir := t.TempDir()
	buildSite(t, siteDir)
	srv := httptest.NewServer(serve.New(os.DirFS(siteDir), models))
	defer srv.Close()
	files := http.FileServer(http.Dir("../bench"))
	plain := httptest.NewServer(files)
	defer plain.Close()
	isolated := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		files.ServeHTTP(w, r)
	}))
	defer isolated.Close()
	ctx, cancel := browser(t)
	defer cancel()
	const iters = 30
	for _, k := range []string{"portable", "auto"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?workers=0&kernels="+k), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
			t.Fatal(err)
		}
		name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`taddKernels()`))
		for _, batch := range []int{1, 9} {
			n := iters
			if batch > 1 || k == "portable" {
				n = iters / 3
			}
			var best float64
			for range 3 {
				ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`taddBench(%d, %d)`, n, batch)))
				if err != nil {
					t.Fatal(err)
				}
				if best == 0 || ms < best {
					best = ms
				}
			}
			t.Logf("TADD %-18s batch %d: %.2f ms per iteration (best of 3 × %d)", name, batch, best, n)
		}
	}
	for _, s := range []*httptest.Server{plain, isolated} {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/tfjs.html")); err != nil {
			t.Fatal(err)
		}
		info, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`window.tfReady`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 9} {
			var best float64
			for range 3 {
				ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`tfBench(%d, %d)`, iters/3, batch), chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatal(err)
				}
				if best == 0 || ms < best {
					best = ms
				}
			}
			t.Logf("TensorFlow.js %v batch %d: %.2f ms per iteration (best of 3 × %d)", info, batch, best, iters/3)
		}
	}
}

// browserAttacks draws a 7 in the page at url and times the three attacks
// with the browser budgets; it returns the page's input, label and target.
func browserAttacks(t *testing.T, url, name string) ([]float32, int, int) {
	ctx, cancel := browser(t)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("[%s] page ready with the MNIST teacher: %.2fs", name, time.Since(start).Seconds())
	// A "7": a bar and a diagonal.
	drawn := time.Now()
	draw(t, ctx, [][2]float64{{0.25, 0.22}, {0.72, 0.22}, {0.45, 0.85}})
	pred := waitText(t, ctx, "#prediction", "Prediction:", 10*time.Second)
	t.Logf("[%s] drawing to prediction: %.2fs (%s)", name, time.Since(drawn).Seconds(), strings.Join(strings.Fields(pred), " "))
	input, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`taddInput()`))
	if err != nil || len(input) != 784 {
		t.Fatalf("input: %v (%d values)", err, len(input))
	}
	x := make([]float32, 784)
	for i, v := range input {
		x[i] = float32(v)
	}
	z, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`taddLogits()`))
	if err != nil || len(z) != 10 {
		t.Fatalf("logits: %v", err)
	}
	label := 0
	for i := range z {
		if z[i] > z[label] {
			label = i
		}
	}
	target := (label + 3) % 10
	setTarget(t, ctx, fmt.Sprint(target))
	waitText(t, ctx, "#engine", "Kernels", 10*time.Second)
	if strings.Contains(url, "workers=2") {
		waitText(t, ctx, "#engine", "Web Workers", 20*time.Second)
	}
	t.Logf("[%s] %s", name, text(ctx, "#engine"))
	for _, a := range []string{"l2", "l0", "linf"} {
		click(t, ctx, "#atk-"+a)
		began := time.Now()
		click(t, ctx, "#run")
		first := waitText(t, ctx, "#live", "iteration", 10*time.Second)
		firstAt := time.Since(began)
		res := waitText(t, ctx, "#result", "iterations", 10*time.Minute)
		t.Logf("[%s] %s %d→%d: %.1fs (first live update after %.2fs: %q): %s", name, a, label, target, time.Since(began).Seconds(),
			firstAt.Seconds(), strings.Join(strings.Fields(first), " "), strings.Join(strings.Fields(res), " "))
	}
	click(t, ctx, "#atk-l2")
	began := time.Now()
	click(t, ctx, "#compare")
	table := waitText(t, ctx, "#comparison", "student", 10*time.Minute)
	t.Logf("[%s] compare chain (L2): %.1fs: %s", name, time.Since(began).Seconds(), strings.Join(strings.Fields(table), " "))
	return x, label, target
}
