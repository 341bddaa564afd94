// Package e2e drives the real web demo in headless Chromium: it builds the
// wasm, serves it with a chain of test models, draws a digit with pointer
// events, switches temperature and network, runs the three attacks to
// completion, stops one, compares the chain, checks that the browser's
// logits equal the native ones, and saves screenshots.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/site/serve"
)

// buildSite compiles the demo into dir, as build.sh does.
func buildSite(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "tadd.wasm"), "../../wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm: %v\n%s", err, out)
	}
	assembleKernels(t, dir)
	files, _ := filepath.Glob("../static/*")
	for _, f := range append(files, filepath.Join(runtime.GOROOT(), "lib/wasm/wasm_exec.js")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
}

// assembleKernels writes the browser's SIMD kernels into dir with
// wasm/kernels/watgen, as build.sh does.
func assembleKernels(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("go", "run", "../../wasm/kernels/watgen", "-wasm", dir).CombinedOutput(); err != nil {
		t.Fatalf("assembling the kernels: %v\n%s", err, out)
	}
}

// modelDir lays out the tiny MNIST test model as two chains, T=1 (teacher,
// assistant, student) and T=20 (teacher and 6 distillation steps), with a
// manifest and the gallery.
func modelDir(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	_, meta, err := weights.Load(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	man := &catalog.Manifest{}
	for _, temp := range []float64{1, 20} {
		for step := range map[float64]int{1: 3, 20: 7}[temp] {
			name := catalog.ModelName("mnist", temp, step)
			os.WriteFile(filepath.Join(dir, name), b, 0o644)
			m := meta
			m.Temperature, m.Step, m.Role = temp, step, catalog.Role(step)
			man.Put(catalog.EntryFor(name, m.Identity, b))
		}
	}
	// A full-size MNIST network (untrained) at T=40: its attacks take seconds
	// in WebAssembly, long enough to stop one.
	big, err := nn.New(nn.MNISTArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	big.Init(1)
	var bb bytes.Buffer
	bigMeta := weights.Metadata{Identity: catalog.Identity{Dataset: "mnist", Arch: "mnist", Temperature: 40, Role: "teacher", TestAccuracy: 0.1}}
	if err := weights.Encode(&bb, big, bigMeta, weights.F16); err != nil {
		t.Fatal(err)
	}
	name := catalog.ModelName("mnist", 40, 0)
	os.WriteFile(filepath.Join(dir, name), bb.Bytes(), 0o644)
	man.Put(catalog.EntryFor(name, bigMeta.Identity, bb.Bytes()))
	if err := modelfile.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"gallery-images.idx", "gallery-labels.idx"} {
		g, _ := os.ReadFile(filepath.Join("../../pretrained", f))
		os.WriteFile(filepath.Join(dir, f), g, 0o644)
	}
	return dir, b
}

// requireChromium skips the test without Debian's chromium, or fails it
// in CI, and returns its path.
func requireChromium(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (.ci/run installs it)")
		}
		t.Skip("chromium not installed")
	}
	return bin
}

func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	bin := requireChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 15*time.Minute) // a hang guard on a loaded 2-core machine, not a speed goal
	return ctx, func() { cancelT(); cancelC(); cancelA() }
}

// text returns the text content of the element matching sel.
func text(ctx context.Context, sel string) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
	return s
}

