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

// TestAdamStep checks the Adam shader (the attacks' optimizer) against the
// update computed in float64 on the host, over three steps.
func TestAdamStep(t *testing.T) {
	d := openAny(t)
	defer d.Close()
	const n = 1000
	p, err := d.NewPipeline(spirv("adam"), 4, 7*4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rec, err := d.NewRecorder(4)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	bufs := make([]*Buffer, 4) // w, m, v, g
	for i := range bufs {
		if bufs[i], err = d.NewBuffer(n); err != nil {
			t.Fatal(err)
		}
		defer bufs[i].Free()
	}
	r := rand.New(rand.NewPCG(5, 6))
	w, m, v := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range w {
		w[i] = r.NormFloat64()
		bufs[0].Floats()[i] = float32(w[i])
	}
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	for step := 1; step <= 3; step++ {
		for i := range n {
			g := float32(r.NormFloat64())
			bufs[3].Floats()[i] = g
			m[i] = b1*m[i] + (1-b1)*float64(g)
			v[i] = b2*v[i] + (1-b2)*float64(g)*float64(g)
			c1, c2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
			w[i] -= lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + eps)
		}
		c1, c2 := float32(1-math.Pow(b1, float64(step))), float32(1-math.Pow(b2, float64(step)))
		if err := rec.Begin(); err != nil {
			t.Fatal(err)
		}
		if err := rec.Dispatch(p, bufs, []uint32{n, f32(lr), f32(b1), f32(b2), f32(eps), f32(c1), f32(c2)}, groups1D(n)); err != nil {
			rec.Abort()
			t.Fatal(err)
		}
		if err := rec.Submit(); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if got := float64(bufs[0].Floats()[i]); math.Abs(got-w[i]) > 1e-5 {
				t.Fatalf("step %d: w[%d] = %v, want %v", step, i, got, w[i])
			}
		}
	}
}

// BenchmarkAttackIteration is one attack iteration (forward pass, then the
// input gradient) of the MNIST net at batch 1 on the device-resident net.
func BenchmarkAttackIteration(b *testing.B) {
	d := openAny(b)
	defer d.Close()
	m, _ := nn.New(nn.MNISTArch(), kernel.Portable{})
	m.Init(1)
	c := NewClassifier(d, m)
	defer c.Close()
	x := randInputs(rand.New(rand.NewPCG(1, 1)), 784)
	g, z := make([]float32, 784), make([]float32, 10)
	for b.Loop() {
		c.Gradient(g, z, x, 1, func(_ int, _, w []float32) { w[3], w[7] = 1, -1 })
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/iter")
}

// BenchmarkTrainStep is one SGD step of the MNIST net at batch 128.
func BenchmarkTrainStep(b *testing.B) {
	d := openAny(b)
	defer d.Close()
	m, _ := nn.New(nn.MNISTArch(), kernel.Portable{})
	m.Init(1)
	const bs = 128
	net, err := NewNet(d, m, bs)
	if err != nil {
		b.Fatal(err)
	}
	defer net.Close()
	r := rand.New(rand.NewPCG(1, 1))
	x := randInputs(r, bs*784)
	y := make([]float32, bs*10)
	for i := range bs {
		y[i*10+i%10] = 1
	}
	masks := DropoutMasks(m, 1, 1, bs)
	for b.Loop() {
		if _, _, err := net.TrainStep(x, y, masks, bs, Step{Temperature: 1, LearningRate: 0.01, Momentum: 0.9, Nesterov: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "samples/s")
}
