package e2e

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestREADMEFastPathWithoutWabt runs the README's first command,
// `./build.sh && ./bin/tadd serve`, on a copy of the working tree with
// wabt's wat2wasm absent from PATH (as on a fresh machine), and checks that
// the built site holds both SIMD kernel modules and that the page served by
// bin/tadd reports them in Chromium: the fast demo needs nothing but Go.
func TestREADMEFastPathWithoutWabt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole project and drives a browser")
	}
	requireChromium(t)
	repo := copyWorkTree(t)
	path := pathWithout(t, "wat2wasm")
	env := append(os.Environ(), "PATH="+path)

	build := exec.Command("./build.sh")
	build.Dir, build.Env = repo, env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("./build.sh: %v\n%s", err, out)
	}
	for _, f := range []string{"kernels-simd128.wasm", "kernels-relaxed.wasm"} {
		b, err := os.ReadFile(filepath.Join(repo, "site/dist", f))
		if err != nil {
			t.Fatalf("./build.sh without wat2wasm: %v", err)
		}
		if !bytes.HasPrefix(b, []byte("\x00asm\x01\x00\x00\x00")) {
			t.Fatalf("%s is not a WebAssembly module", f)
		}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out syncBuffer
	serve := exec.Command("./bin/tadd", "serve", "--addr", addr)
	serve.Dir, serve.Env, serve.Stdout, serve.Stderr = repo, env, &out, &out
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Kill()
		serve.Wait()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "TADD demo on") {
		if time.Now().After(deadline) {
			t.Fatalf("tadd serve did not start: %q", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	ctx, cancel := browser(t)
	defer cancel()
	for _, c := range []struct{ query, engine string }{
		{"", "Kernels: wasm-relaxed-simd."},
		{"?kernels=simd128", "Kernels: wasm-simd128."},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/"+c.query), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
			t.Fatal(err)
		}
		got := waitText(t, ctx, "#engine", c.engine, 30*time.Second)
		t.Logf("%q: %s", c.query, got)
	}
}

// copyWorkTree copies the repository's tracked and untracked, not ignored
// files (the working tree as a clone would have it, with local changes)
// into a temporary folder.
func copyWorkTree(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	list, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		info, err := os.Lstat(filepath.Join(root, f))
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree, or not a plain file
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// pathWithout returns $PATH with tool removed: each folder that holds it is
// replaced by a folder of links to everything else in it.
func pathWithout(t *testing.T, tool string) string {
	t.Helper()
	var dirs []string
	for i, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
			dirs = append(dirs, dir)
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		shadow := filepath.Join(t.TempDir(), "path", strings.Repeat("x", i+1))
		if err := os.MkdirAll(shadow, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != tool {
				if err := os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(shadow, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		dirs = append(dirs, shadow)
	}
	path := strings.Join(dirs, string(os.PathListSeparator))
	cmd := exec.Command("sh", "-c", "command -v "+tool)
	cmd.Env = append(os.Environ(), "PATH="+path)
	if out, err := cmd.Output(); err == nil {
		t.Fatalf("%s still on the PATH built without it: %s", tool, out)
	}
	return path
}

// syncBuffer is a bytes.Buffer that a child process writes while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
