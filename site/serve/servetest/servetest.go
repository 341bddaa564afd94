// Package servetest checks a running demo server from the outside: the
// page, the wasm, a weight file, and both API endpoints with good and bad
// input. The same checks run against `tadd serve` and against the
// Cloudflare Worker under `wrangler dev`.
package servetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// client opens a fresh connection per request: after an early 413 on an
// unread body, a server may close the connection or (workerd) stop reading
// it, and a reused connection would hang.
var client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func post(t testing.TB, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Image is a 28×28 image as JSON: a vertical bar, a crude "1".
func Image(n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = "0"
		if i%28 == 14 && i/28 > 4 && i/28 < 24 {
			v[i] = "1"
		}
	}
	return "[" + strings.Join(v, ",") + "]"
}

// Check runs every check against the server at base (no trailing slash).
func Check(t *testing.T, base string) {
	t.Helper()
	resp, b := get(t, base+"/")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(b, []byte("tadd.wasm")) {
		t.Fatalf("page: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, b = get(t, base+"/tadd.wasm")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" || !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("wasm: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, b = get(t, base+"/api/models")
	var man struct {
		Models []struct {
			File  string `json:"file"`
			Bytes int    `json:"bytes"`
		} `json:"models"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &man) != nil || len(man.Models) == 0 {
		t.Fatalf("/api/models: %d %s", resp.StatusCode, b)
	}
	model := man.Models[0].File
	resp, b = get(t, base+"/pretrained/"+model)
	if resp.StatusCode != 200 || len(b) != man.Models[0].Bytes {
		t.Fatalf("weights %s: %d, %d bytes (manifest %d)", model, resp.StatusCode, len(b), man.Models[0].Bytes)
	}

	resp, b = post(t, base+"/api/classify", fmt.Sprintf(`{"model": %q, "image": %s}`, model, Image(784)))
	var out struct {
		Logits        []float64 `json:"logits"`
		Probabilities []float64 `json:"probabilities"`
		Predicted     int       `json:"predicted"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || len(out.Logits) != 10 || out.Predicted < 0 || out.Predicted > 9 {
		t.Fatalf("classify: %d %s", resp.StatusCode, b)
	}
	var sum float64
	for _, p := range out.Probabilities {
		sum += p
	}
	if sum < 0.999 || sum > 1.001 {
		t.Fatalf("probabilities sum to %v", sum)
	}

	bad := []struct {
		name, body string
		code       int
	}{
		{"wrong size", fmt.Sprintf(`{"model": %q, "image": %s}`, model, Image(783)), 400},
		{"NaN", fmt.Sprintf(`{"model": %q, "image": [NaN]}`, model), 400},
		{"out of range", fmt.Sprintf(`{"model": %q, "image": %s}`, model, strings.Replace(Image(784), "1", "7", 1)), 400},
		{"unknown model", fmt.Sprintf(`{"model": "nope.safetensors", "image": %s}`, Image(784)), 404},
		{"path in model", fmt.Sprintf(`{"model": "../manifest.json", "image": %s}`, Image(784)), 400},
		{"not json", `{"model":`, 400},
		{"huge body", `{"image": [` + strings.Repeat("0,", 200000) + `0]}`, 413},
	}
	for _, c := range bad {
		resp, b := post(t, base+"/api/classify", c.body)
		var e struct {
			Error string `json:"error"`
		}
		if resp.StatusCode != c.code || json.Unmarshal(b, &e) != nil || e.Error == "" {
			t.Errorf("classify %s: %d %s, want %d with an error message", c.name, resp.StatusCode, b, c.code)
		}
	}
	if resp, _ := get(t, base+"/api/classify"); resp.StatusCode != 405 {
		t.Errorf("GET /api/classify: %d, want 405", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/api/nothing"); resp.StatusCode != 404 {
		t.Errorf("/api/nothing: %d, want 404", resp.StatusCode)
	}
}
