// Package distill trains a defensive-distillation chain at one temperature
// T: the teacher (step 0) on hard labels, then each next model, of the
// same architecture and at the same T, on the soft labels F(X) =
// softmax(Z/T) of the model before it (eq. 9 of the seed paper). Step 1 is
// the assistant, step 2 the student, steps 3 to 6 the longer chains of the
// multi-step experiment. Every model is evaluated at T = 1.
//
// A chain resumes: finished models are loaded from the Store instead of
// retrained, and an interrupted model restarts from its last epoch
// checkpoint. TrainModel is the one step that trains a model (checkpoint,
// initialisation, training job, rounding, test accuracy, save), for
// `tadd train` and every model of a chain alike; SoftLabels the one
// computation of a model's soft labels.
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
	Note     string // a warning about a resumed checkpoint, if any
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
		meta = weights.Metadata{Identity: catalog.Identity{Dataset: c.Dataset, Arch: c.Arch.Name, Temperature: float64(cfg.Temperature),
			Role: role, Step: step, Seed: cfg.Seed, TestAccuracy: -1}}
		var targets []float32
		if step > 0 {
			meta.Parent = store.Name(step - 1)
			targets = SoftLabels(prev, trainSet, cfg.Temperature, cfg.Workers)
		}
		one := Model{Arch: c.Arch, Config: cfg, Meta: meta, Train: trainSet, Targets: targets, Test: testSet, DType: c.DType, Run: c.Train}
		m, meta, err = TrainModel(ctx, one, stepSlot{store, step}, kern, func(e Event) {
			e.Step, e.Role = step, role
			events(e)
		})
		if err != nil {
			return nil, err
		}
		events(Event{Step: step, Role: role, Done: &meta})
		metas = append(metas, meta)
		prev = m
	}
	return metas, nil
}

// SoftLabels are the soft labels F(X) = softmax(Z/T) of model m on the
// images of set (eq. 9), the targets of the model distilled from it.
func SoftLabels(m *nn.Model, set *data.Set, t float32, workers int) []float32 {
	return nn.NewWorkers(m, workers).Probabilities(set.Images, set.Len(), t)
}

// Model is one model to train: on Train's images with hard labels, or on
// Targets (soft labels, see SoftLabels) when given.
type Model struct {
	Arch   nn.Arch
	Config train.Config
	// Meta describes the model; TrainModel fills in Config, Epochs and
	// TestAccuracy.
	Meta    weights.Metadata
	Train   *data.Set
	Targets []float32
	Test    *data.Set
	// DType is how the slot keeps weights: the trained model is rounded to
	// it before its test accuracy is measured (empty: F32, no rounding).
	DType weights.DType
	// Run trains; nil is train.Run (the GPU backend passes its own).
	Run func(context.Context, train.Job, *train.State) (*train.State, error)
}

// Slot keeps one model and its checkpoint (a file and the file beside it,
// in the CLI).
type Slot interface {
	// Checkpoint returns the checkpoint of the unfinished model, or ErrMissing.
	Checkpoint(kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error)
	SaveCheckpoint(m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error
	RemoveCheckpoint() error
	SaveModel(m *nn.Model, meta weights.Metadata) error
	// Name identifies the model, in messages.
	Name() string
}

// stepSlot is one step of a Store.
type stepSlot struct {
	store Store
	step  int
}

func (s stepSlot) Checkpoint(kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error) {
	return s.store.Checkpoint(s.step, kern)
}
func (s stepSlot) SaveCheckpoint(m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error {
	return s.store.SaveCheckpoint(s.step, m, meta, c)
}
func (s stepSlot) RemoveCheckpoint() error { return s.store.RemoveCheckpoint(s.step) }
func (s stepSlot) SaveModel(m *nn.Model, meta weights.Metadata) error {
	return s.store.SaveModel(s.step, m, meta)
}
func (s stepSlot) Name() string { return s.store.Name(s.step) }

// TrainModel trains one model, resuming from the slot's checkpoint when it
// has one of the same run (the same configuration, dataset, architecture
// and parent) and checkpointing after every epoch; then it rounds the
// weights to DType, measures the test accuracy at T = 1, saves the model
// and removes the checkpoint. It is the one training step of `tadd train`
// and of every model of a chain. events hears of a resumed checkpoint and
// of the training's progress (Step and Role are the caller's to set).
func TrainModel(ctx context.Context, o Model, slot Slot, kern kernel.Kernels, events func(Event)) (*nn.Model, weights.Metadata, error) {
	if events == nil {
		events = func(Event) {}
	}
	cfgJSON, _ := json.Marshal(o.Config)
	meta := o.Meta
	meta.Config = string(cfgJSON)
	m, err := nn.New(o.Arch, kern)
	if err != nil {
		return nil, meta, err
	}
	var state *train.State
	cm, cmeta, ck, err := slot.Checkpoint(kern)
	switch {
	case err == nil:
		if cmeta.Config != meta.Config || cmeta.Dataset != meta.Dataset || cmeta.Arch != o.Arch.Name || cmeta.Parent != meta.Parent || cmeta.Temperature != meta.Temperature {
			return nil, meta, fmt.Errorf("distill: checkpoint of %s belongs to another run (config %s); remove it to start over", slot.Name(), cmeta.Config)
		}
		copy(m.Params, cm.Params)
		state = &train.State{Epoch: ck.Epoch, Iterations: ck.Iterations, Velocity: ck.Velocity, Workers: ck.Workers}
		e := Event{Resumed: true, Progress: train.Progress{Epoch: ck.Epoch, Epochs: o.Config.Epochs}}
		if ck.Workers == 0 {
			e.Note = "the checkpoint does not record its worker count; the result is bit-identical to an uninterrupted run only with the same --workers"
		}
		events(e)
	case errors.Is(err, ErrMissing):
		m.Init(o.Config.Seed)
	default:
		return nil, meta, err
	}
	job := train.Job{Model: m, Train: o.Train, Targets: o.Targets, Config: o.Config,
		Progress: func(p train.Progress) { events(Event{Progress: p}) },
		Checkpoint: func(s *train.State) error {
			return slot.SaveCheckpoint(m, meta, weights.Checkpoint{Epoch: s.Epoch, Iterations: s.Iterations, Velocity: s.Velocity, Workers: s.Workers})
		},
	}
	run := o.Run
	if run == nil {
		run = train.Run
	}
	if _, err := run(ctx, job, state); err != nil {
		return nil, meta, fmt.Errorf("distill %s: %w", slot.Name(), err)
	}
	meta.Epochs = o.Config.Epochs
	weights.Round(m.Params, o.DType)
	meta.TestAccuracy = train.Accuracy(nn.NewWorkers(m, o.Config.Workers), o.Test)
	if err := slot.SaveModel(m, meta); err != nil {
		return nil, meta, err
	}
	if err := slot.RemoveCheckpoint(); err != nil {
		return nil, meta, err
	}
	return m, meta, nil
}
