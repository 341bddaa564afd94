//go:build js && wasm

// Command worker serves the TADD demo from Cloudflare Workers: wrangler's
// assets binding serves the static files (the page, the UI's wasm, the
// pretrained models), and this Go program, compiled to WebAssembly with the
// standard toolchain and run by github.com/syumai/workers, answers /api/*
// with the same handler as `tadd serve`. It reads model files through the
// ASSETS binding, so they are not part of the Worker script.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"syscall/js"
	"time"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"

	"github.com/tadd-project/tadd/site/serve"
)

// assetModels reads /pretrained/NAME from the Worker's static assets.
type assetModels struct{}

// Open fetches the file with env.ASSETS.fetch, calling it with the binding
// as `this` (workerd rejects a detached call, which is what the library's
// fetch client makes), and returns it as an in-memory file.
func (assetModels) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	assets := cloudflare.GetBinding("ASSETS")
	resp, err := await(assets.Call("fetch", "https://assets.local/pretrained/"+path.Clean(name)))
	if err != nil {
		return nil, fmt.Errorf("assets: %w", err)
	}
	switch status := resp.Get("status").Int(); {
	case status == http.StatusNotFound:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case status != http.StatusOK:
		return nil, fmt.Errorf("assets: %s: status %d", name, status)
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("assets: %s: %w", name, err)
	}
	arr := js.Global().Get("Uint8Array").New(buf)
	b := make([]byte, arr.Get("length").Int())
	js.CopyBytesToGo(b, arr)
	return &assetFile{Reader: bytes.NewReader(b), name: path.Base(name)}, nil
}

// assetFile is a fetched asset: a regular, read-only file that is its own
// fs.FileInfo (bytes.Reader provides Size).
type assetFile struct {
	*bytes.Reader
	name string
}

func (f *assetFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *assetFile) Close() error               { return nil }
func (f *assetFile) Name() string               { return f.name }
func (f *assetFile) Mode() fs.FileMode          { return 0o444 }
func (f *assetFile) ModTime() time.Time         { return time.Time{} }
func (f *assetFile) IsDir() bool                { return false }
func (f *assetFile) Sys() any                   { return nil }

// await blocks until a JavaScript promise settles.
func await(promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	var ok, bad js.Func
	ok = js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- result{v: args[0]}
		return nil
	})
	bad = js.FuncOf(func(_ js.Value, args []js.Value) any {
		done <- result{err: errors.New(args[0].Call("toString").String())}
		return nil
	})
	promise.Call("then", ok, bad)
	r := <-done
	ok.Release()
	bad.Release()
	return r.v, r.err
}

func main() {
	h := serve.New(nil, assetModels{})
	workers.Serve(http.TimeoutHandler(h, 20*time.Second, `{"error":"timeout"}`))
}
