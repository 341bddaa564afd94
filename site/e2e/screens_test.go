package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tadd-project/tadd/pretrained"
	"github.com/tadd-project/tadd/site/serve"
)

// TestScreenshots is for a person to look at, not a check: with
// TADD_SCREENSHOTS=DIR it opens the page with the shipped models at
// 1280×900, 1024×768 and 390×844 and saves, at each size, the first
// screen, an L2 attack on a gallery digit (while it runs and its result)
// and a chain comparison at T=40 as PNGs in DIR, with the shipped
// summary in the claims panel.
func TestScreenshots(t *testing.T) {
	if os.Getenv("TADD_SCREENSHOTS") == "" {
		t.Skip("set TADD_SCREENSHOTS=DIR to save screenshots")
	}
	if err := os.MkdirAll(os.Getenv("TADD_SCREENSHOTS"), 0o755); err != nil {
		t.Fatal(err)
	}
	requireChromium(t)
	siteDir := t.TempDir()
	buildSite(t, siteDir)
	// The shipped reproduction's summary, as build.sh copies it, for the
	// claims panel.
	if b, err := os.ReadFile("../../pretrained/results/mnist-standard/summary.json"); err == nil {
		if err := os.WriteFile(filepath.Join(siteDir, "summary.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(serve.New(os.DirFS(siteDir), pretrained.FS()))
	defer srv.Close()
	bctx, cancel := browser(t)
	defer cancel()
	for _, size := range [][2]int64{{1280, 900}, {1024, 768}, {390, 844}} {
		name := fmt.Sprintf("%dx%d-", size[0], size[1])
		ctx, cancelTab := chromedp.NewContext(bctx)
		start := time.Now()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]), chromedp.Navigate(srv.URL+"/?workers=2"), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s page ready %.2fs after navigation", name, time.Since(start).Seconds())
		viewport(t, ctx, name+"first.png")
		waitFor(t, ctx, "the claims panel", 30*time.Second, func() bool { return exists(t, ctx, "#claims-verdicts") || exists(t, ctx, "#claims-none") })
		if w := eval[[]float64](t, ctx, `[document.documentElement.scrollWidth, innerWidth]`); w[0] > w[1] {
			t.Errorf("%s the page is %.0f px wide", name, w[0])
		}
		claims, err := chromedp.Run(ctx, chromedp.Screenshot("#claims"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(os.Getenv("TADD_SCREENSHOTS"), name+"claims.png"), claims, 0o644); err != nil {
			t.Fatal(err)
		}
		click(t, ctx, "#g0")
		waitText(t, ctx, "#prediction", "Prediction: 7", 10*time.Second)
		click(t, ctx, "#run")
		began := time.Now()
		time.Sleep(700 * time.Millisecond)
		viewport(t, ctx, name+"running.png")
		waitText(t, ctx, "#result", "classified", 2*time.Minute)
		t.Logf("%s L2 on the T=1 teacher: %.1fs", name, time.Since(began).Seconds())
		screenshot(t, ctx, name+"attack.png")
		click(t, ctx, "#T40")
		waitText(t, ctx, "#modelinfo", "at T=40", 20*time.Second)
		click(t, ctx, "#step6")
		waitText(t, ctx, "#modelinfo", "step 6 at T=40", 20*time.Second)
		click(t, ctx, "#compare")
		began = time.Now()
		waitFor(t, ctx, "the comparison ends", 5*time.Minute, func() bool { return exists(t, ctx, "#legend") })
		t.Logf("%s compare chain over 7 networks at T=40: %.1fs", name, time.Since(began).Seconds())
		screenshot(t, ctx, name+"compare.png")
		cancelTab()
	}
}

// viewport saves what the visitor sees without scrolling.
func viewport(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(os.Getenv("TADD_SCREENSHOTS"), name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
