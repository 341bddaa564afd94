package torch

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/onnx"
)

var onnxAvailable = sync.OnceValue(func() error {
	if out, err := exec.Command(python, "-c", "import onnx, onnx.checker").CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import onnx: %v: %s", python, err, out)
	}
	return nil
})

// needONNX skips the test when python3-onnx is missing, and fails it in CI.
func needONNX(t *testing.T) {
	t.Helper()
	needTorch(t)
	if err := onnxAvailable(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI lacks python3-onnx (.ci/run installs it): %v", err)
		}
		t.Skipf("python3-onnx not installed (apt-get install python3-onnx): %v", err)
	}
}

// TestONNXExport exports shipped MNIST models and a random CIFAR model to
// ONNX, checks each file with onnx.checker (full check, shape inference)
// and evaluates its graph's operators (onnx_eval.py, with torch) against
// TADD's forward pass.
func TestONNXExport(t *testing.T) {
	needONNX(t)
	dir := t.TempDir()
	type model struct {
		name string
		m    *nn.Model
	}
	var models []model
	for _, f := range []string{"mnist-T1-step0-teacher.safetensors", "mnist-T40-step6-step6.safetensors"} {
		models = append(models, model{f, loadShipped(t, f)})
	}
	cifar, err := nn.New(nn.CIFARArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cifar.Init(11)
	for i := range cifar.Params {
		cifar.Params[i] *= 1.5 // larger logits than Glorot's
	}
	models = append(models, model{"cifar (random)", cifar})
	test := mnistTest(t).Subset(20)
	for i, c := range models {
		var b bytes.Buffer
		if err := onnx.Export(&b, c.m, "test", map[string]string{"source": c.name}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("%d.onnx", i))
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		x, n := test.Images, test.Len()
		if c.m.Arch.Name == "cifar" {
			n = 4
			x = make([]float32, n*c.m.InputSize())
			for j := range x {
				x[j] = float32(j%97) / 96
			}
		}
		images := filepath.Join(dir, fmt.Sprintf("%d.f32", i))
		writeFloats(t, images, x)
		out := filepath.Join(dir, fmt.Sprintf("%d.logits", i))
		runPython(t, ".", nil, "onnx_eval.py", file, images, out)
		got := readFloats(t, out, n*c.m.Classes())
		want := c.m.Forward(x, n, false)
		if d := maxRelDiff(got, want, c.m.Classes()); d > relTol {
			t.Errorf("%s: the ONNX graph's logits differ from TADD's by %.2g relative (tolerance %g)", c.name, d, relTol)
		} else {
			t.Logf("%s: %d bytes of ONNX, logits within %.2g relative on %d images", c.name, b.Len(), d, n)
		}
	}
}
