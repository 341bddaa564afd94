package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestServeCommand(t *testing.T) {
	code, _, stderr := runCLI(t, context.Background(), "serve", "--site", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "run ./build.sh first") {
		t.Fatalf("no site: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, context.Background(), "serve", "--site", t.TempDir(), "extra")
	if code != 2 {
		t.Fatalf("extra argument: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, context.Background(), "serve", "--site", t.TempDir(), "--max-conns", "0")
	if code != 2 || !strings.Contains(stderr, "--max-conns") {
		t.Fatalf("--max-conns 0: exit %d, %q", code, stderr)
	}

	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "index.html"), []byte("<html>demo</html>"), 0o644)
	os.WriteFile(filepath.Join(site, "tadd.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--site", site, "--models", tinyChains(t)}, &out, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "TADD demo on") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %q %q", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for path, want := range map[string]string{"/": "demo", "/pretrained/manifest.json": "mnist-T1-step0-teacher", "/api/models": "mnist-T5-step1-assistant"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, b)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d after cancel: %s", code, errb.String())
	}
}
