package vulkan

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
)

// close reports the largest difference between a and b relative to the
// largest magnitude in b.
func maxRelDiff(a, b []float32) float64 {
	var d, scale float64
	for i := range b {
		d = max(d, math.Abs(float64(a[i]-b[i])))
		scale = max(scale, math.Abs(float64(b[i])))
	}
	return d / max(scale, 1e-12)
}

func randInputs(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// TestNetForwardAndInputGradient compares the device-resident MNIST and
// tiny nets with the CPU: logits and input gradients of a batch.
func TestNetForwardAndInputGradient(t *testing.T) {
	d := openAny(t)
	defer d.Close()
	for _, arch := range []nn.Arch{nn.TinyArch(), nn.MNISTArch()} {
		m, err := nn.New(arch, kernel.Portable{})
		if err != nil {
			t.Fatal(err)
		}
		m.Init(3)
		const bs = 3
		net, err := NewNet(d, m, bs)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		x := randInputs(r, bs*m.InputSize())
		dz := make([]float32, bs*10)
		for i := range dz {
			dz[i] = float32(r.NormFloat64())
		}
		want := append([]float32(nil), m.Forward(x, bs, false)...)
		got, err := net.Forward(x, bs)
		if err != nil {
			t.Fatal(err)
		}
		if e := maxRelDiff(got, want); e > 1e-4 {
			t.Fatalf("%s logits: relative error %g\ndevice %v\ncpu    %v", arch.Name, e, got, want)
		}
		wantG := append([]float32(nil), m.InputGradient(dz, bs)...)
		gotG, err := net.InputGradient(dz, bs)
		if err != nil {
			t.Fatal(err)
		}
		if e := maxRelDiff(gotG, wantG); e > 1e-4 {
			t.Fatalf("%s input gradient: relative error %g", arch.Name, e)
		}
		net.Close()
	}
}

// TestNetTrainStep runs SGD steps with dropout at T=5 on the device and
// on the CPU from the same weights, masks and batches, and compares the
// losses and the weights after each.
func TestNetTrainStep(t *testing.T) {
	d := openAny(t)
	defer d.Close()
	m, err := nn.New(nn.TinyArch(), kernel.Portable{})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(7)
	const bs, T = 128, 5
	net, err := NewNet(d, m, bs)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	r := rand.New(rand.NewPCG(3, 4))
	vel := make([]float32, len(m.Params))
	s := Step{Temperature: T, LearningRate: 0.05, Momentum: 0.9, Nesterov: true}
	for step := range 3 {
		x := randInputs(r, bs*m.InputSize())
		targets := make([]float32, bs*10)
		for i := range bs {
			targets[i*10+r.IntN(10)] = 1
		}
		m.SeedDropout(11, uint64(step))
		masks := DropoutMasks(m, 11, uint64(step), bs)
		m.ZeroGrads()
		z := m.Forward(x, bs, true)
		dz := make([]float32, bs*10)
		wantLoss := nn.CrossEntropyT(dz, z, targets, bs, 10, T)
		m.Backward(dz, bs, false)
		for i := range m.Params {
			vel[i] = s.Momentum*vel[i] - s.LearningRate*m.Grads[i]
			m.Params[i] += s.Momentum*vel[i] - s.LearningRate*m.Grads[i]
		}
		loss, _, err := net.TrainStep(x, targets, masks, bs, s)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(loss-wantLoss) > 1e-4*max(1, wantLoss) {
			t.Fatalf("step %d: loss on the device %v, on the CPU %v", step, loss, wantLoss)
		}
		got := make([]float32, len(m.Params))
		net.Params(got)
		if e := maxRelDiff(got, m.Params); e > 1e-4 {
			t.Fatalf("step %d: weights differ by %g (relative)", step, e)
		}
	}
}

// TestTrainMatchesCPU trains the tiny net for two epochs on synthetic data
// with train.Run (one worker) and with Train, and compares the weights.
func TestTrainMatchesCPU(t *testing.T) {
	d := openAny(t)
	defer d.Close()
	set := data.Bars(300, 28, 5)
	cfg := train.DefaultConfig(2)
	cfg.Epochs, cfg.BatchSize, cfg.LearningRate, cfg.Workers, cfg.Seed = 2, 32, 0.05, 1, 9
	var models []*nn.Model
	var accs []float64
	for _, dev := range []string{"cpu", "vulkan"} {
		m, err := nn.New(nn.TinyArch(), kernel.Portable{})
		if err != nil {
			t.Fatal(err)
		}
		m.Init(cfg.Seed)
		var last train.Progress
		job := train.Job{Model: m, Train: set, Config: cfg, Progress: func(p train.Progress) { last = p }}
		if dev == "cpu" {
			_, err = train.Run(context.Background(), job, nil)
		} else {
			_, err = Train(context.Background(), d, job, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
		accs = append(accs, last.Accuracy)
		t.Logf("%s: loss %.4f, training accuracy %.3f", dev, last.Loss, last.Accuracy)
	}
	if e := maxRelDiff(models[1].Params, models[0].Params); e > 1e-3 {
		t.Fatalf("weights after training differ by %g (relative)", e)
	}
	if math.Abs(accs[0]-accs[1]) > 0.02 {
		t.Fatalf("training accuracy CPU %.3f, device %.3f", accs[0], accs[1])
	}
}
