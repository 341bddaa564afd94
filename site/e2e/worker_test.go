package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tadd-project/tadd/site/serve/servetest"
)

// copyTree copies a folder (files only, one level of subfolders deep is
// enough for the Worker's layout).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestWorkerUnderWrangler runs the Cloudflare Worker (built by
// `./build.sh worker`) locally with `wrangler dev` and checks the page, the
// wasm, a weight file and both API endpoints through it.
func TestWorkerUnderWrangler(t *testing.T) {
	if testing.Short() {
		t.Skip("wrangler test")
	}
	worker := "../worker"
	wrangler := filepath.Join(worker, "node_modules/.bin/wrangler")
	for _, need := range []string{wrangler, filepath.Join(worker, "build/app.wasm"), filepath.Join(worker, "dist/tadd.wasm")} {
		if _, err := os.Stat(need); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing: ./build.sh test builds the Worker; .ci/run installs wrangler (npm ci in site/worker)", need)
			}
			t.Skipf("%s missing (run ./build.sh worker and npm ci in site/worker)", need)
		}
	}
	dir := t.TempDir()
	for _, sub := range []string{"build", "dist"} {
		copyTree(t, filepath.Join(worker, sub), filepath.Join(dir, sub))
	}
	toml, _ := os.ReadFile(filepath.Join(worker, "wrangler.toml"))
	os.WriteFile(filepath.Join(dir, "wrangler.toml"), toml, 0o644)
	abs, _ := filepath.Abs(filepath.Join(worker, "node_modules"))
	if err := os.Symlink(abs, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	// Serve the test chain, whatever the shipped set holds.
	models, _ := modelDir(t)
	os.RemoveAll(filepath.Join(dir, "dist/pretrained"))
	copyTree(t, models, filepath.Join(dir, "dist/pretrained"))

	port := freePort(t)
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, "node_modules/.bin/wrangler"), "dev", "--ip", "127.0.0.1", "--port", fmt.Sprint(port))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WRANGLER_SEND_METRICS=false", "CI=1", "HOME="+t.TempDir())
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("wrangler output:\n%s", log.String())
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("wrangler dev did not answer on %s: %v", base, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	servetest.Check(t, base)
}
