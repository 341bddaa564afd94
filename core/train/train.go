// Package train fits a model by minibatch SGD with momentum and learning
// rate decay, against hard labels or against the soft labels of defensive
// distillation, with the model's softmax at temperature T.
//
// Work is data-parallel: each batch is split over replicas of the model
// (one per core), their gradients summed, and one update applied. Progress
// goes to a callback; a context cancels between batches; a checkpoint
// callback after each epoch lets the caller save the model and the
// optimizer State atomically, and a run resumes from that State.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
)

// Config is a training schedule. DefaultConfig gives the paper's.
type Config struct {
	Epochs       int     // passes over the training set (the paper: 50)
	BatchSize    int     // 128
	LearningRate float64 // 0.01
	Momentum     float64 // 0.9
	Nesterov     bool    // true, as in the reference Keras code
	Decay        float64 // 1e-6: lr_t = lr / (1 + decay·t), t = updates so far
	Temperature  float32 // softmax temperature T of the training loss
	Seed         uint64  // initialisation, shuffling and dropout
	Workers      int     // replicas; 0 = GOMAXPROCS. Results depend on it through float rounding of the gradient sum (see State.Workers).
}

// DefaultConfig is the schedule of the paper (and of Carlini & Wagner's
// train_models.py) at temperature t.
func DefaultConfig(t float32) Config {
	return Config{Epochs: 50, BatchSize: 128, LearningRate: 0.01, Momentum: 0.9, Nesterov: true,
		Decay: 1e-6, Temperature: t, Seed: 1}
}

// The temperatures a schedule may use: below MinTemperature the logits
// divided by T overflow float32, and the paper's go up to 100.
const (
	MinTemperature = 1e-2
	MaxTemperature = 1e3
)

// ConfigError is a Config field whose value cannot train.
type ConfigError struct {
	Field string // the Config field, e.g. "Momentum"
	Value any
	Want  string // what the field must be
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s %v: want %s", e.Field, e.Value, e.Want)
}

// Validate reports a configuration that cannot train, as a *ConfigError.
func (c Config) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	t := float64(c.Temperature)
	switch {
	case c.Epochs < 1:
		return &ConfigError{"Epochs", c.Epochs, "at least 1"}
	case c.BatchSize <= 0:
		return &ConfigError{"BatchSize", c.BatchSize, "at least 1"}
	case !(c.LearningRate > 0) || !finite(c.LearningRate):
		return &ConfigError{"LearningRate", c.LearningRate, "a finite positive number"}
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return &ConfigError{"Momentum", c.Momentum, "a number in [0, 1)"}
	case !(c.Decay >= 0) || !finite(c.Decay):
		return &ConfigError{"Decay", c.Decay, "a finite number, 0 or more"}
	case !(t >= MinTemperature && t <= MaxTemperature):
		return &ConfigError{"Temperature", c.Temperature, fmt.Sprintf("a number in [%g, %g]", MinTemperature, MaxTemperature)}
	case c.Workers < 0:
		return &ConfigError{"Workers", c.Workers, "0 (all cores) or more"}
	}
	return nil
}

// State is the optimizer state a checkpoint holds besides the weights.
type State struct {
	Epoch      int       // epochs completed
	Iterations int64     // updates applied (for the decay)
	Velocity   []float32 // momentum buffer, same layout as the parameters
	// Workers is how many replicas the CPU split each batch over (0: not
	// recorded). The weights depend on it through the rounding of the
	// gradient sum and the per-replica dropout streams, so Run refuses to
	// resume a state with another count (*WorkersError).
	Workers int
}

// WorkersError is a resume with another worker count than the checkpoint's.
type WorkersError struct{ Checkpoint, Run int }

func (e *WorkersError) Error() string {
	return fmt.Sprintf("train: the checkpoint was trained on %d workers, this run has %d (the weights would match neither run)", e.Checkpoint, e.Run)
}

// Progress is reported after every batch.
type Progress struct {
	Epoch, Epochs  int     // 1-based current epoch, total
	Batch, Batches int     // 1-based batch within the epoch, total
	Loss           float64 // mean training loss of the epoch so far
	Accuracy       float64 // training accuracy (argmax vs the label) of the epoch so far
	SamplesPerSec  float64
	EpochDone      bool
}

// Job is one training run.
type Job struct {
	Model   *nn.Model
	Train   *data.Set
	Targets []float32 // Train.Len()×classes target distributions; nil = one-hot labels
	Config  Config
	// Progress, if set, is called after every batch.
	Progress func(Progress)
	// Checkpoint, if set, is called after every epoch with the state to save
	// alongside the model's parameters; an error stops training.
	Checkpoint func(*State) error
}

