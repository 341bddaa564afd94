// Package modelfile reads and writes model files on disk: safetensors
// through core/weights, written with native/safefile (atomically, never
// over what is not a regular file) so that a crash never leaves a
// half-written model or checkpoint; and the folders models live in: a
// chain's store for distill (ChainStore, Slot) and a reproduction's models,
// given and trained (Chains).
package modelfile

import (
	"bytes"
	"fmt"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/safefile"
)

// Save writes m with meta to path atomically.
func Save(path string, m *nn.Model, meta weights.Metadata, dtype weights.DType) error {
	var b bytes.Buffer
	if err := weights.Encode(&b, m, meta, dtype); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return safefile.Write(path, b.Bytes())
}

// SaveCheckpoint writes a training checkpoint to path atomically.
func SaveCheckpoint(path string, m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error {
	var b bytes.Buffer
	if err := weights.EncodeCheckpoint(&b, m, meta, c); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	return safefile.Write(path, b.Bytes())
}

func read(path string) ([]byte, error) {
	b, err := safefile.Read(path, catalog.MaxModelFile)
	if err != nil {
		return nil, fmt.Errorf("model file: %w", err)
	}
	return b, nil
}

// Load reads a model file.
func Load(path string, kern kernel.Kernels) (*nn.Model, weights.Metadata, error) {
	b, err := read(path)
	if err != nil {
		return nil, weights.Metadata{}, err
	}
	m, meta, err := weights.Load(b, kern)
	if err != nil {
		return nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	return m, meta, nil
}

// LoadCheckpoint reads a checkpoint file.
func LoadCheckpoint(path string, kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error) {
	b, err := read(path)
	if err != nil {
		return nil, weights.Metadata{}, weights.Checkpoint{}, err
	}
	m, meta, c, err := weights.LoadCheckpoint(b, kern)
	if err != nil {
		return nil, meta, c, fmt.Errorf("%s: %w", path, err)
	}
	return m, meta, c, nil
}
