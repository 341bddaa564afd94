// Package distill trains a defensive-distillation chain at one temperature
// T: the teacher (step 0) on hard labels, then each next model, of the
// same architecture and at the same T, on the soft labels F(X) =
// softmax(Z/T) of the model before it (eq. 9 of the seed paper). Step 1 is
// the assistant, step 2 the student, steps 3 to 6 the longer chains of the
// multi-step experiment. Every model is evaluated at T = 1.
//
// A chain resumes: finished models are loaded from the Store instead of
// retrained, and an interrupted model restarts from its last epoch
// checkpoint.
package distill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
)

// MaxSteps is the longest chain of the paper: six distillations after the teacher.
const MaxSteps = 6

// Chain is one distillation chain.
type Chain struct {
	Dataset string
	Arch    nn.Arch
	Steps   int          // distillations after the teacher, 0..MaxSteps
	Config  train.Config // schedule of every model; Config.Temperature is T
	// TeacherEpochs, when positive, replaces Config.Epochs for the teacher
	// (step 0): high-T teachers need longer than the models distilled from them.
	TeacherEpochs int
	// Train trains one model; nil is train.Run (the GPU backend passes its
	// own, with the same contract).
	Train func(context.Context, train.Job, *train.State) (*train.State, error)
	// DType is how the store keeps weights: a trained model is rounded to it
	// before its test accuracy and the next step's soft labels are computed,
	// so both are those of the file as shipped (and of a resumed chain).
	// Empty means F32 (no rounding).
	DType weights.DType
}

// Store keeps a chain's models and checkpoints (files on disk, in the CLI).
type Store interface {
	// Model returns the finished model of a step, or ErrMissing.
	Model(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, error)
	SaveModel(step int, m *nn.Model, meta weights.Metadata) error
	// Checkpoint returns the checkpoint of an unfinished step, or ErrMissing.
	Checkpoint(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error)
	SaveCheckpoint(step int, m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error
	RemoveCheckpoint(step int) error
	// Name identifies a step's model, for the Parent metadata of the next.
	Name(step int) string
}

// ErrMissing is returned by a Store that has no such model or checkpoint.
var ErrMissing = errors.New("not in store")

// Event tells the caller what the chain is doing.
type Event struct {
	Step     int
	Role     string
	Resumed  bool           // a finished model was loaded, or a checkpoint resumed
	Progress train.Progress // set while training (Progress.Batch > 0)
	Done     *weights.Metadata
}

// Run trains every missing model of the chain and returns the metadata of
// all of them, step 0 first.
func Run(ctx context.Context, c Chain, trainSet, testSet *data.Set, store Store, kern kernel.Kernels, events func(Event)) ([]weights.Metadata, error) {
	if c.Steps < 0 || c.Steps > MaxSteps {
		return nil, fmt.Errorf("distill: %d steps, want 0..%d", c.Steps, MaxSteps)
	}
	if err := c.Config.Validate(); err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	}
	if events == nil {
		events = func(Event) {}
	}
	if c.TeacherEpochs < 0 {
		return nil, fmt.Errorf("distill: %d teacher epochs", c.TeacherEpochs)
	}
	if err := data.CheckPair(trainSet, testSet); err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	}
	if in := c.Arch.Input; in.H*in.W*in.C != trainSet.ImageSize() {
		return nil, fmt.Errorf("distill: images of %d×%d×%d do not fit architecture %q (%v)", trainSet.H, trainSet.W, trainSet.C, c.Arch.Name, in)
	}
	var metas []weights.Metadata
	var prev *nn.Model
	for step := 0; step <= c.Steps; step++ {
		role := catalog.Role(step)
		m, meta, err := store.Model(step, kern)
		if err == nil {
			if meta.Temperature != float64(c.Config.Temperature) || meta.Arch != c.Arch.Name || meta.Dataset != c.Dataset {
				return nil, fmt.Errorf("distill: stored %s is %s/%s at T=%g, the chain is %s/%s at T=%g",
					store.Name(step), meta.Dataset, meta.Arch, meta.Temperature, c.Dataset, c.Arch.Name, c.Config.Temperature)
			}
			events(Event{Step: step, Role: role, Resumed: true, Done: &meta})
			metas = append(metas, meta)
			prev = m
			continue
		}
		if !errors.Is(err, ErrMissing) {
			return nil, err
		}
		cfg := c.Config
		cfg.Seed = c.Config.Seed + uint64(step) // a different initialisation per model
		if step == 0 && c.TeacherEpochs > 0 {
			cfg.Epochs = c.TeacherEpochs
		}
		cfgJSON, _ := json.Marshal(cfg)
		meta = weights.Metadata{Identity: catalog.Identity{Dataset: c.Dataset, Arch: c.Arch.Name, Temperature: float64(cfg.Temperature),
			Role: role, Step: step, Seed: cfg.Seed, TestAccuracy: -1}, Config: string(cfgJSON)}
		var targets []float32
		if step > 0 {
			meta.Parent = store.Name(step - 1)
			// Soft labels of the previous model at T, computed once.
			targets = nn.NewWorkers(prev, cfg.Workers).Probabilities(trainSet.Images, trainSet.Len(), cfg.Temperature)
		}
		m, err = trainStep(ctx, step, role, c, cfg, meta, trainSet, targets, store, kern, events)
		if err != nil {
			return nil, err
		}
		meta.Epochs = cfg.Epochs
		weights.Round(m.Params, c.DType)
		meta.TestAccuracy = train.Accuracy(nn.NewWorkers(m, cfg.Workers), testSet)
		if err := store.SaveModel(step, m, meta); err != nil {
			return nil, err
		}
		if err := store.RemoveCheckpoint(step); err != nil {
			return nil, err
		}
		events(Event{Step: step, Role: role, Done: &meta})
		metas = append(metas, meta)
		prev = m
	}
	return metas, nil
}

