package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/native/vulkan"
)

// deviceFlag adds --device to a command.
func deviceFlag(fs *flag.FlagSet) *string {
	return fs.String("device", "auto", "where the arithmetic runs: auto (a Vulkan GPU if present, else the CPU), cpu, or vulkan")
}

// backend is what --device chose.
type backend struct {
	// kern runs the models the CPU side holds: the CPU kernels, or with
	// Vulkan the GEMMs on the device.
	kern    kernel.Kernels
	vk      *vulkan.Device // nil on the CPU
	release func()
}

// openDevice opens --device and says on stderr which it uses: cpu is the
// build's CPU kernels; vulkan any Vulkan device, software ones (lavapipe)
// included, or an error; auto a Vulkan GPU when one is present, else the
// CPU.
func openDevice(name string, stderr io.Writer) (*backend, error) {
	cpu := &backend{kern: kernel.Default(), release: func() {}}
	switch name {
	case "cpu":
		fmt.Fprintf(stderr, "device: CPU (%s kernels)\n", cpu.kern.Name())
		return cpu, nil
	case "auto", "vulkan":
	default:
		return nil, usageError{fmt.Sprintf("--device %q: want auto, cpu or vulkan", name)}
	}
	d, err := vulkan.Open(name == "auto")
	if err == nil {
		var k *vulkan.Kernels
		if k, err = vulkan.NewKernels(d); err == nil {
			fmt.Fprintf(stderr, "device: Vulkan, %s\n", d.Info)
			return &backend{kern: k, vk: d, release: func() { k.Close(); d.Close() }}, nil
		}
		d.Close()
	}
	if name == "vulkan" {
		return nil, fmt.Errorf("--device vulkan: %w", err)
	}
	fmt.Fprintf(stderr, "device: CPU (%s kernels); no Vulkan GPU: %v\n", cpu.kern.Name(), err)
	return cpu, nil
}

// modelKernels are the kernels of models that are trained: on Vulkan the
// training steps run device-resident (train), so the CPU-side model (soft
// labels, accuracy) keeps the CPU kernels.
func (b *backend) modelKernels() kernel.Kernels {
	if b.vk != nil {
		return kernel.Default()
	}
	return b.kern
}

// train runs a training job: train.Run on the CPU, vulkan.Train (each step
// one submission, the network resident on the device) on Vulkan.
func (b *backend) train(ctx context.Context, job train.Job, state *train.State) (*train.State, error) {
	if b.vk != nil {
		return vulkan.Train(ctx, b.vk, job, state)
	}
	return train.Run(ctx, job, state)
}

// classifier is m for measurements and attacks, on workers goroutines on
// the CPU, resident on the device with Vulkan (which serialises the work).
func (b *backend) classifier(m *nn.Model, workers int) (attack.Classifier, func()) {
	if b.vk != nil {
		c := vulkan.NewClassifier(b.vk, m)
		return c, c.Close
	}
	return attack.NewClassifier(m, workers), func() {}
}
