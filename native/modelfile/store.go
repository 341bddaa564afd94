package modelfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// ChainStore keeps a chain's models in a folder, named by catalog.ModelName,
// with checkpoints beside them and the manifest updated after each model.
// It implements distill.Store.
type ChainStore struct {
	Dir         string
	Dataset     string
	Temperature float64
	DType       weights.DType
}

// Path is the path of step's model file.
func (s ChainStore) Path(step int) string {
	return filepath.Join(s.Dir, catalog.ModelName(s.Dataset, s.Temperature, step))
}

// Name is step's file name.
func (s ChainStore) Name(step int) string { return filepath.Base(s.Path(step)) }

// Model loads a finished model, and lists it in the manifest if it is not
// yet (a model trained elsewhere and copied into the folder).
func (s ChainStore) Model(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, error) {
	m, meta, err := Load(s.Path(step), kern)
	if errors.Is(err, os.ErrNotExist) {
		return nil, meta, distill.ErrMissing
	}
	if err != nil {
		return nil, meta, err
	}
	man, err := ReadManifest(s.Dir)
	if err != nil {
		return nil, meta, err
	}
	if _, ok := man.Lookup(s.Name(step)); !ok {
		if err := s.record(man, step, meta); err != nil {
			return nil, meta, err
		}
	}
	return m, meta, nil
}

// SaveModel saves step's finished model and lists it in the manifest.
func (s ChainStore) SaveModel(step int, m *nn.Model, meta weights.Metadata) error {
	if err := s.slot(step).SaveModel(m, meta); err != nil {
		return err
	}
	man, err := ReadManifest(s.Dir)
	if err != nil {
		return err
	}
	return s.record(man, step, meta)
}

// record adds step's file to the manifest and writes it.
func (s ChainStore) record(man *catalog.Manifest, step int, meta weights.Metadata) error {
	b, err := os.ReadFile(s.Path(step))
	if err != nil {
		return err
	}
	man.Put(catalog.EntryFor(s.Name(step), meta.Identity, b))
	return WriteManifest(s.Dir, man)
}

// slot is step's file and checkpoint.
func (s ChainStore) slot(step int) Slot { return Slot{Path: s.Path(step), DType: s.DType} }

// Checkpoint loads step's checkpoint (distill.ErrMissing when there is none).
func (s ChainStore) Checkpoint(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error) {
	return s.slot(step).Checkpoint(kern)
}

// SaveCheckpoint writes step's checkpoint.
func (s ChainStore) SaveCheckpoint(step int, m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error {
	return s.slot(step).SaveCheckpoint(m, meta, c)
}

// RemoveCheckpoint removes step's checkpoint, if any.
func (s ChainStore) RemoveCheckpoint(step int) error { return s.slot(step).RemoveCheckpoint() }

// Slot keeps a model in a file and its checkpoint beside it (path +
// ".ckpt").
// It implements distill.Slot.
type Slot struct {
	Path  string
	DType weights.DType
}

// Checkpoint loads the checkpoint (distill.ErrMissing when there is none).
func (s Slot) Checkpoint(kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error) {
	m, meta, c, err := LoadCheckpoint(s.Path+".ckpt", kern)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, meta, c, distill.ErrMissing
	case err != nil:
		return nil, meta, c, fmt.Errorf("%w (remove it to start over)", err)
	}
	return m, meta, c, nil
}

// SaveCheckpoint writes the checkpoint atomically.
func (s Slot) SaveCheckpoint(m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error {
	return SaveCheckpoint(s.Path+".ckpt", m, meta, c)
}

// RemoveCheckpoint removes the checkpoint, if any.
func (s Slot) RemoveCheckpoint() error {
	if err := os.Remove(s.Path + ".ckpt"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// SaveModel saves the finished model atomically.
func (s Slot) SaveModel(m *nn.Model, meta weights.Metadata) error {
	return Save(s.Path, m, meta, s.DType)
}

// Name is the model file's path.
func (s Slot) Name() string { return s.Path }

// The stores distill trains into.
var (
	_ distill.Store = ChainStore{}
	_ distill.Slot  = Slot{}
)
