package serve

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/site/serve/servetest"
)

// manifestOf is a manifest.json listing files with their sizes and SHA-256.
func manifestOf(files map[string][]byte) []byte {
	man := &catalog.Manifest{}
	for name, b := range files {
		man.Put(catalog.EntryFor(name, catalog.Identity{}, b))
	}
	b, err := json.Marshal(man)
	if err != nil {
		panic(err)
	}
	return b
}

func TestServe(t *testing.T) {
	big := bytes.Repeat([]byte("wasm!"), 1000)
	site := fstest.MapFS{"index.html": {Data: []byte("<html>hi</html>")}, "tadd.wasm": {Data: big}, "wasm_exec.js": {Data: []byte("go")}}
	models := fstest.MapFS{"manifest.json": {Data: manifestOf(map[string][]byte{"m.safetensors": {1, 2, 3}})}, "m.safetensors": {Data: []byte{1, 2, 3}}}
	srv := httptest.NewServer(New(site, models))
	defer srv.Close()
	get := func(path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "identity")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	cases := []struct {
		path, ctype string
		code        int
	}{
		{"/", "text/html; charset=utf-8", 200},
		{"/index.html", "text/html; charset=utf-8", 200},
		{"/tadd.wasm", "application/wasm", 200},
		{"/wasm_exec.js", "text/javascript; charset=utf-8", 200},
		{"/pretrained/manifest.json", "application/json", 200},
		{"/pretrained/m.safetensors", "application/octet-stream", 200},
		{"/pretrained/none.safetensors", "", 404},
		{"/../../etc/passwd", "", 404},
		{"/nothing", "", 404},
	}
	for _, c := range cases {
		resp := get(c.path, nil)
		resp.Body.Close()
		if resp.StatusCode != c.code || (c.code == 200 && resp.Header.Get("Content-Type") != c.ctype) {
			t.Errorf("%s: %d %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// gzip when asked, and it decodes to the original.
	resp := get("/tadd.wasm", map[string]string{"Accept-Encoding": "gzip, deflate"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatal("wasm not gzipped")
	}
	zr, _ := gzip.NewReader(resp.Body)
	got, _ := io.ReadAll(zr)
	resp.Body.Close()
	if !bytes.Equal(got, big) {
		t.Fatal("gzip body differs")
	}
	// ETag revalidation.
	etag := resp.Header.Get("ETag")
	if resp := get("/tadd.wasm", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", resp.StatusCode)
	}
	// Only GET and HEAD.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", nil)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
}

// TestAPI runs the shared server checks against the handler over the
// tiny test model.
func TestAPI(t *testing.T) {
	model, err := os.ReadFile("../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	man := manifestOf(map[string][]byte{"m.safetensors": model, "zbad.safetensors": []byte("junk")})
	site := fstest.MapFS{"index.html": {Data: []byte(`<script src="wasm_exec.js"></script><script>fetch("tadd.wasm")</script>`)},
		"tadd.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00")}}
	models := fstest.MapFS{"manifest.json": {Data: man}, "m.safetensors": {Data: model}, "zbad.safetensors": {Data: []byte("junk")}}
	srv := httptest.NewServer(New(site, models))
	defer srv.Close()
	servetest.Check(t, srv.URL)
	resp, err := http.Post(srv.URL+"/api/classify", "application/json", strings.NewReader(`{"model":"zbad.safetensors","image":`+servetest.Image(784)+`}`))
	if err != nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("corrupt model: %v %v", resp.StatusCode, err)
	}
}
