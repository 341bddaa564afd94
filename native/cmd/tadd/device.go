package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/native/vulkan"
)

// deviceFlag adds --device to a command.
func deviceFlag(fs *flag.FlagSet) *string {
	return fs.String("device", "auto", "where the arithmetic runs: auto (a Vulkan GPU if present, else the CPU), cpu, or vulkan")
}

// deviceKernels returns the kernels of --device and says on stderr which
// it uses: cpu is the build's CPU kernels; vulkan any Vulkan device,
// software ones (lavapipe) included, or an error; auto a Vulkan GPU when
// one is present, else the CPU. release frees the device.
func deviceKernels(name string, stderr io.Writer) (kern kernel.Kernels, release func(), err error) {
	cpu := kernel.Default()
	switch name {
	case "cpu":
		fmt.Fprintf(stderr, "device: CPU (%s kernels)\n", cpu.Name())
		return cpu, func() {}, nil
	case "auto", "vulkan":
	default:
		return nil, nil, usageError{fmt.Sprintf("--device %q: want auto, cpu or vulkan", name)}
	}
	d, err := vulkan.Open(name == "auto")
	if err != nil {
		if name == "vulkan" {
			return nil, nil, fmt.Errorf("--device vulkan: %w", err)
		}
		fmt.Fprintf(stderr, "device: CPU (%s kernels); no Vulkan GPU: %v\n", cpu.Name(), err)
		return cpu, func() {}, nil
	}
	k, err := vulkan.NewKernels(d)
	if err != nil {
		d.Close()
		if name == "vulkan" {
			return nil, nil, fmt.Errorf("--device vulkan: %w", err)
		}
		fmt.Fprintf(stderr, "device: CPU (%s kernels); Vulkan GPU %s unusable: %v\n", cpu.Name(), d.Info, err)
		return cpu, func() {}, nil
	}
	fmt.Fprintf(stderr, "device: Vulkan, %s (matrix products on the device, the rest on the CPU)\n", d.Info)
	return k, func() { k.Close(); d.Close() }, nil
}
