package e2e

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tadd-project/tadd/pretrained"
	"github.com/tadd-project/tadd/site/serve"
)

// TestDemoTimes is a measurement, not a check: with TADD_TIMES=1 it opens
// the page with the shipped models (SIMD kernels, 2 Web Workers) and logs,
// each beside the machine's load average, the time to the page being
// ready, from a drawn 7 to its prediction, of each attack with the
// browser budgets on the T=1 teacher (L2, L0, L∞, gradient sign beside
// L2, every other class with L2) and of Compare chain over the T=1 chain's
// seven networks.
func TestDemoTimes(t *testing.T) {
	if os.Getenv("TADD_TIMES") == "" {
		t.Skip("set TADD_TIMES=1 to measure")
	}
	siteDir := t.TempDir()
	buildSite(t, siteDir)
	srv := httptest.NewServer(serve.New(os.DirFS(siteDir), pretrained.FS()))
	defer srv.Close()
	ctx, cancel := browser(t)
	defer cancel()
	load := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return "load " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?workers=2"), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("page ready: %.2fs (%s)", time.Since(start).Seconds(), load())
	waitText(t, ctx, "#engine", "Web Workers", 20*time.Second)
	drawn := time.Now()
	draw(t, ctx, [][2]float64{{0.25, 0.22}, {0.72, 0.22}, {0.45, 0.85}})
	pred := waitText(t, ctx, "#prediction", "Prediction:", 10*time.Second)
	t.Logf("drawing to prediction: %.2fs (%s): %s", time.Since(drawn).Seconds(), load(), strings.Join(strings.Fields(pred), " ")[:14])
	label := int(eval[float64](t, ctx, `(() => { const z = taddLogits(); return z.indexOf(Math.max(...z)); })()`))
	target := (label + 3) % 10
	setTarget(t, ctx, fmt.Sprint(target))
	timed := func(what, button string, done func() bool) {
		t.Helper()
		began := time.Now()
		click(t, ctx, button)
		waitFor(t, ctx, what, 10*time.Minute, func() bool { return !running(t, ctx) && done() })
		t.Logf("%s: %.1fs (%s): %s", what, time.Since(began).Seconds(), load(), strings.Join(strings.Fields(text(ctx, "#live")), " "))
	}
	has := func(sel string) func() bool { return func() bool { return exists(t, ctx, sel) } }
	for _, a := range []string{"l2", "l0", "linf"} {
		click(t, ctx, "#atk-"+a)
		timed(fmt.Sprintf("%s %d→%d on the T=1 teacher", a, label, target), "#run", has("#result"))
	}
	click(t, ctx, "#atk-l2")
	timed("gradient sign beside L2 on the T=1 teacher", "#baseline", has("#legend"))
	setTarget(t, ctx, "all")
	timed("L2 against every other class on the T=1 teacher", "#run", func() bool {
		return strings.Count(text(ctx, "#comparison"), "class ") >= 9
	})
	setTarget(t, ctx, fmt.Sprint(target))
	click(t, ctx, "#step6")
	waitText(t, ctx, "#modelinfo", "step 6 at T=1", 20*time.Second)
	timed("L2 compare chain over the T=1 chain's 7 networks", "#compare", func() bool {
		return strings.Contains(text(ctx, "#comparison"), "step 6") && exists(t, ctx, "#legend")
	})
	// What a batch saves per image in WebAssembly: one attack iteration of
	// the chosen network (forward and input gradient) on the page's thread
	// at batch 1, 4, 5 and 9, the best of 3 rounds, interleaved so that
	// the load falls on every size alike.
	best := map[int]float64{}
	for range 3 {
		for _, b := range []int{1, 4, 5, 9} {
			ms := eval[float64](t, ctx, fmt.Sprintf(`taddBench(%d, %d)`, max(2, 18/b), b))
			if best[b] == 0 || ms < best[b] {
				best[b] = ms
			}
		}
	}
	for _, b := range []int{1, 4, 5, 9} {
		t.Logf("one iteration at batch %d: %.2f ms, %.2f ms per image (best of 3; %s)", b, best[b], best[b]/float64(b), load())
	}
}
