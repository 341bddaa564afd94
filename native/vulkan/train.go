package vulkan

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
)

// Train is train.Run on the device: the same schedule (seeded shuffling,
// dropout masks, learning-rate decay, Nesterov momentum), progress,
// checkpoints and cancellation, with each step one submission of a
// device-resident Net. Its results equal the CPU's with one worker up to
// float rounding. The model's parameters are read at the start and written
// back at every checkpoint and at the end.
func Train(ctx context.Context, d *Device, job train.Job, state *train.State) (*train.State, error) {
	cfg, m, set := job.Config, job.Model, job.Train
	targets, state, err := job.Prepare(state)
	if err != nil {
		return state, err
	}
	k := m.Classes()
	net, err := NewNet(d, m, cfg.BatchSize)
	if err != nil {
		return state, err
	}
	defer net.Close()
	net.SetVelocity(state.Velocity)
	is, n := m.InputSize(), set.Len()
	batches := (n + cfg.BatchSize - 1) / cfg.BatchSize
	x := make([]float32, cfg.BatchSize*is)
	y := make([]float32, cfg.BatchSize*k)
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
			bn := len(idx)
			for j, i := range idx {
				copy(x[j*is:(j+1)*is], set.Image(i))
				copy(y[j*k:(j+1)*k], targets[i*k:(i+1)*k])
			}
			// The masks the CPU draws for one worker's chunk (worker 0).
			masks := DropoutMasks(m, cfg.Seed, uint64(epoch)<<32|uint64(b)<<8, bn)
			lr := float32(cfg.LearningRate / (1 + cfg.Decay*float64(state.Iterations)))
			loss, z, err := net.TrainStep(x, y, masks, bn, Step{Temperature: cfg.Temperature, LearningRate: lr,
				Momentum: float32(cfg.Momentum), Nesterov: cfg.Nesterov})
			if err != nil {
				return &done, err
			}
			state.Iterations++
			lossSum += loss * float64(bn)
			for j, i := range idx {
				if nn.Argmax(z[j*k:(j+1)*k]) == int(set.Labels[i]) {
					correct++
				}
			}
			seen += bn
			if job.Progress != nil {
				el := time.Since(start).Seconds()
				job.Progress(train.Progress{Epoch: epoch + 1, Epochs: cfg.Epochs, Batch: b + 1, Batches: batches,
					Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen),
					SamplesPerSec: float64(seen) / el, EpochDone: b == batches-1})
			}
		}
		state.Epoch = epoch + 1
		if math.IsNaN(lossSum) || math.IsInf(lossSum, 0) {
			return &done, fmt.Errorf("train: epoch %d: loss is %v (learning rate too high?)", epoch+1, lossSum)
		}
		net.Params(m.Params)
		net.Velocity(state.Velocity)
		if job.Checkpoint != nil {
			if err := job.Checkpoint(state); err != nil {
				return &done, fmt.Errorf("train: checkpoint after epoch %d: %w", epoch+1, err)
			}
		}
		done = *state
		done.Velocity = append(done.Velocity[:0:0], state.Velocity...)
	}
	net.Params(m.Params)
	return state, nil
}

// DropoutMasks draws the masks m's dropout layers apply to a batch of bs
// after m.SeedDropout(a, b): the CPU's own layers, seeded the same way, run
// on ones.
func DropoutMasks(m *nn.Model, a, b uint64, bs int) [][]float32 {
	var masks [][]float32
	for i, spec := range m.Arch.Layers {
		if spec.Kind != "dropout" || spec.Rate <= 0 {
			continue
		}
		in := m.Layers[i].In()
		l := nn.NewDropout(in, spec.Rate)
		l.Seed(a, b^uint64(i)<<32)
		ones := make([]float32, bs*in.Size())
		for j := range ones {
			ones[j] = 1
		}
		masks = append(masks, append([]float32(nil), l.Forward(ones, bs, true)...))
	}
	return masks
}
