package connlimit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFromFileLimit(t *testing.T) {
	for _, c := range []struct {
		files uint64
		want  int
	}{{1, 1}, {20, 10}, {127, 63}, {128, 64}, {1024, 960}, {20000, 4096}, {1 << 40, 4096}} {
		if got := fromFileLimit(c.files); got != c.want {
			t.Errorf("fromFileLimit(%d) = %d, want %d", c.files, got, c.want)
		}
	}
}

// serve starts an http.Server on 127.0.0.1 behind a Listener of max
// connections; /slow reads the whole body before answering.
func serve(t *testing.T, max int) (*Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(ln, max)
	srv := &http.Server{ConnState: l.ConnState, ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, "ok")
		})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l, ln.Addr().String()
}

// request sends one GET on c and reads the answer.
func request(c net.Conn) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && string(b) != "ok" {
		err = fmt.Errorf("body %q", b)
	}
	return err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestQuietConnectionsMakeRoom: with the limit held by idle keep-alive and
// silent connections, a new one is still served, and the oldest quiet one
// is the one closed.
func TestQuietConnectionsMakeRoom(t *testing.T) {
	l, addr := serve(t, 3)
	idle := dial(t, addr)
	if err := request(idle); err != nil {
		t.Fatal(err)
	}
	dial(t, addr) // silent
	dial(t, addr) // silent
	time.Sleep(50 * time.Millisecond)
	for i := range 5 {
		if err := request(dial(t, addr)); err != nil {
			t.Fatalf("request %d at the limit: %v", i, err)
		}
	}
	idle.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("the oldest idle connection was not closed: %v", err)
	}
	l.mu.Lock()
	open := l.open
	l.mu.Unlock()
	if open > 3 {
		t.Fatalf("%d connections open, limit 3", open)
	}
}

// TestBusyConnectionsAreKept: a connection in the middle of a request is
// not closed to make room; the new connection waits until it finishes.
func TestBusyConnectionsAreKept(t *testing.T) {
	_, addr := serve(t, 1)
	busy := dial(t, addr)
	fmt.Fprintf(busy, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- request(dial(t, addr)) }()
	select {
	case err := <-done:
		t.Fatalf("served past a busy connection at the limit (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	fmt.Fprint(busy, "cd")
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("busy request: %v", err)
	}
	busy.Close()
	if err := <-done; err != nil {
		t.Fatalf("waiting request: %v", err)
	}
}
