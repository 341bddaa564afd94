// Package serve is the HTTP handler of the web demo, shared by `tadd
// serve` and the Cloudflare Worker: the static site (index, wasm_exec.js,
// the UI's wasm), the pretrained models and their manifest, with correct
// content types, ETags and gzip compression; and a small JSON API:
//
//	GET  /api/models     the model manifest
//	POST /api/classify   {"model": FILE, "image": [784 values in 0..1]} → logits, probabilities, predicted class
//
// Bad requests (wrong sizes, values outside [0, 1], unknown models, huge
// bodies) get a 4xx with a JSON {"error": ...}, never a 5xx.
package serve

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/tadd-project/tadd/core/nn"
)

// Handler serves site at / and models at /pretrained/.
type Handler struct {
	site, models fs.FS
	mu           sync.Mutex
	cache        map[string]*asset
	loaded       modelCache
}

// New returns a Handler over the two file systems. With site nil it serves
// only /pretrained/ and the API (the Worker serves static files from its
// assets binding).
func New(site, models fs.FS) *Handler {
	return &Handler{site: site, models: models, cache: map[string]*asset{}, loaded: modelCache{models: map[string]*nn.Model{}}}
}

// asset is a file prepared for serving.
type asset struct {
	body, gz    []byte
	etag, ctype string
}

var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".wasm":        "application/wasm",
	".png":         "image/png",
	".svg":         "image/svg+xml",
	".safetensors": "application/octet-stream",
	".idx":         "application/octet-stream",
	".txt":         "text/plain; charset=utf-8",
}

// compressible lists the types worth gzipping (weights in F16 are not).
var compressible = map[string]bool{".html": true, ".js": true, ".css": true, ".json": true, ".wasm": true, ".svg": true, ".txt": true, ".idx": true}

func (h *Handler) load(fsys fs.FS, name, key string) (*asset, error) {
	h.mu.Lock()
	a, ok := h.cache[key]
	h.mu.Unlock()
	if ok {
		return a, nil
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	ext := path.Ext(name)
	ct, ok := contentTypes[ext]
	if !ok {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(b)
	a = &asset{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if compressible[ext] && len(b) > 512 {
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		w.Write(b)
		w.Close()
		if z.Len() < len(b) {
			a.gz = z.Bytes()
		}
	}
	h.mu.Lock()
	h.cache[key] = a
	h.mu.Unlock()
	return a, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/"); strings.HasPrefix(p, "api/") {
		h.serveAPI(w, r, p)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	fsys, name, key := h.site, p, "site/"+p
	if rest, ok := strings.CutPrefix(p, "pretrained/"); ok {
		fsys, name, key = h.models, rest, p
	}
	if name == "" || name == "." {
		name, key = "index.html", key+"index.html"
	}
	if fsys == nil {
		http.Error(w, "not found: /"+p, http.StatusNotFound)
		return
	}
	if !fs.ValidPath(name) {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	a, err := h.load(fsys, name, key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			http.Error(w, "not found: /"+p, http.StatusNotFound)
			return
		}
		http.Error(w, "cannot read /"+p, http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	if path.Ext(name) == ".html" {
		hd.Set("Cache-Control", "no-cache")
	} else {
		hd.Set("Cache-Control", "public, max-age=3600")
	}
	hd.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hd.Set("Content-Length", itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(part, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
