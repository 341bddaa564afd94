package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// machine describes where the backend computes, in words, as the samples
// files record it: "2 × AMD EPYC 7B13 cores, simd-avx512 kernels", or the
// Vulkan device.
func (b *backend) machine(workers int) string {
	if b.vk != nil {
		return "Vulkan " + b.vk.Info.String()
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return fmt.Sprintf("%d × %s cores, %s kernels", workers, cpuModel(), b.kern.Name())
}

// cpuModel names the CPU: its model name on Linux, else the architecture.
func cpuModel() string {
	fh, err := os.Open("/proc/cpuinfo")
	if err == nil {
		defer fh.Close()
		if name := cpuInfoModel(bufio.NewScanner(fh)); name != "" {
			return name
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// cpuInfoModel is the first "model name" of /proc/cpuinfo's lines (""
// when there is none), its spacing tidied.
func cpuInfoModel(sc *bufio.Scanner) string {
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.Join(strings.Fields(value), " ")
		}
	}
	return ""
}
