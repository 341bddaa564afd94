package vulkan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/pretrained"
)

// openAny opens any Vulkan device, lavapipe included; without one the test
// skips locally and fails in CI (.ci/run installs lavapipe).
func openAny(t testing.TB) *Device {
	t.Helper()
	d, err := Open(false)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Vulkan device in CI (.ci/run installs mesa-vulkan-drivers): %v", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	return d
}

func TestGemmMatchesCPU(t *testing.T) {
	d := openAny(t)
	defer d.Close()
	t.Logf("device: %s", d.Info)
	k, err := NewKernels(d)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {16, 16, 16}, {64, 576, 64}, {100, 288, 64}, {128, 1024, 200}, {9, 5, 1}, {0, 3, 3}, {3, 0, 3}}
	for _, s := range shapes {
		m, kk, n := s[0], s[1], s[2]
		for _, layout := range []string{"NN", "TN"} {
			ars, acs := kk, 1
			if layout == "TN" {
				ars, acs = 1, m
			}
			for _, acc := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/%s/acc=%v", m, kk, n, layout, acc)
				a, b := rnd(m*kk), rnd(kk*n)
				c0 := rnd(m*n + 4)
				want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
				kernel.Portable{}.Gemm(want, a, b, m, kk, n, ars, acs, acc)
				k.Gemm(got, a, b, m, kk, n, ars, acs, acc)
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > 1e-4*float64(kk+1) {
						t.Fatalf("%s: C[%d] = %v, CPU %v", name, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestSelection(t *testing.T) {
	d := openAny(t)
	info := d.Info
	d.Close()
	// GPU-only selection refuses a software device with a clear error.
	g, err := Open(true)
	switch {
	case info.IsGPU():
		if err != nil {
			t.Fatalf("a GPU is present (%s) but Open(true) failed: %v", info, err)
		}
		g.Close()
	case err == nil:
		g.Close()
		t.Fatalf("Open(true) opened %s, not a GPU", g.Info)
	case !errors.Is(err, ErrNoDevice):
		t.Fatalf("Open(true) without a GPU: %v, want ErrNoDevice", err)
	}
}

func TestMissingLoaderAndDriver(t *testing.T) {
	t.Setenv("TADD_VULKAN_LOADER", t.TempDir()+"/libvulkan.so.1")
	if _, err := Open(false); !errors.Is(err, ErrNoLoader) {
		t.Fatalf("without a loader: %v, want ErrNoLoader", err)
	}
	t.Setenv("TADD_VULKAN_LOADER", "")
	d := openAny(t) // the real loader is there
	d.Close()
	t.Setenv("VK_ICD_FILENAMES", t.TempDir()+"/none.json")
	t.Setenv("VK_DRIVER_FILES", t.TempDir()+"/none.json")
	d, err := Open(false)
	if err == nil {
		d.Close()
		t.Fatal("opened a device with no driver")
	}
	t.Logf("without a driver: %v", err)
}

// TestL2AttackMatchesCPU runs the same C&W L2 attack (short budget) on one
// gallery digit with the tiny MNIST net on the CPU and on the device.
func TestL2AttackMatchesCPU(t *testing.T) {
	d := openAny(t)
	defer d.Close()
	k, err := NewKernels(d)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	b, err := os.ReadFile("../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	imgs, _ := fs.ReadFile(pretrained.FS(), "gallery-images.idx")
	labels, _ := fs.ReadFile(pretrained.FS(), "gallery-labels.idx")
	set, err := data.ReadMNIST("gallery", bytes.NewReader(imgs), bytes.NewReader(labels))
	if err != nil {
		t.Fatal(err)
	}
	cfg := attack.QuickConfigs().L2
	cfg.BinarySearchSteps, cfg.MaxIterations = 3, 60
	var results []attack.Result
	for _, how := range []string{"cpu", "gemm on the device", "net on the device"} {
		kern := kernel.Kernels(kernel.Default())
		if how == "gemm on the device" {
			kern = k
		}
		m, _, err := weights.Load(b, kern)
		if err != nil {
			t.Fatal(err)
		}
		var clf attack.Classifier = attack.NewClassifier(m, 1)
		if how == "net on the device" {
			dc := NewClassifier(d, m)
			defer dc.Close()
			clf = dc
		}
		rs, err := attack.L2(context.Background(), clf, cfg, set.Image(0), []attack.Goal{{Label: int(set.Labels[0]), Target: 3}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, rs[0])
		t.Logf("%s: success %v, L2 %.4f, %d iterations", how, rs[0].Success, rs[0].L2, rs[0].Iterations)
	}
	cpu := results[0]
	for _, r := range results[1:] {
		if !cpu.Success || !r.Success || r.Predicted != 3 {
			t.Fatalf("CPU success %v, device success %v (predicted %d)", cpu.Success, r.Success, r.Predicted)
		}
		if math.Abs(cpu.L2-r.L2) > 0.02*cpu.L2 {
			t.Fatalf("L2 distance: CPU %.4f, device %.4f", cpu.L2, r.L2)
		}
	}
}

// TestShadersUpToDate recompiles every GLSL source and compares it with the
// committed SPIR-V (go generate ./native/vulkan rebuilds them).
func TestShadersUpToDate(t *testing.T) {
	if _, err := exec.LookPath("glslangValidator"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("glslangValidator missing in CI (.ci/run installs glslang-tools)")
		}
		t.Skip("glslangValidator not installed")
	}
	srcs, _ := filepath.Glob("shaders/*.comp")
	if len(srcs) < 10 {
		t.Fatalf("%d shader sources", len(srcs))
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".comp")
		out := filepath.Join(t.TempDir(), name+".spv")
		if b, err := exec.Command("glslangValidator", "-V", "--target-env", "vulkan1.1", "-o", out, src).CombinedOutput(); err != nil {
			t.Fatalf("glslangValidator %s: %v\n%s", src, err, b)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, spirv(name)) {
			t.Errorf("shaders/%s.spv is stale: run go generate ./native/vulkan", name)
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	d := openAny(b)
	defer d.Close()
	k, err := NewKernels(d)
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	for _, s := range [][3]int{{576, 288, 32}, {100, 288, 64}, {64, 576, 64}, {900, 576, 64}, {128, 1024, 200}} {
		m, kk, n := s[0], s[1], s[2]
		a, bb, c := make([]float32, m*kk), make([]float32, kk*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, kk, n), func(b *testing.B) {
			for b.Loop() {
				k.Gemm(c, a, bb, m, kk, n, kk, 1, false)
			}
			b.ReportMetric(float64(2*m*kk*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
