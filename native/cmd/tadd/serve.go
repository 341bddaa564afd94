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

	"github.com/tadd-project/tadd/pretrained"
	"github.com/tadd-project/tadd/site/serve"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("serve", stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen address")
	site := flags.String("site", "site/dist", "the built site (./build.sh puts it in site/dist)")
	models := flags.String("models", "", "model folder with manifest.json (default: the pretrained models built into tadd)")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", flags.Arg(0))}
	}
	if _, err := os.Stat(*site + "/tadd.wasm"); err != nil {
		return fmt.Errorf("no built site in %s (run ./build.sh first): %w", *site, err)
	}
	var modelFS fs.FS = pretrained.FS()
	if *models != "" {
		if _, err := os.Stat(*models + "/manifest.json"); err != nil {
			return fmt.Errorf("--models %s: %w", *models, err)
		}
		modelFS = os.DirFS(*models)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: logRequests(serve.New(os.DirFS(*site), modelFS), stderr), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "TADD demo on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func logRequests(h http.Handler, w io.Writer) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(rw, r)
		fmt.Fprintf(w, "%s %s %s\n", r.Method, r.URL.Path, time.Since(start).Round(time.Microsecond))
	})
}