// Prepare checks the job and returns its targets (one-hot labels when
// Targets is nil) and the state to start from (a fresh one for nil): what
// every trainer, CPU or GPU, does first.
func (job Job) Prepare(state *State) ([]float32, *State, error) {
	cfg, m, set := job.Config, job.Model, job.Train
	if err := cfg.Validate(); err != nil {
		return nil, state, fmt.Errorf("train: %w", err)
	}
	if set == nil || set.Len() == 0 {
		return nil, state, errors.New("train: empty training set")
	}
	if set.ImageSize() != m.InputSize() {
		return nil, state, fmt.Errorf("train: images of %d×%d×%d do not fit architecture %q (%v)", set.H, set.W, set.C, m.Arch.Name, m.Arch.Input)
	}
	k := m.Classes()
	targets := job.Targets
	if targets == nil {
		targets = set.OneHot(k)
	}
	if len(targets) != set.Len()*k {
		return nil, state, fmt.Errorf("train: %d target values for %d samples of %d classes", len(targets), set.Len(), k)
	}
	if state == nil {
		state = &State{}
	}
	if state.Velocity == nil {
		state.Velocity = make([]float32, len(m.Params))
	}
	if len(state.Velocity) != len(m.Params) {
		return nil, state, fmt.Errorf("train: checkpoint momentum has %d values, model %d", len(state.Velocity), len(m.Params))
	}
	return targets, state, nil
}

// Stepper is what differs between trainers (the CPU's replicas, a GPU's
// resident network): one minibatch update, and bringing the model up to
// date. Loop does the rest.
type Stepper interface {
	// Step trains on the samples idx of the training set (batch b of
	// epoch e, 0-based), applies one update and counts it in
	// state.Iterations, and returns the batch's summed loss and how many of
	// its samples the model classified correctly before the update.
	Step(e, b int, idx []int, state *State) (loss float64, correct int, err error)
	// Sync writes the current parameters into the Model and the momentum
	// into state.Velocity, before each checkpoint and at the end.
	Sync(state *State) error
}

// Loop runs a prepared job's epochs from state with s doing each update:
// the seeded shuffling, batching, cancellation, progress, the check for a
// diverged loss and the checkpoints every trainer shares. On cancellation or
// an error it returns the state of the last completed epoch.
func Loop(ctx context.Context, job Job, state *State, s Stepper) (*State, error) {
	cfg, set := job.Config, job.Train
	n := set.Len()
	batches := (n + cfg.BatchSize - 1) / cfg.BatchSize
	done := *state
	done.Velocity = append([]float32(nil), state.Velocity...)
	for epoch := state.Epoch; epoch < cfg.Epochs; epoch++ {
		perm := data.Permutation(n, cfg.Seed, epoch)
		var lossSum float64
		var correct, seen int
		start := time.Now()
		for b := range batches {
			if err := ctx.Err(); err != nil {
				return &done, err
			}
			idx := perm[b*cfg.BatchSize : min((b+1)*cfg.BatchSize, n)]
			loss, ok, err := s.Step(epoch, b, idx, state)
			if err != nil {
				return &done, err
			}
			lossSum += loss
			correct += ok
			seen += len(idx)
			if job.Progress != nil {
				el := time.Since(start).Seconds()
				job.Progress(Progress{Epoch: epoch + 1, Epochs: cfg.Epochs, Batch: b + 1, Batches: batches,
					Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen),
					SamplesPerSec: float64(seen) / el, EpochDone: b == batches-1})
			}
		}
		state.Epoch = epoch + 1
		if math.IsNaN(lossSum) || math.IsInf(lossSum, 0) {
			return &done, fmt.Errorf("train: epoch %d: loss is %v (learning rate too high?)", epoch+1, lossSum)
		}
		if err := s.Sync(state); err != nil {
			return &done, fmt.Errorf("train: after epoch %d: %w", epoch+1, err)
		}
		if job.Checkpoint != nil {
			if err := job.Checkpoint(state); err != nil {
				return &done, fmt.Errorf("train: checkpoint after epoch %d: %w", epoch+1, err)
			}
		}
		done = *state
		done.Velocity = append(done.Velocity[:0:0], state.Velocity...)
	}
	if err := s.Sync(state); err != nil {
		return state, fmt.Errorf("train: %w", err)
	}
	return state, nil
}

