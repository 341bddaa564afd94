package modelfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/safefile"
)

// Chains are the models of a reproduction: a chain's models come
// from the training folder if a chain was trained there (that folder then
// holds the whole chain, its given models copied), else from the given
// models. Chains implements reproduce.Models.
type Chains struct {
	Given    fs.FS             // the given models
	Manifest *catalog.Manifest // Given's manifest
	Trained  string            // the training folder
	Dataset  string
	Arch     string // the architecture of a chain trained without a given teacher
	Kernels  kernel.Kernels
}

// Store is the training folder's store of the chain at T = t.
func (c Chains) Store(t float64) ChainStore {
	return ChainStore{Dir: c.Trained, Dataset: c.Dataset, Temperature: t, DType: weights.F16}
}

// Model implements reproduce.Models.
func (c Chains) Model(t float64, step int) (*nn.Model, reproduce.Model, error) {
	store := c.Store(t)
	m, meta, err := store.Model(step, c.Kernels)
	if err == nil {
		return m, reproduce.Model{File: store.Name(step), Identity: meta.Identity}, nil
	}
	if !errors.Is(err, distill.ErrMissing) {
		return nil, reproduce.Model{}, err
	}
	if e, ok := c.Manifest.Find(c.Dataset, t, step); ok {
		b, err := fs.ReadFile(c.Given, e.File)
		if err != nil {
			return nil, reproduce.Model{}, err
		}
		m, _, err := weights.Load(b, c.Kernels)
		return m, e, err
	}
	return nil, reproduce.Model{}, distill.ErrMissing
}

// Trainer implements reproduce.Models: the chain goes on from its given
// models, those present from the teacher on copied into the training
// folder, so the first missing model is distilled from the last present
// one, in the teacher's architecture.
func (c Chains) Trainer(t float64, steps int) (distill.Store, nn.Arch, error) {
	if err := safefile.PrepareDir(c.Trained, ""); err != nil {
		return nil, nn.Arch{}, err
	}
	store := c.Store(t)
	arch, err := nn.ArchByName(c.Arch)
	if err != nil {
		return nil, arch, err
	}
	for step := 0; step <= steps; step++ {
		e, ok := c.Manifest.Find(c.Dataset, t, step)
		if !ok {
			break
		}
		if step == 0 {
			if arch, err = nn.ArchByName(e.Arch); err != nil {
				return nil, arch, fmt.Errorf("%s: %w", e.File, err)
			}
		}
		if _, err := os.Stat(store.Path(step)); err == nil {
			continue
		}
		b, err := fs.ReadFile(c.Given, e.File)
		if err != nil {
			return nil, arch, err
		}
		if err := safefile.Write(store.Path(step), b); err != nil {
			return nil, arch, err
		}
	}
	return store, arch, nil
}

var _ reproduce.Models = Chains{}
