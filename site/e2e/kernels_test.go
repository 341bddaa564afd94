package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// kernelHarness runs a js/wasm Go test binary in the page with the kernels
// of ?kernels= attached, and leaves its output and exit code on window.
const kernelHarness = `<!doctype html><meta charset="utf-8"><title>kernel tests</title>
<script src="wasm_exec.js"></script><script src="kernels.js"></script>
<script>
window.out = [];
const log = console.log;
console.log = (...a) => { window.out.push(a.join(" ")); log(...a); };
(async () => {
  const mode = new URLSearchParams(location.search).get("kernels");
  const go = new Go();
  go.argv = ["kernels.test", "-test.v", "-test.run", "Test"];
  go.env = { TADD_WANT_KERNELS: mode === "portable" ? "portable" : mode === "simd128" ? "wasm-simd128" : "wasm-relaxed-simd" };
  go.exit = (code) => { window.exitCode = code; };
  const kernels = taddKernels.prepare(go);
  const { instance } = await WebAssembly.instantiateStreaming(fetch("kernels.test.wasm"), go.importObject);
  const load = (f) => fetch(f).then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b));
  await kernels.attach(instance.exports.mem, load, mode);
  await go.run(instance);
})().catch((e) => { window.out.push(String(e)); window.exitCode = -1; });
</script>`

// TestKernelsInChromium runs wasm/kernels' tests (every SIMD kernel against
// the portable Go kernel on random and edge shapes, memory growth) in
// headless Chromium, with relaxed SIMD, with plain 128-bit SIMD, and with
// the SIMD kernels disabled (the fallback must then be the portable ones).
func TestKernelsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	requireChromium(t)
	dir := t.TempDir()
	cmd := exec.Command("go", "test", "-c", "-o", filepath.Join(dir, "kernels.test.wasm"), "../../wasm/kernels")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the kernel tests: %v\n%s", err, out)
	}
	assembleKernels(t, dir)
	for _, f := range []string{"../static/kernels.js", filepath.Join(runtime.GOROOT(), "lib/wasm/wasm_exec.js")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(kernelHarness), 0o644)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	ctx, cancel := browser(t)
	defer cancel()
	for _, mode := range []string{"auto", "simd128", "portable"} {
		t.Run(mode, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?kernels="+mode)); err != nil {
				t.Fatal(err)
			}
			var code int
			deadline := time.Now().Add(3 * time.Minute)
			for {
				c, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.exitCode === undefined ? -100 : window.exitCode`))
				if err != nil {
					t.Fatal(err)
				}
				if c != -100 {
					code = c
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the kernel tests did not finish")
				}
				time.Sleep(100 * time.Millisecond)
			}
			out, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.out`))
			text := strings.Join(out, "\n")
			if code != 0 || !strings.Contains(text, "PASS") {
				t.Fatalf("kernel tests exited %d:\n%s", code, text)
			}
			for _, want := range []string{"--- PASS: TestLoaded", "TestGemmMatchesPortable", "TestGemmAfterMemoryGrowth", "TestCol2ImMatchesGo", "TestModelMatchesPortable", "TestTransposeMatchesGo"} {
				if !strings.Contains(text, want) {
					t.Fatalf("no %q in:\n%s", want, text)
				}
			}
			if mode != "portable" && strings.Contains(text, "--- SKIP") {
				t.Fatalf("SIMD kernels not tested:\n%s", text)
			}
			t.Logf("%s: %d lines of test output, exit 0", mode, len(out))
		})
	}
}
