// Package modelfile reads and writes model files on disk: safetensors
// through core/weights, written atomically (temporary file, fsync, rename)
// so that a crash never leaves a half-written model or checkpoint.
package modelfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// maxFile bounds the size of a model file we are willing to read.
const maxFile = 1 << 30

// Save writes m with meta to path atomically.
func Save(path string, m *nn.Model, meta weights.Metadata, dtype weights.DType) error {
	var b bytes.Buffer
	if err := weights.Encode(&b, m, meta, dtype); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return WriteAtomic(path, b.Bytes())
}

// SaveCheckpoint writes a training checkpoint to path atomically.
func SaveCheckpoint(path string, m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error {
	var b bytes.Buffer
	if err := weights.EncodeCheckpoint(&b, m, meta, c); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	return WriteAtomic(path, b.Bytes())
}

func read(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("model file %s is not a regular file", path)
	}
	if st.Size() > maxFile {
		return nil, fmt.Errorf("model file %s: %d bytes is too large", path, st.Size())
	}
	return os.ReadFile(path)
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

// WriteAtomic writes b to path through a temporary file in the same
// directory, synced and renamed into place.
func WriteAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