// Run trains from state (nil = a fresh start: the model's current
// parameters and zero momentum) up to Config.Epochs and returns the final
// state. On cancellation it returns the state of the last completed epoch
// with ctx.Err(); the model's parameters then are mid-epoch.
func Run(ctx context.Context, job Job, state *State) (*State, error) {
	targets, state, err := job.Prepare(state)
	if err != nil {
		return state, err
	}
	pool := nn.NewWorkers(job.Model, job.Config.Workers)
	if state.Workers != 0 && state.Workers != len(pool.Replicas) {
		return state, &WorkersError{Checkpoint: state.Workers, Run: len(pool.Replicas)}
	}
	state.Workers = len(pool.Replicas)
	return Loop(ctx, job, state, &cpuStepper{job: job, targets: targets, pool: pool, bufs: make([]workerBuf, len(pool.Replicas))})
}

// cpuStepper is the CPU's update: the batch is split over the pool's
// replicas, their gradients summed, and one SGD step applied.
type cpuStepper struct {
	job     Job
	targets []float32
	pool    *nn.Workers
	bufs    []workerBuf
}

// Step implements Stepper.
func (c *cpuStepper) Step(epoch, b int, idx []int, state *State) (float64, int, error) {
	cfg, m, set := c.job.Config, c.job.Model, c.job.Train
	k, is, bn := m.Classes(), m.InputSize(), len(idx)
	c.pool.Run(bn, func(w int, r *nn.Model, lo, hi int) {
		buf := &c.bufs[w]
		cn := hi - lo
		buf.x = grow(buf.x, cn*is)
		buf.y = grow(buf.y, cn*k)
		buf.dz = grow(buf.dz, cn*k)
		for j, i := range idx[lo:hi] {
			copy(buf.x[j*is:(j+1)*is], set.Image(i))
			copy(buf.y[j*k:(j+1)*k], c.targets[i*k:(i+1)*k])
		}
		r.SeedDropout(cfg.Seed, uint64(epoch)<<32|uint64(b)<<8|uint64(w))
		r.ZeroGrads()
		z := r.Forward(buf.x, cn, true)
		// Mean over the whole batch: scale this chunk's mean by cn/bn.
		buf.loss = nn.CrossEntropyT(buf.dz, z, buf.y, cn, k, cfg.Temperature) * float64(cn)
		scale := float32(cn) / float32(bn)
		for i := range buf.dz {
			buf.dz[i] *= scale
		}
		buf.correct = 0
		for j, i := range idx[lo:hi] {
			if nn.Argmax(z[j*k:(j+1)*k]) == int(set.Labels[i]) {
				buf.correct++
			}
		}
		r.Backward(buf.dz, cn, false)
	})
	var loss float64
	var correct int
	for w := range c.pool.Chunks(bn) {
		loss += c.bufs[w].loss
		correct += c.bufs[w].correct
		if w > 0 {
			g, rg := m.Grads, c.pool.Replicas[w].Grads
			for i := range g {
				g[i] += rg[i]
			}
		}
	}
	step(m.Params, m.Grads, state, cfg)
	return loss, correct, nil
}

// Sync implements Stepper: the CPU trains the Model's own parameters.
func (c *cpuStepper) Sync(*State) error { return nil }

type workerBuf struct {
	x, y, dz []float32
	loss     float64
	correct  int
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// step applies one SGD update with momentum (Nesterov or classical) and
// inverse-time learning-rate decay, as Keras's SGD does:
//
//	lr ← lr₀ / (1 + decay·t)
//	v  ← μ·v − lr·g
//	θ  ← θ + μ·v − lr·g   (Nesterov)   or   θ ← θ + v
func step(params, grads []float32, s *State, c Config) {
	lr := float32(c.LearningRate / (1 + c.Decay*float64(s.Iterations)))
	mu := float32(c.Momentum)
	v := s.Velocity[:len(params)]
	g := grads[:len(params)]
	if c.Nesterov {
		for i := range params {
			v[i] = mu*v[i] - lr*g[i]
			params[i] += mu*v[i] - lr*g[i]
		}
	} else {
		for i := range params {
			v[i] = mu*v[i] - lr*g[i]
			params[i] += v[i]
		}
	}
	s.Iterations++
}

// Accuracy is the fraction of set that m classifies correctly at T = 1,
// computed on all workers of pool.
func Accuracy(pool *nn.Workers, set *data.Set) float64 {
	if set.Len() == 0 {
		return 0
	}
	z := pool.Logits(set.Images, set.Len())
	k := pool.Model().Classes()
	correct := 0
	for i := range set.Len() {
		if nn.Argmax(z[i*k:(i+1)*k]) == int(set.Labels[i]) {
			correct++
		}
	}
	return float64(correct) / float64(set.Len())
}
