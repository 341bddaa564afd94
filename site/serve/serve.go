// Package serve is the HTTP handler of the web demo, shared by `tadd
// serve` and the Cloudflare Worker: the static site (index, wasm_exec.js,
// the UI's wasm), the pretrained models and their manifest, with correct
// content types, ETags and gzip compression; and a small JSON API:
//
//	GET  /api/models     the model manifest
//	POST /api/classify   {"model": FILE, "image": [784 values in 0..1]} → logits, probabilities, predicted class
//
// It serves only regular files, never a dot-file or anything in a
// dot-folder, and under /pretrained/ only manifest.json, the gallery
// (gallery-*.idx) and the models that the manifest lists, each only while
// its size and SHA-256 match the manifest. Confinement to a folder (no
// symlink out of it) is the file system's job: `tadd serve` gives it
// os.Root file systems.
//
// Reads are bounded (see the limits below): sizes are checked before a
// file is read, at most maxReads files are read at once, each file is read
// once however many requests want it, failures are remembered, and the
// caches of files and models are bounded in bytes.
//
// Bad requests (bad paths, wrong sizes, values outside [0, 1], unknown
// models, huge bodies) get a 4xx with a message (JSON under /api/), never
// a 5xx.
package serve

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/tadd-project/tadd/core/catalog"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Limits on what the handler reads and keeps.
const (
	maxManifest    = 1 << 20   // bytes of manifest.json
	maxModelFile   = 64 << 20  // bytes of one model file
	maxCachedFile  = 32 << 20  // larger site files are streamed from disk, not cached
	assetBudget    = 128 << 20 // bytes of files (and their gzip) kept for serving
	modelBudget    = 256 << 20 // bytes of loaded models kept (about 8 per parameter)
	maxReads       = 4         // files read into memory at once
	manifestBudget = 4 << 20   // bytes of parsed manifests kept
)

// Handler serves site at / and models at /pretrained/.
type Handler struct {
	site, models fs.FS
	reads        chan struct{} // a token per file being read into memory
	assets       *catalog.Cache[*asset]
	manifests    *catalog.Cache[*manifestFile]
	loaded       *catalog.Cache[*loadedModel]
}

// New returns a Handler over the two file systems. With site nil it serves
// only /pretrained/ and the API (the Worker serves static files from its
// assets binding).
func New(site, models fs.FS) *Handler {
	return &Handler{site: site, models: models, reads: make(chan struct{}, maxReads),
		assets: catalog.NewCache[*asset](assetBudget), manifests: catalog.NewCache[*manifestFile](manifestBudget), loaded: catalog.NewCache[*loadedModel](modelBudget)}
}

// read reads a regular file into memory, holding one of the read tokens.
func (h *Handler) read(fsys fs.FS, name string, limit int64) ([]byte, error) {
	h.reads <- struct{}{}
	defer func() { <-h.reads }()
	return readRegular(fsys, name, limit)
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

func contentType(name string) string {
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		return ct
	}
	return "application/octet-stream"
}

// compressible lists the types worth gzipping (weights in F16 are not).
var compressible = map[string]bool{".html": true, ".js": true, ".css": true, ".json": true, ".wasm": true, ".svg": true, ".txt": true, ".idx": true}

// newAsset prepares b, the content of a file called name, and returns it
// with the bytes it holds.
func newAsset(name string, b []byte) (*asset, int64) {
	sum := sha256.Sum256(b)
	a := &asset{body: b, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if compressible[path.Ext(name)] && len(b) > 512 {
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		w.Write(b)
		w.Close()
		if z.Len() < len(b) {
			a.gz = z.Bytes()
		}
	}
	return a, int64(len(a.body) + len(a.gz))
}

// fileAsset returns the asset of a plain file (a site file or the
// gallery); a file over maxCachedFile gives an errTooLarge.
func (h *Handler) fileAsset(fsys fs.FS, name, key string) (*asset, error) {
	st, err := stamp(fsys, name)
	if err != nil {
		return nil, err
	}
	return h.assets.Get(key+"|"+st, func() (*asset, int64, error) {
		b, err := h.read(fsys, name, maxCachedFile)
		if err != nil {
			return nil, 0, err
		}
		a, size := newAsset(name, b)
		return a, size, nil
	})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if strings.HasPrefix(p, "api/") {
		h.serveAPI(w, r, p)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if p == "pretrained" {
		http.Error(w, "not found: /pretrained/ (see /api/models)", http.StatusNotFound)
		return
	}
	if rest, ok := strings.CutPrefix(p, "pretrained/"); ok {
		h.servePretrained(w, r, p, rest)
		return
	}
	name := p
	if name == "" || name == "." {
		name = "index.html"
	}
	if h.site == nil {
		http.Error(w, "not found: /"+p, http.StatusNotFound)
		return
	}
	if err := checkName(name); err != nil {
		notServed(w, p, err)
		return
	}
	a, err := h.fileAsset(h.site, name, "site/"+name)
	if errors.Is(err, errTooLarge) {
		h.stream(w, r, p, name)
		return
	}
	if err != nil {
		notServed(w, p, err)
		return
	}
	writeAsset(w, r, a, name)
}

// servePretrained serves /pretrained/NAME: the manifest, the gallery, and
// the models the manifest lists and matches.
func (h *Handler) servePretrained(w http.ResponseWriter, r *http.Request, p, name string) {
	if err := checkName(name); err != nil {
		notServed(w, p, err)
		return
	}
	var a *asset
	var err error
	switch {
	case name == manifestName:
		var mf *manifestFile
		if mf, err = h.manifest(); err == nil {
			a = mf.asset
		}
	case strings.HasPrefix(name, "gallery-") && path.Ext(name) == ".idx":
		a, err = h.fileAsset(h.models, name, "pretrained/"+name)
	case path.Ext(name) == ".safetensors":
		a, err = h.modelAsset(name)
	default:
		err = errNotServed
	}
	if err != nil {
		notServed(w, p, err)
		return
	}
	writeAsset(w, r, a, name)
}

// notServed answers a path that gets no file: 400 for a malformed path,
// 404 for the rest (missing, hidden, not a regular file, too large, not in
// or not matching the manifest), and 500 only for a file that exists but
// cannot be read.
func notServed(w http.ResponseWriter, p string, err error) {
	switch {
	case errors.Is(err, errBadPath):
		http.Error(w, "bad path", http.StatusBadRequest)
	case errors.Is(err, errMismatch):
		http.Error(w, "not served: /"+p+" differs from its manifest entry", http.StatusNotFound)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errNotServed), errors.Is(err, errTooLarge):
		http.Error(w, "not found: /"+p, http.StatusNotFound)
	default:
		http.Error(w, "cannot read /"+p, http.StatusInternalServerError)
	}
}

// stream serves a regular site file too large to cache straight from the
// file system (with Range support, without gzip).
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, p, name string) {
	f, err := h.site.Open(name)
	if err != nil {
		notServed(w, p, notFound(err))
		return
	}
	defer f.Close()
	info, err := f.Stat()
	rs, seekable := f.(io.ReadSeeker)
	if err != nil || !info.Mode().IsRegular() || !seekable {
		notServed(w, p, errNotServed)
		return
	}
	w.Header().Set("Content-Type", contentType(name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, info.ModTime(), rs)
}

func writeAsset(w http.ResponseWriter, r *http.Request, a *asset, name string) {
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
	hd.Set("Content-Length", fmt.Sprint(len(body)))
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
