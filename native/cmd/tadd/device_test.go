package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/native/vulkan"
)

var accuracyRE = regexp.MustCompile(`test accuracy ([0-9.]+)%`)

// TestTrainOnVulkan trains the tiny net on real MNIST on the CPU and on a
// Vulkan device (lavapipe here) and checks both reach the same accuracy.
func TestTrainOnVulkan(t *testing.T) {
	d, err := vulkan.Open(false)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Vulkan device in CI (.ci/run installs mesa-vulkan-drivers): %v", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	d.Close()
	dir := t.TempDir()
	acc := map[string]float64{}
	for _, dev := range []string{"cpu", "vulkan"} {
		out := filepath.Join(dir, dev+".safetensors")
		code, stdout, stderr := runCLI(t, context.Background(), "train", "--arch", "tiny", "--epochs", "2", "--train-samples", "1000", "--test-samples", "1000",
			"--lr", "0.3", "--workers", "1", "--quiet", "--offline", "--device", dev, "--out", out)
		if code != 0 {
			t.Fatalf("--device %s: exit %d: %s", dev, code, stderr)
		}
		if want := map[string]string{"cpu": "device: CPU", "vulkan": "device: Vulkan"}[dev]; !strings.Contains(stderr, want) {
			t.Fatalf("--device %s does not say %q: %s", dev, want, stderr)
		}
		m := accuracyRE.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no accuracy in %q", stdout)
		}
		acc[dev], _ = strconv.ParseFloat(m[1], 64)
		t.Logf("--device %s: %s", dev, strings.TrimSpace(stdout))
	}
	// Same seed, same data: the two differ only by float rounding.
	if d := acc["cpu"] - acc["vulkan"]; d > 1 || d < -1 || acc["vulkan"] < 50 {
		t.Fatalf("accuracy on the CPU %.2f%%, on Vulkan %.2f%%", acc["cpu"], acc["vulkan"])
	}
}

func TestDeviceSelection(t *testing.T) {
	// auto on a machine without a GPU (lavapipe is not one) picks the CPU
	// and says so; a GPU, where there is one, is taken.
	_, _, stderr := runCLI(t, context.Background(), "evaluate", "--device", "auto", "--samples", "10", "--offline", "../../../core/attack/testdata/tiny-mnist.safetensors")
	if d, err := vulkan.Open(true); err == nil {
		d.Close()
		if !strings.Contains(stderr, "device: Vulkan") {
			t.Fatalf("auto with a GPU: %q", stderr)
		}
	} else if !strings.Contains(stderr, "device: CPU") {
		t.Fatalf("auto without a GPU: %q", stderr)
	}
	// vulkan without a loader: one clear line, exit 1.
	t.Setenv("TADD_VULKAN_LOADER", filepath.Join(t.TempDir(), "libvulkan.so.1"))
	code, _, stderr := runCLI(t, context.Background(), "evaluate", "--device", "vulkan", "--offline", "../../../core/attack/testdata/tiny-mnist.safetensors")
	if code != 1 || !strings.Contains(stderr, "no Vulkan loader") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("vulkan without a loader: exit %d, %q", code, stderr)
	}
	// auto without a loader falls back to the CPU.
	code, _, stderr = runCLI(t, context.Background(), "evaluate", "--device", "auto", "--samples", "10", "--offline", "../../../core/attack/testdata/tiny-mnist.safetensors")
	if code != 0 || !strings.Contains(stderr, "device: CPU") {
		t.Fatalf("auto without a loader: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, context.Background(), "train", "--device", "gpu", "--out", "x"); code != 2 || !strings.Contains(stderr, "want auto, cpu or vulkan") {
		t.Fatalf("--device gpu: exit %d, %q", code, stderr)
	}
}

// TestEvaluateOnVulkan measures the tiny net on both devices: accuracy,
// confidence and sensitivity agree, and an L2 attack finds the same
// distances.
func TestEvaluateOnVulkan(t *testing.T) {
	if d, err := vulkan.Open(false); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Vulkan device in CI: %v", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	} else {
		d.Close()
	}
	var evs []evaluation
	for _, dev := range []string{"cpu", "vulkan"} {
		code, stdout, stderr := runCLI(t, context.Background(), "evaluate", "--device", dev, "--samples", "200", "--attacks", "l2",
			"--attack-samples", "3", "--max-iterations", "30", "--json", "--quiet", "--offline", "../../../core/attack/testdata/tiny-mnist.safetensors")
		if code != 0 {
			t.Fatalf("--device %s: exit %d: %s", dev, code, stderr)
		}
		var ev evaluation
		if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
			t.Fatalf("--device %s: %v in %q", dev, err, stdout)
		}
		evs = append(evs, ev)
	}
	cpu, vk := evs[0], evs[1]
	if cpu.Accuracy != vk.Accuracy || math.Abs(cpu.Confidence-vk.Confidence) > 1e-4 ||
		math.Abs(cpu.Sensitivity.MeanAmplitude-vk.Sensitivity.MeanAmplitude) > 1e-4*cpu.Sensitivity.MeanAmplitude {
		t.Fatalf("CPU %+v\nVulkan %+v", cpu, vk)
	}
	if c, v := cpu.Robustness["l2"].MeanDistance, vk.Robustness["l2"].MeanDistance; math.Abs(c-v) > 0.02*c {
		t.Fatalf("L2 mean distance: CPU %v, Vulkan %v", c, v)
	}
}