// waitText polls until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := text(ctx, sel)
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q does not contain %q after %v", sel, s, want, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// draw drags the mouse along points given in fractions of the pad, which
// Chromium delivers to the page as pointer events.
func draw(t *testing.T, ctx context.Context, pts [][2]float64) {
	t.Helper()
	box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById("pad").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	at := func(p [2]float64) (float64, float64) { return box[0] + p[0]*box[2], box[1] + p[1]*box[3] }
	var actions []chromedp.Action[chromedp.Void]
	x, y := at(pts[0])
	actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	for _, p := range pts[1:] {
		for k := 1; k <= 6; k++ { // intermediate moves, as a hand would make
			px, py := at(p)
			fx, fy := x+(px-x)*float64(k)/6, y+(py-y)*float64(k)/6
			actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, fx, fy, chromedp.ButtonLeft))
		}
		x, y = at(p)
	}
	actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("TADD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

func setTarget(t *testing.T, ctx context.Context, v string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const s = document.getElementById("target"); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value; })()`, v)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil || got != v {
		t.Fatalf("set target %q: %v (%q)", v, err, got)
	}
}

// TestDemoInChromium drives the page on its fast path (SIMD kernels, attacks
// in Web Workers) and on its fallback (portable Go kernels, attacks on the
// page's thread), as a browser without those features gets it.
func TestDemoInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	requireChromium(t)
	siteDir := t.TempDir()
	buildSite(t, siteDir)
	models, modelBytes := modelDir(t)
	srv := httptest.NewServer(serve.New(os.DirFS(siteDir), os.DirFS(models)))
	defer srv.Close()
	for _, path := range []struct {
		name, query, engine string
	}{
		{"fast", "?workers=2", "Kernels: wasm-relaxed-simd. Attacks run in 2 Web Workers."},
		{"fallback", "?kernels=portable&workers=0", "Kernels: portable. Attacks run on the page's thread."},
	} {
		t.Run(path.name, func(t *testing.T) {
			ctx, cancel := browser(t)
			defer cancel()
			demoFlow(t, ctx, srv.URL+"/"+path.query, path.engine, path.name+"-", modelBytes)
		})
	}
}

func demoFlow(t *testing.T, ctx context.Context, url, engine, shots string, modelBytes []byte) {
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("page ready (model loaded) %.2fs after navigation", time.Since(start).Seconds())
	if engine != "" {
		waitText(t, ctx, "#engine", engine, 20*time.Second)
	}

	// Draw a "1": a vertical stroke down the middle of the pad.
	drawn := time.Now()
	draw(t, ctx, [][2]float64{{0.52, 0.15}, {0.5, 0.5}, {0.48, 0.85}})
	waitText(t, ctx, "#prediction", "Prediction: 1", 10*time.Second)
	t.Logf("drawing to prediction %.2fs", time.Since(drawn).Seconds())
	screenshot(t, ctx, shots+"drawn-1.png")

	// Switch temperature and network.
	click(t, ctx, "#T20")
	waitText(t, ctx, "#modelinfo", "at T=20", 10*time.Second)
	click(t, ctx, "#step1")
	waitText(t, ctx, "#modelinfo", "assistant at T=20", 10*time.Second)
	click(t, ctx, "#step6")
	waitText(t, ctx, "#modelinfo", "step 6 at T=20", 10*time.Second)
	click(t, ctx, "#step0")
	waitText(t, ctx, "#modelinfo", "teacher at T=20", 10*time.Second)

	// The browser's logits equal the native ones (gallery digit 0, a 7).
	click(t, ctx, "#g0")
	waitText(t, ctx, "#prediction", "Prediction: 7", 10*time.Second)
	browserZ, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`taddLogits()`))
	if err != nil {
		t.Fatal(err)
	}
	m, _, _ := weights.Load(modelBytes, nil)
	gallery, _ := os.ReadFile("../../pretrained/gallery-images.idx")
	labels, _ := os.ReadFile("../../pretrained/gallery-labels.idx")
	set, err := data.ReadMNIST("g", strings.NewReader(string(gallery)), strings.NewReader(string(labels)))
	if err != nil {
		t.Fatal(err)
	}
	nativeZ := m.Forward(set.Image(0), 1, false)
	if len(browserZ) != 10 {
		t.Fatalf("browser logits %v", browserZ)
	}
	for i := range nativeZ {
		if d := math.Abs(browserZ[i] - float64(nativeZ[i])); d > 1e-4*(1+math.Abs(float64(nativeZ[i]))) {
			t.Fatalf("logit %d: browser %v, native %v", i, browserZ[i], nativeZ[i])
		}
	}

	// Each attack runs to completion and finds an adversarial 3.
	setTarget(t, ctx, "3")
	for _, a := range []string{"l2", "l0", "linf"} {
		click(t, ctx, "#atk-"+a)
		began := time.Now()
		click(t, ctx, "#run")
		waitText(t, ctx, "#live", "iteration", 5*time.Second)
		res := waitText(t, ctx, "#result", "classified", 3*time.Minute)
		if !strings.Contains(res, "Adversarial example found") || !strings.Contains(res, "classified 3") {
			t.Fatalf("%s: result %q", a, res)
		}
		t.Logf("%s attack in the browser: %.1fs: %s", a, time.Since(began).Seconds(), res)
		screenshot(t, ctx, shots+"attack-"+a+".png")
	}

	// Compare the chain.
	click(t, ctx, "#atk-l2")
	click(t, ctx, "#compare")
	table := waitText(t, ctx, "#comparison", "student", 3*time.Minute)
	if strings.Count(table, "→") != 3 {
		t.Fatalf("comparison %q", table)
	}
	screenshot(t, ctx, shots+"compare.png")

	// Every other class: nine targeted attacks, split over the workers.
	setTarget(t, ctx, "all")
	click(t, ctx, "#run")
	// (On the portable fallback nine attacks take 2-3 minutes when the
	// machine is loaded: the limit only guards against a hang.)
	deadline := time.Now().Add(6 * time.Minute)
	for strings.Count(text(ctx, "#comparison"), "class ") < 9 {
		if time.Now().After(deadline) {
			t.Fatalf("every target: %q", text(ctx, "#comparison"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitText(t, ctx, "#live", "finished", 30*time.Second)
	waitText(t, ctx, ".view", "the target class the network is closest to", 5*time.Second)
	screenshot(t, ctx, shots+"every-target.png")

	// Stop mid-attack, on the full-size network.
	click(t, ctx, "#T40")
	waitText(t, ctx, "#modelinfo", "at T=40", 20*time.Second)
	setTarget(t, ctx, "untargeted")
	click(t, ctx, "#atk-l2")
	// Press Run, then Stop 300 ms later from inside the page (a protocol
	// click needs several round trips, each waiting for the wasm to yield).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("run").click(); setTimeout(() => document.getElementById("stop").click(), 300); true`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#stopnote", "Stopped", 20*time.Second)
	if r := text(ctx, "#result"); r != "" {
		t.Fatalf("a stopped attack shows a result: %q", r)
	}
	t.Logf("stopped at: %s", strings.TrimSpace(text(ctx, "#live")))

	// A phone-width viewport.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, shots+"phone.png")
}
