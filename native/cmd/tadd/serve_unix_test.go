//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childFiles is the open-file limit of the server process in
// TestServeStarvation.
const childFiles = 256

// TestServeChild is the server process of TestServeStarvation: `tadd
// serve` with few file descriptors, as a small host has.
func TestServeChild(t *testing.T) {
	args := os.Getenv("TADD_SERVE_CHILD")
	if args == "" {
		t.Skip("the server process of TestServeStarvation")
	}
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	rl.Cur = childFiles
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(context.Background(), strings.Fields(args), os.Stdout, io.Discard))
}

// TestServeStarvation: a client holding more idle keep-alive connections
// than the server has file descriptors, plus slow bodies, does not stop a
// normal request from being answered (issue 23, defect 2). Bounded: 300
// idle and 40 slow connections, about 10 seconds.
func TestServeStarvation(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), "TADD_SERVE_CHILD=serve --addr 127.0.0.1:0 --site "+siteDir(t))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	started := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "TADD demo on http://"); ok {
				started <- strings.TrimSuffix(strings.Fields(rest)[0], "/")
			}
		}
	}()
	var addr string
	select {
	case addr = <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}

	var mu sync.Mutex
	var conns []net.Conn
	hold := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	stop := make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	// Idle keep-alive connections: one request each, then silence.
	var wg sync.WaitGroup
	for range 300 {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 3*time.Second)
			if err != nil {
				return
			}
			hold(c)
			c.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	// Slow bodies: a byte a second of a 30,000-byte classify request.
	for range 40 {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			continue
		}
		hold(c)
		fmt.Fprintf(c, "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30000\r\n\r\n{")
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
					c.Write([]byte(" "))
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, p := range []string{"/", "/api/models"} {
		start := time.Now()
		resp, err := client.Get("http://" + addr + p)
		if err != nil {
			t.Fatalf("GET %s with %d connections held: %v", p, len(conns), err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s with %d connections held: %d", p, len(conns), resp.StatusCode)
		}
		t.Logf("GET %s answered in %v with %d connections held", p, time.Since(start).Round(time.Millisecond), len(conns))
	}
}
