package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tadd-project/tadd/native/connlimit"
	"github.com/tadd-project/tadd/pretrained"
	"github.com/tadd-project/tadd/site/serve"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("serve", stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen address")
	site := flags.String("site", "site/dist", "the built site (./build.sh puts it in site/dist)")
	models := flags.String("models", "", "model folder with manifest.json (default: the pretrained models built into tadd)")
	maxConns := flags.Int("max-conns", connlimit.DefaultMax(), "most connections open at once (default: the open-file limit less 64, at most 4096)")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", flags.Arg(0))}
	}
	if *maxConns < 1 {
		return usageError{fmt.Sprintf("--max-conns %d: need at least 1", *maxConns)}
	}
	if _, err := os.Stat(*site + "/tadd.wasm"); err != nil {
		return fmt.Errorf("no built site in %s (run ./build.sh first): %w", *site, err)
	}
	siteRoot, err := os.OpenRoot(*site)
	if err != nil {
		return fmt.Errorf("--site %s: %w", *site, err)
	}
	defer siteRoot.Close()
	var modelFS fs.FS = pretrained.FS()
	if *models != "" {
		if _, err := os.Stat(*models + "/manifest.json"); err != nil {
			return fmt.Errorf("--models %s: %w", *models, err)
		}
		root, err := os.OpenRoot(*models)
		if err != nil {
			return fmt.Errorf("--models %s: %w", *models, err)
		}
		defer root.Close()
		modelFS = root.FS()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	limited := connlimit.New(ln, *maxConns)
	srv := newServer(logRequests(serve.New(siteRoot.FS(), modelFS), stderr), limited)
	fmt.Fprintf(stdout, "TADD demo on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Timeouts of `tadd serve`: a request's headers must arrive within
// readHeaderTimeout and the whole request within readTimeout (bodies are
// at most 64 KiB), an answer must be written within writeTimeout (the
// largest file is the UI's wasm, a few MB), and a keep-alive connection is
// closed after idleTimeout without a request.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = time.Minute
	maxHeaderBytes    = 64 << 10
)

// newServer is the http.Server of `tadd serve`, with its timeouts and its
// connections bounded by ln.
func newServer(h http.Handler, ln *connlimit.Listener) *http.Server {
	return &http.Server{Handler: h, ConnState: ln.ConnState, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

func logRequests(h http.Handler, w io.Writer) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(rw, r)
		fmt.Fprintf(w, "%s %s %s\n", r.Method, r.URL.Path, time.Since(start).Round(time.Microsecond))
	})
}
