package vulkan

import (
	"context"

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
	targets, state, err := job.Prepare(state)
	if err != nil {
		return state, err
	}
	m, bs := job.Model, job.Config.BatchSize
	net, err := NewNet(d, m, bs)
	if err != nil {
		return state, err
	}
	defer net.Close()
	net.SetVelocity(state.Velocity)
	s := &stepper{job: job, targets: targets, net: net,
		x: make([]float32, bs*m.InputSize()), y: make([]float32, bs*m.Classes())}
	return train.Loop(ctx, job, state, s)
}

// stepper is one training step on the device: the batch goes in, the
// whole forward and backward pass and the update run there.
type stepper struct {
	job     train.Job
	targets []float32
	net     *Net
	x, y    []float32
}

// Step implements train.Stepper.
func (s *stepper) Step(epoch, b int, idx []int, state *train.State) (float64, int, error) {
	cfg, m, set := s.job.Config, s.job.Model, s.job.Train
	k, is, bn := m.Classes(), m.InputSize(), len(idx)
	for j, i := range idx {
		copy(s.x[j*is:(j+1)*is], set.Image(i))
		copy(s.y[j*k:(j+1)*k], s.targets[i*k:(i+1)*k])
	}
	// The masks the CPU draws for one worker's chunk (worker 0).
	masks := DropoutMasks(m, cfg.Seed, uint64(epoch)<<32|uint64(b)<<8, bn)
	lr := float32(cfg.LearningRate / (1 + cfg.Decay*float64(state.Iterations)))
	loss, z, err := s.net.TrainStep(s.x, s.y, masks, bn, Step{Temperature: cfg.Temperature, LearningRate: lr,
		Momentum: float32(cfg.Momentum), Nesterov: cfg.Nesterov})
	if err != nil {
		return 0, 0, err
	}
	state.Iterations++
	correct := 0
	for j, i := range idx {
		if nn.Argmax(z[j*k:(j+1)*k]) == int(set.Labels[i]) {
			correct++
		}
	}
	return loss * float64(bn), correct, nil
}

// Sync implements train.Stepper: the device's weights and momentum back
// into the Model and the state.
func (s *stepper) Sync(state *train.State) error {
	s.net.Params(s.job.Model.Params)
	s.net.Velocity(state.Velocity)
	return nil
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
