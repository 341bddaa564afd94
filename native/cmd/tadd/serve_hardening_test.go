package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/site/serve/servetest"
)

// startServe runs `tadd serve` with args on a free loopback port in this
// process and returns its base URL; the server stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), &out, &errb) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d: %s", code, errb.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "TADD demo on") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %q %q", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr
}

// siteDir is a minimal built site.
func siteDir(t *testing.T) string {
	t.Helper()
	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "index.html"), []byte("<html>demo</html>"), 0o644)
	os.WriteFile(filepath.Join(site, "tadd.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	return site
}

var noKeepAlive = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// fetch GETs base+path (the path sent as written) and returns the status
// and body.
func fetch(t *testing.T, base, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = path
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// classify POSTs an image for model and returns the status and body.
func classify(t *testing.T, base, model string) (int, string) {
	t.Helper()
	resp, err := noKeepAlive.Post(base+"/api/classify", "application/json",
		strings.NewReader(fmt.Sprintf(`{"model": %q, "image": %s}`, model, servetest.Image(784))))
	if err != nil {
		t.Fatalf("classify %s: %v", model, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// addModel writes b as file into a models folder and lists it in the
// folder's manifest.
func addModel(t *testing.T, dir, file string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
		t.Fatal(err)
	}
	man, err := modelfile.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	man.Put(catalog.EntryFor(file, catalog.Identity{Dataset: "test"}, b))
	if err := modelfile.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
}

// TestServeBadPaths: odd paths are a 4xx, never a 500 (issue 23, defect 3).
func TestServeBadPaths(t *testing.T) {
	models := tinyChains(t)
	os.Mkdir(filepath.Join(models, "sub"), 0o755)
	base := startServe(t, "--site", siteDir(t), "--models", models)
	cases := []struct {
		path string
		code int
	}{
		{"/", 200},
		{"/%00", 400},
		{"/index.html%00.png", 400},
		{"/" + strings.Repeat("a", 256), 400},
		{"/" + strings.Repeat("a", 255), 404},
		{"/index.html/x", 404},
		{"/%01", 400},
		{"/a%5cb", 400},
		{"/pretrained/sub", 404},
		{"/pretrained/sub/", 404},
		{"/pretrained/", 404},
		{"/pretrained", 404},
		{"/pretrained/%00", 400},
		{"/pretrained/manifest.json/x", 404},
		{"/pretrained/manifest.json", 200},
		{"/pretrained/" + strings.Repeat("b", 300) + ".safetensors", 400},
	}
	for _, c := range cases {
		if code, body := fetch(t, base, c.path); code != c.code {
			t.Errorf("GET %.60s: %d %.80q, want %d", c.path, code, body, c.code)
		}
	}
}

// TestServeConfinement: only regular, non-hidden files inside the folders,
// and under /pretrained/ only listed models that match the manifest
// (issue 23, defect 7).
func TestServeConfinement(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("top secret"), 0o644)
	tiny, err := os.ReadFile("../../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "secret.safetensors"), tiny, 0o644)

	site := siteDir(t)
	os.WriteFile(filepath.Join(site, "inner.txt"), []byte("inner"), 0o644)
	os.Symlink("inner.txt", filepath.Join(site, "alias.txt"))
	os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(site, "leak.txt"))
	os.Symlink("/", filepath.Join(site, "root"))
	os.Mkdir(filepath.Join(site, ".git"), 0o755)
	os.WriteFile(filepath.Join(site, ".git", "config"), []byte("top secret"), 0o644)
	os.WriteFile(filepath.Join(site, ".env"), []byte("top secret"), 0o644)
	// Links that stay inside the folder but lead to hidden files.
	os.Symlink(".git", filepath.Join(site, "dir-link"))
	os.Symlink(".git/config", filepath.Join(site, "cfg.txt"))
	os.Symlink(".env", filepath.Join(site, "env-link"))
	os.Symlink("env-link", filepath.Join(site, "chain.txt"))

	models := tinyChains(t)
	os.Symlink("/", filepath.Join(models, "root"))
	os.Mkdir(filepath.Join(models, ".git"), 0o755)
	os.WriteFile(filepath.Join(models, ".git", "config"), []byte("top secret"), 0o644)
	os.WriteFile(filepath.Join(models, "unlisted.safetensors"), tiny, 0o644)
	// A listed model that is a symlink out of the folder: the manifest
	// vouches for its bytes, only the folder boundary stops it.
	addModel(t, models, "escape.safetensors", tiny)
	os.Remove(filepath.Join(models, "escape.safetensors"))
	os.Symlink(filepath.Join(outside, "secret.safetensors"), filepath.Join(models, "escape.safetensors"))
	// A listed model replaced after the manifest was written: one tensor
	// byte changed, still a loadable model.
	replaced := catalog.ModelName("mnist", 5, 1)
	changed := bytes.Clone(tiny)
	changed[len(changed)-1] ^= 1
	os.WriteFile(filepath.Join(models, replaced), changed, 0o644)
	good := catalog.ModelName("mnist", 1, 0)

	base := startServe(t, "--site", site, "--models", models)
	cases := []struct {
		path string
		code int
	}{
		{"/alias.txt", 200},
		{"/leak.txt", 404},
		{"/root/etc/passwd", 404},
		{"/.git/config", 404},
		{"/.env", 404},
		{"/dir-link/config", 404},
		{"/cfg.txt", 404},
		{"/chain.txt", 404},
		{"/pretrained/" + good, 200},
		{"/pretrained/root/etc/passwd", 404},
		{"/pretrained/.git/config", 404},
		{"/pretrained/unlisted.safetensors", 404},
		{"/pretrained/escape.safetensors", 404},
		{"/pretrained/" + replaced, 404},
	}
	for _, c := range cases {
		code, body := fetch(t, base, c.path)
		if code != c.code || strings.Contains(body, "top secret") {
			t.Errorf("GET %s: %d %.60q, want %d", c.path, code, body, c.code)
		}
	}
	for model, want := range map[string]int{good: 200, replaced: 422, "escape.safetensors": 422, "unlisted.safetensors": 404} {
		if code, body := classify(t, base, model); code != want {
			t.Errorf("classify %s: %d %.100s, want %d", model, code, body, want)
		}
	}
}

// TestServeNonFiniteModel: a model whose forward pass overflows (every
// weight 65504, finite in F16) is a JSON error, not a 200 with an empty
// body (issue 23, defect 4).
func TestServeNonFiniteModel(t *testing.T) {
	m, err := nn.New(nn.MNISTArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Params {
		m.Params[i] = 65504
	}
	var b bytes.Buffer
	if err := weights.Encode(&b, m, weights.Metadata{Identity: catalog.Identity{Dataset: "mnist", Role: "teacher", Temperature: 1}}, weights.F16); err != nil {
		t.Fatal(err)
	}
	models := tinyChains(t)
	addModel(t, models, "overflow.safetensors", b.Bytes())
	base := startServe(t, "--site", siteDir(t), "--models", models)
	code, body := classify(t, base, "overflow.safetensors")
	var e struct {
		Error string `json:"error"`
	}
	if code != http.StatusUnprocessableEntity || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, "not finite") {
		t.Fatalf("classify on an overflowing model: %d %q, want 422 with a JSON error", code, body)
	}
}

// TestServeBoundedReads: a huge "model" is refused by its size without
// being read, however many requests ask for it at once; a model file
// replaced by a huge one likewise; a large site file is streamed, not held
// in memory (issue 23, defect 8). Memory is measured as bytes allocated by
// this process (client and server) while the requests run.
func TestServeBoundedReads(t *testing.T) {
	const huge = 80 << 20
	models := tinyChains(t)
	// Listed with its true (huge) size.
	addModel(t, models, "huge.safetensors", nil)
	man, _ := modelfile.ReadManifest(models)
	for i := range man.Models {
		if man.Models[i].File == "huge.safetensors" {
			man.Models[i].Bytes = huge
		}
	}
	modelfile.WriteManifest(models, man)
	os.Truncate(filepath.Join(models, "huge.safetensors"), huge)
	// Listed with the size of a real model, then replaced by a huge file.
	grown := catalog.ModelName("mnist", 5, 0)
	os.Truncate(filepath.Join(models, grown), huge)
	site := siteDir(t)
	os.WriteFile(filepath.Join(site, "big.bin"), nil, 0o644)
	os.Truncate(filepath.Join(site, "big.bin"), 40<<20)

	base := startServe(t, "--site", site, "--models", models)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	for i := range 8 {
		wg.Go(func() {
			model := []string{"huge.safetensors", grown}[i%2]
			code, body := classify(t, base, model)
			if code != http.StatusUnprocessableEntity {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("classify %s: %d %.100s", model, code, body))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, p := range []string{"/pretrained/huge.safetensors", "/pretrained/" + grown} {
		if code, _ := fetch(t, base, p); code != http.StatusNotFound {
			bad = append(bad, fmt.Sprintf("GET %s: %d, want 404", p, code))
		}
	}
	for range 2 {
		resp, err := noKeepAlive.Get(base + "/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != 40<<20 {
			bad = append(bad, fmt.Sprintf("GET /big.bin: %d, %d bytes", resp.StatusCode, n))
		}
	}
	runtime.ReadMemStats(&after)
	for _, b := range bad {
		t.Error(b)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > 24<<20 {
		t.Errorf("the requests allocated %d MiB", alloc>>20)
	}
	t.Logf("the requests allocated %.1f MiB", float64(alloc)/(1<<20))
}
