package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/site/serve/servetest"
)

// apiHandler is a Handler over the tiny test model, listed in its manifest.
func apiHandler(t testing.TB) *Handler {
	model, err := os.ReadFile("../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return New(nil, fstest.MapFS{"manifest.json": {Data: manifestOf(map[string][]byte{"m.safetensors": model})}, "m.safetensors": {Data: model}})
}

// FuzzClassify sends arbitrary bodies to POST /api/classify: every answer
// is JSON, never a 5xx; an accepted request names a plain model file and
// has values in [0, 1] that survive a JSON round trip; a 200 carries 10
// finite logits and probabilities that sum to 1.
func FuzzClassify(f *testing.F) {
	h := apiHandler(f)
	f.Add(`{"model":"m.safetensors","image":` + servetest.Image(784) + `}`)
	f.Add(`{"model":"m.safetensors","image":[0,1,0.5]}`)
	f.Add(`{"model":"m.safetensors","image":[null,1e-320,1]}`)
	f.Add(`{"model":"../m.safetensors","image":[]}`)
	f.Add(`{"model":".m.safetensors","image":[2]}`)
	f.Add(`{"model":"m.safetensors","image":[1e400]}`)
	f.Add(`{"model":"m.safetensors","model":"x.safetensors","image":{}}`)
	f.Add(`[{"model":1}]`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := DecodeClassifyRequest([]byte(body))
		if err == nil {
			if path.Base(req.Model) != req.Model || checkName(req.Model) != nil || path.Ext(req.Model) != ".safetensors" {
				t.Fatalf("accepted model name %q", req.Model)
			}
			for _, v := range req.Image {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("accepted value %v", v)
				}
			}
			b, err := json.Marshal(req)
			if err != nil {
				t.Fatalf("re-encoding an accepted request: %v", err)
			}
			again, err := DecodeClassifyRequest(b)
			if err != nil || again.Model != req.Model || len(again.Image) != len(req.Image) {
				t.Fatalf("round trip of %s: %+v, %v", b, again, err)
			}
			for i := range req.Image {
				if again.Image[i] != req.Image[i] {
					t.Fatalf("round trip changed value %d: %v to %v", i, req.Image[i], again.Image[i])
				}
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/classify", strings.NewReader(body)))
		var out struct {
			Error         string    `json:"error"`
			Logits        []float64 `json:"logits"`
			Probabilities []float64 `json:"probabilities"`
		}
		if w.Code >= 500 || json.Unmarshal(w.Body.Bytes(), &out) != nil {
			t.Fatalf("%d %q", w.Code, w.Body.String())
		}
		if w.Code != http.StatusOK {
			if out.Error == "" {
				t.Fatalf("%d without an error message", w.Code)
			}
			return
		}
		if len(out.Logits) != 10 || len(out.Probabilities) != 10 {
			t.Fatalf("200 with %d logits", len(out.Logits))
		}
		sum := 0.0
		for i := range out.Logits {
			if math.IsNaN(out.Logits[i]) || math.IsInf(out.Logits[i], 0) {
				t.Fatalf("logit %v", out.Logits[i])
			}
			sum += out.Probabilities[i]
		}
		if math.Abs(sum-1) > 1e-3 {
			t.Fatalf("probabilities sum to %v", sum)
		}
	})
}

// TestClassifyRequestRejectsNull checks that a null among the image's
// values is an error naming it, not a 0.
func TestClassifyRequestRejectsNull(t *testing.T) {
	img := strings.Repeat("0,", 783)
	for _, c := range []struct {
		body, want string
	}{
		{`{"model":"m.safetensors","image":[null,` + img[:len(img)-1] + `]}`, "at 0 is null"},
		{`{"model":"m.safetensors","image":[` + img + `null]}`, "at 783 is null"},
	} {
		if _, err := DecodeClassifyRequest([]byte(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
	if req, err := DecodeClassifyRequest([]byte(`{"model":"m.safetensors","image":[` + img + `1]}`)); err != nil || len(req.Image) != 784 || req.Image[783] != 1 {
		t.Errorf("valid request: %v, %d values", err, len(req.Image))
	}
}

func TestCheckName(t *testing.T) {
	cases := []struct {
		name string
		want error
	}{
		{"index.html", nil},
		{"a/b.js", nil},
		{"m.safetensors", nil},
		{strings.Repeat("a", 255), nil},
		{strings.Repeat("a", 256), errBadPath},
		{strings.Repeat("a/", 600) + "a", errBadPath},
		{"", errBadPath},
		{".", errBadPath},
		{"/abs", errBadPath},
		{"a//b", errBadPath},
		{"a/../b", errBadPath},
		{"nul\x00", errBadPath},
		{"tab\there", errBadPath},
		{"del\x7f", errBadPath},
		{`back\slash`, errBadPath},
		{".env", errNotServed},
		{".git/config", errNotServed},
		{"a/.hidden/b", errNotServed},
		{"..x", errNotServed},
	}
	for _, c := range cases {
		if got := checkName(c.name); got != c.want {
			t.Errorf("checkName(%.40q) = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestClassifyNonFiniteLogits: a model that passes the loader's probe (its
// first filter sees only vertical edges, which the probe inputs lack) but
// overflows on a striped image answers that image with a 422 and a JSON
// error, not a 200 with an empty body (issue 23, defect 4).
func TestClassifyNonFiniteLogits(t *testing.T) {
	m, err := nn.New(nn.MNISTArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(m.Params)
	for i, p := range m.NamedParams() {
		switch {
		case len(p.Shape) == 1: // biases stay 0
		case i == 0: // conv1 weight (3, 3, 1, 32): filter 0 is in[y+1][x+1] - in[y][x+1]
			// A power of two, so that the products are exact and cancel
			// exactly on the probe inputs with or without fused multiply-adds.
			cout := p.Shape[3]
			m.Params[p.Offset+(1*3+1)*cout] = 32768
			m.Params[p.Offset+(0*3+1)*cout] = -32768
		default:
			for j := range p.Size {
				m.Params[p.Offset+j] = 65504
			}
		}
	}
	var b bytes.Buffer
	if err := weights.Encode(&b, m, weights.Metadata{Identity: catalog.Identity{Dataset: "mnist", Role: "teacher", Temperature: 1}}, weights.F16); err != nil {
		t.Fatal(err)
	}
	h := New(nil, fstest.MapFS{"manifest.json": {Data: manifestOf(map[string][]byte{"edge.safetensors": b.Bytes()})}, "edge.safetensors": {Data: b.Bytes()}})
	stripes := make([]string, 784)
	for i := range stripes {
		stripes[i] = []string{"0", "1"}[(i/28)%2]
	}
	for _, c := range []struct {
		image string
		code  int
	}{
		{"[" + strings.Repeat("0,", 783) + "0]", http.StatusOK},
		{"[" + strings.Join(stripes, ",") + "]", http.StatusUnprocessableEntity},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/classify", strings.NewReader(`{"model":"edge.safetensors","image":`+c.image+`}`)))
		var out struct {
			Error string `json:"error"`
		}
		if w.Code != c.code || json.Unmarshal(w.Body.Bytes(), &out) != nil || (c.code != 200) != strings.Contains(out.Error, "non-finite") {
			t.Errorf("%.20s…: %d %q, want %d", c.image, w.Code, w.Body.String(), c.code)
		}
	}
}
