package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

const manifestName = catalog.FileName

// errMismatch marks a model file whose size or SHA-256 is not the
// manifest's: corrupt, or replaced since the manifest was written.
var errMismatch = errors.New("size or SHA-256 differs from the manifest (corrupt or replaced file)")

// manifestFile is a parsed manifest.json with its bytes ready to serve.
type manifestFile struct {
	man   *catalog.Manifest
	asset *asset
}

// manifest returns the models folder's manifest, read again when the file
// changes.
func (h *Handler) manifest() (*manifestFile, error) {
	st, err := stamp(h.models, manifestName)
	if err != nil {
		return nil, err
	}
	return h.manifests.Get(st, func() (*manifestFile, int64, error) {
		b, err := h.read(h.models, manifestName, maxManifest)
		if err != nil {
			return nil, 0, err
		}
		man, err := catalog.Parse(b)
		if err != nil {
			return nil, 0, err
		}
		a, size := newAsset(manifestName, b)
		return &manifestFile{man: man, asset: a}, 2 * size, nil
	})
}

// modelEntry returns the manifest entry of a model file and a cache key
// for its current content. A model the manifest does not list, or whose
// file is missing, is fs.ErrNotExist; one larger than maxModelFile is
// errTooLarge, found without reading it.
func (h *Handler) modelEntry(name string) (catalog.Entry, string, error) {
	mf, err := h.manifest()
	if err != nil {
		return catalog.Entry{}, "", fmt.Errorf("no model manifest: %w", err)
	}
	e, ok := mf.man.Lookup(name)
	if !ok {
		return e, "", fmt.Errorf("%s is not in the manifest: %w", name, fs.ErrNotExist)
	}
	if e.Bytes > maxModelFile {
		return e, "", fmt.Errorf("%w: %s is %d bytes, more than the %d this server loads", errTooLarge, name, e.Bytes, maxModelFile)
	}
	st, err := stamp(h.models, name)
	if err != nil {
		return e, "", err
	}
	return e, e.SHA256 + "|" + st, nil
}

// readModel reads the file of e, checking it against the manifest: it
// never reads more than the manifest's size.
func (h *Handler) readModel(e catalog.Entry) ([]byte, error) {
	b, err := h.read(h.models, e.File, e.Bytes)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%s: %w", e.File, errMismatch)
	}
	if err != nil {
		return nil, err
	}
	if e.CheckBytes(b) != nil {
		return nil, fmt.Errorf("%s: %w", e.File, errMismatch)
	}
	return b, nil
}

// modelAsset returns a model file for serving as a static file.
func (h *Handler) modelAsset(name string) (*asset, error) {
	e, key, err := h.modelEntry(name)
	if err != nil {
		return nil, err
	}
	return h.assets.Get("pretrained/"+key, func() (*asset, int64, error) {
		b, err := h.readModel(e)
		if err != nil {
			return nil, 0, err
		}
		a, size := newAsset(name, b)
		return a, size, nil
	})
}

// loadedModel is a model ready for inference; mu serialises its forward
// passes (a model's buffers are its own).
type loadedModel struct {
	mu sync.Mutex
	m  *nn.Model
}

// forward returns a copy of the logits of one input.
func (l *loadedModel) forward(x []float32) []float32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]float32(nil), l.m.Forward(x, 1, false)...)
}

// model returns a loaded model file, loading it on first use.
func (h *Handler) model(name string) (*loadedModel, error) {
	e, key, err := h.modelEntry(name)
	if err != nil {
		return nil, err
	}
	return h.loaded.Get(key, func() (*loadedModel, int64, error) {
		b, err := h.readModel(e)
		if err != nil {
			return nil, 0, err
		}
		m, _, err := weights.Load(b, nil)
		if err != nil {
			return nil, 0, err
		}
		return &loadedModel{m: m}, int64(8*len(m.Params)) + int64(len(b)), nil
	})
}
