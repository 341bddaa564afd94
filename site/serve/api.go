package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"path"

	"github.com/tadd-project/tadd/core/nn"
)

// maxClassifyBody bounds a /api/classify request: 784 numbers of JSON need
// well under 32 KiB.
const maxClassifyBody = 64 << 10

// ClassifyRequest is the body of POST /api/classify.
type ClassifyRequest struct {
	Model string    `json:"model"` // a file name from /api/models
	Image []float64 `json:"image"` // 28×28 values in [0, 1], row by row
}

// ClassifyResponse is its answer.
type ClassifyResponse struct {
	Model         string    `json:"model"`
	Logits        []float32 `json:"logits"`
	Probabilities []float32 `json:"probabilities"`
	Predicted     int       `json:"predicted"`
}

// apiError is the JSON body of every API error.
type apiError struct {
	Error string `json:"error"`
}

// writeJSON answers v as JSON. A value that cannot be encoded (a bug: the
// handler checks its numbers) is a 500 with a JSON error, never a 200 with
// an empty body.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(apiError{fmt.Sprintf("cannot encode the answer: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, apiError{fmt.Sprintf(format, args...)})
}

// serveAPI answers /api/models and /api/classify.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "api/models":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			fail(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		mf, err := h.manifest()
		if err != nil {
			fail(w, http.StatusNotFound, "no model manifest")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		if r.Method == http.MethodGet {
			w.Write(mf.asset.body)
		}
	case "api/classify":
		h.classify(w, r)
	default:
		fail(w, http.StatusNotFound, "no such endpoint: /%s (try /api/models or /api/classify)", p)
	}
}

func (h *Handler) classify(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		fail(w, http.StatusMethodNotAllowed, "use POST with a JSON body {\"model\": ..., \"image\": [784 values]}")
		return
	}
	if r.ContentLength > maxClassifyBody {
		fail(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes", maxClassifyBody)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxClassifyBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes", maxClassifyBody)
			return
		}
		fail(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	req, err := DecodeClassifyRequest(body)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	lm, err := h.model(req.Model)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fail(w, http.StatusNotFound, "unknown model %q (see /api/models)", req.Model)
			return
		}
		fail(w, http.StatusUnprocessableEntity, "model %q cannot be used: %v", req.Model, err)
		return
	}
	m := lm.m
	if len(req.Image) != m.InputSize() {
		fail(w, http.StatusBadRequest, "image has %d values, model %q takes %d (%d×%d×%d)", len(req.Image), req.Model,
			m.InputSize(), m.Arch.Input.H, m.Arch.Input.W, m.Arch.Input.C)
		return
	}
	x := make([]float32, len(req.Image))
	for i, v := range req.Image {
		x[i] = float32(v)
	}
	z := lm.forward(x)
	for i, v := range z {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			fail(w, http.StatusUnprocessableEntity, "model %q gives a non-finite logit %d (%v) for this image: its weights overflow", req.Model, i, v)
			return
		}
	}
	p := make([]float32, len(z))
	nn.SoftmaxT(p, z, 1)
	writeJSON(w, http.StatusOK, ClassifyResponse{Model: req.Model, Logits: z, Probabilities: p, Predicted: nn.Argmax(p)})
}

// DecodeClassifyRequest parses and checks the body of POST /api/classify:
// JSON with a model file name (no path) and image values in [0, 1]. The
// image's length is checked against the model later.
func DecodeClassifyRequest(body []byte) (ClassifyRequest, error) {
	// Image values as pointers: JSON's null would otherwise read as 0.
	var raw struct {
		Model string     `json:"model"`
		Image []*float64 `json:"image"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return ClassifyRequest{}, fmt.Errorf("body is not the expected JSON: %w", err)
	}
	req := ClassifyRequest{Model: raw.Model, Image: make([]float64, len(raw.Image))}
	for i, v := range raw.Image {
		if v == nil {
			return ClassifyRequest{}, fmt.Errorf("image value at %d is null, want a number in [0, 1]", i)
		}
		req.Image[i] = *v
	}
	if req.Model == "" || path.Base(req.Model) != req.Model || path.Ext(req.Model) != ".safetensors" || checkName(req.Model) != nil {
		return ClassifyRequest{}, fmt.Errorf("model %q is not a model file name (see /api/models)", req.Model)
	}
	for i, v := range req.Image {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return ClassifyRequest{}, fmt.Errorf("image value %v at %d is outside [0, 1]", v, i)
		}
	}
	return req, nil
}
