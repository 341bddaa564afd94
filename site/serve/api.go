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
	"sync"

	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
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

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, apiError{fmt.Sprintf(format, args...)})
}

// modelCache loads each model file once.
type modelCache struct {
	mu     sync.Mutex
	models map[string]*nn.Model
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
		b, err := fs.ReadFile(h.models, "manifest.json")
		if err != nil {
			fail(w, http.StatusNotFound, "no model manifest")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Write(b)
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
	var req ClassifyRequest
	if err := json.Unmarshal(body, &req); err != nil {
		fail(w, http.StatusBadRequest, "body is not the expected JSON: %v", err)
		return
	}
	if req.Model == "" || path.Base(req.Model) != req.Model || path.Ext(req.Model) != ".safetensors" {
		fail(w, http.StatusBadRequest, "model %q is not a model file name (see /api/models)", req.Model)
		return
	}
	m, err := h.model(req.Model)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fail(w, http.StatusNotFound, "unknown model %q (see /api/models)", req.Model)
			return
		}
		fail(w, http.StatusUnprocessableEntity, "model %q cannot be used: %v", req.Model, err)
		return
	}
	if len(req.Image) != m.InputSize() {
		fail(w, http.StatusBadRequest, "image has %d values, model %q takes %d (%d×%d×%d)", len(req.Image), req.Model,
			m.InputSize(), m.Arch.Input.H, m.Arch.Input.W, m.Arch.Input.C)
		return
	}
	x := make([]float32, len(req.Image))
	for i, v := range req.Image {
		if math.IsNaN(v) || v < 0 || v > 1 {
			fail(w, http.StatusBadRequest, "image value %v at %d is outside [0, 1]", v, i)
			return
		}
		x[i] = float32(v)
	}
	h.loaded.mu.Lock()
	z := append([]float32(nil), m.Forward(x, 1, false)...)
	h.loaded.mu.Unlock()
	p := make([]float32, len(z))
	nn.SoftmaxT(p, z, 1)
	writeJSON(w, http.StatusOK, ClassifyResponse{Model: req.Model, Logits: z, Probabilities: p, Predicted: nn.Argmax(p)})
}

// model returns a loaded model file, loading it on first use.
func (h *Handler) model(name string) (*nn.Model, error) {
	h.loaded.mu.Lock()
	m, ok := h.loaded.models[name]
	h.loaded.mu.Unlock()
	if ok {
		return m, nil
	}
	b, err := fs.ReadFile(h.models, name)
	if err != nil {
		return nil, err
	}
	m, _, err = weights.Load(b, nil)
	if err != nil {
		return nil, err
	}
	h.loaded.mu.Lock()
	h.loaded.models[name] = m
	h.loaded.mu.Unlock()
	return m, nil
}