func trainStep(ctx context.Context, step int, role string, c Chain, cfg train.Config, meta weights.Metadata, set *data.Set,
	targets []float32, store Store, kern kernel.Kernels, events func(Event)) (*nn.Model, error) {
	m, err := nn.New(c.Arch, kern)
	if err != nil {
		return nil, err
	}
	var state *train.State
	cm, cmeta, ck, err := store.Checkpoint(step, kern)
	switch {
	case err == nil:
		if cmeta.Config != meta.Config || cmeta.Parent != meta.Parent || cmeta.Temperature != meta.Temperature {
			return nil, fmt.Errorf("distill: checkpoint of %s belongs to another run; remove it to start over", store.Name(step))
		}
		copy(m.Params, cm.Params)
		state = &train.State{Epoch: ck.Epoch, Iterations: ck.Iterations, Velocity: ck.Velocity, Workers: ck.Workers}
		events(Event{Step: step, Role: role, Resumed: true, Progress: train.Progress{Epoch: ck.Epoch, Epochs: cfg.Epochs}})
	case errors.Is(err, ErrMissing):
		m.Init(cfg.Seed)
	default:
		return nil, err
	}
	job := train.Job{Model: m, Train: set, Targets: targets, Config: cfg,
		Progress: func(p train.Progress) { events(Event{Step: step, Role: role, Progress: p}) },
		Checkpoint: func(s *train.State) error {
			cm := meta
			return store.SaveCheckpoint(step, m, cm, weights.Checkpoint{Epoch: s.Epoch, Iterations: s.Iterations, Velocity: s.Velocity, Workers: s.Workers})
		},
	}
	run := c.Train
	if run == nil {
		run = train.Run
	}
	if _, err := run(ctx, job, state); err != nil {
		return nil, fmt.Errorf("distill %s: %w", store.Name(step), err)
	}
	return m, nil
}
