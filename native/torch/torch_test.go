package torch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/dataset"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/pretrained"
)

// python is Debian's interpreter, for which python3-torch installs.
const python = "/usr/bin/python3"

// relTol bounds, per image, the largest difference between PyTorch's and
// TADD's logits relative to the largest TADD logit.
const relTol = 1e-4

var torchAvailable = sync.OnceValue(func() error {
	if _, err := os.Stat(python); err != nil {
		return err
	}
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import torch: %v: %s", python, err, out)
	}
	return nil
})

// needTorch skips the test when python3-torch is missing, and fails it in CI.
func needTorch(t *testing.T) {
	t.Helper()
	if err := torchAvailable(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI lacks python3-torch (.ci/run installs it): %v", err)
		}
		t.Skipf("python3-torch not installed (apt-get install python3-torch): %v", err)
	}
}

// runPython runs python with args in dir, with torch on at most two quiet
// threads and tadd_torch.py on the module path, and returns its stdout.
func runPython(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+here, "PYTHONDONTWRITEBYTECODE=1", "OMP_WAIT_POLICY=PASSIVE", "OMP_NUM_THREADS=2", "TADD_TORCH_THREADS=2")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func writeFloats(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFloats(t *testing.T, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d floats", path, len(b), n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// torchLogits runs the bridge's logits command on models (paths) and n
// images x in TADD's NHWC layout and returns each model's logits.
func torchLogits(t *testing.T, models []string, x []float32, n, classes int) map[string][]float32 {
	t.Helper()
	dir := t.TempDir()
	images := filepath.Join(dir, "images.f32")
	writeFloats(t, images, x)
	args := append([]string{"tadd_torch.py", "logits", "--images", images, "--out-dir", dir}, models...)
	runPython(t, ".", nil, args...)
	out := map[string][]float32{}
	for _, m := range models {
		out[m] = readFloats(t, filepath.Join(dir, filepath.Base(m)+".logits"), n*classes)
	}
	return out
}

// maxRelDiff is the largest, over images, of max|got - want| / max|want|.
func maxRelDiff(got, want []float32, k int) float64 {
	worst := 0.0
	for i := 0; i < len(want); i += k {
		var diff, scale float64
		for j := i; j < i+k; j++ {
			diff = max(diff, math.Abs(float64(got[j]-want[j])))
			scale = max(scale, math.Abs(float64(want[j])))
		}
		worst = max(worst, diff/max(scale, 1e-6))
	}
	return worst
}

func correct(z []float32, labels []uint8, k int) int {
	c := 0
	for i, l := range labels {
		if nn.Argmax(z[i*k:(i+1)*k]) == int(l) {
			c++
		}
	}
	return c
}

func mnistTest(t *testing.T) *data.Set {
	t.Helper()
	_, test, err := dataset.Source{Offline: true}.MNIST(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return test
}

func loadShipped(t *testing.T, file string) *nn.Model {
	t.Helper()
	m, _, err := modelfile.Load(filepath.Join("..", "..", "pretrained", file), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func shippedModels(t *testing.T) []catalog.Entry {
	t.Helper()
	man, err := catalog.Read(pretrained.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Models) == 0 {
		t.Fatal("no shipped models")
	}
	return man.Models
}

// TestShippedModelsLogits loads every shipped model through the bridge and
// compares its logits on the first 100 MNIST test images with TADD's.
func TestShippedModelsLogits(t *testing.T) {
	needTorch(t)
	const n = 100
	test := mnistTest(t).Subset(n)
	entries := shippedModels(t)
	var paths []string
	for _, e := range entries {
		paths = append(paths, filepath.Join("..", "..", "pretrained", e.File))
	}
	got := torchLogits(t, paths, test.Images, n, 10)
	worst := 0.0
	for i, e := range entries {
		m := loadShipped(t, e.File)
		want := nn.NewWorkers(m, 0).Logits(test.Images, n)
		d := maxRelDiff(got[paths[i]], want, 10)
		if d > relTol {
			t.Errorf("%s: PyTorch's logits differ from TADD's by %.2g relative (tolerance %g)", e.File, d, relTol)
		}
		if gc, wc := correct(got[paths[i]], test.Labels, 10), correct(want, test.Labels, 10); gc != wc {
			t.Errorf("%s: PyTorch gets %d of %d right, TADD %d", e.File, gc, n, wc)
		}
		worst = max(worst, d)
	}
	t.Logf("%d models, largest relative logit difference %.2g", len(entries), worst)
}

// TestShippedAccuracyIdentical checks, for a few shipped models, that
// PyTorch and TADD classify all 10,000 MNIST test images the same way.
func TestShippedAccuracyIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 3 models on 10,000 images in PyTorch")
	}
	needTorch(t)
	test := mnistTest(t)
	files := []string{"mnist-T1-step0-teacher.safetensors", "mnist-T20-step1-assistant.safetensors", "mnist-T40-step6-step6.safetensors"}
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join("..", "..", "pretrained", f))
	}
	n := test.Len()
	got := torchLogits(t, paths, test.Images, n, 10)
	for i, f := range files {
		want := nn.NewWorkers(loadShipped(t, f), 0).Logits(test.Images, n)
		z := got[paths[i]]
		gc, wc := correct(z, test.Labels, 10), correct(want, test.Labels, 10)
		differ := 0
		for j := range n {
			if nn.Argmax(z[j*10:(j+1)*10]) != nn.Argmax(want[j*10:(j+1)*10]) {
				differ++
			}
		}
		if gc != wc || differ != 0 {
			t.Errorf("%s: PyTorch %d/%d correct, TADD %d/%d; %d predictions differ", f, gc, n, wc, n, differ)
		}
		t.Logf("%s: %.2f%% in both", f, 100*float64(wc)/float64(n))
	}
}

// TestCIFARArch checks the CIFAR network (3 channels, 5×5×128 features
// before dense1) on a random model saved in F16.
func TestCIFARArch(t *testing.T) {
	needTorch(t)
	m, err := nn.New(nn.CIFARArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(3)
	rng := rand.New(rand.NewPCG(4, 5))
	for i := range m.Params {
		m.Params[i] += 0.01 * float32(rng.NormFloat64())
	}
	path := filepath.Join(t.TempDir(), "cifar.safetensors")
	meta := weights.Metadata{Identity: catalog.Identity{Dataset: "cifar10", Arch: "cifar", Temperature: 20, Role: "teacher", TestAccuracy: -1}}
	if err := modelfile.Save(path, m, meta, weights.F16); err != nil {
		t.Fatal(err)
	}
	m, _, err = modelfile.Load(path, nil) // the F16 values, as the bridge sees them
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	x := make([]float32, n*m.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	want := m.Forward(x, n, false)
	got := torchLogits(t, []string{path}, x, n, 10)[path]
	if d := maxRelDiff(got, want, 10); d > relTol {
		t.Errorf("CIFAR: PyTorch's logits differ from TADD's by %.2g relative (tolerance %g)\nPyTorch %v\nTADD    %v", d, relTol, got[:10], want[:10])
	}
}

// readmeExample returns the Python example of README.md's "Weight files"
// section.
func readmeExample(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- torch-example -->\n```python\n", "```\n<!-- end torch-example -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	code, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md lacks the PyTorch example between %q and %q", begin, end)
	}
	if lines := strings.Count(code, "\n"); lines != 5 {
		t.Errorf("the README's PyTorch example has %d lines, want 5", lines)
	}
	return code
}

// TestReadmeExample runs the README's PyTorch example in a folder holding
// pretrained/ and the MNIST test files, and checks the logits it computes
// and what it prints against TADD.
func TestReadmeExample(t *testing.T) {
	code := readmeExample(t)
	needTorch(t)
	dir := t.TempDir()
	shipped, err := filepath.Abs("../../pretrained")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shipped, filepath.Join(dir, "pretrained")); err != nil {
		t.Fatal(err)
	}
	paths, err := dataset.Source{Offline: true}.MNISTPaths(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths[2:] { // the test images and labels, gzipped as the example names them
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if !strings.HasSuffix(name, ".gz") {
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(b)
			w.Close()
			b, name = z.Bytes(), name+".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "logits.f32")
	script := code + "import os, struct\nopen(os.environ['TADD_LOGITS_OUT'], 'wb').write(struct.pack('<%df' % logits.numel(), *logits.flatten().tolist()))\n"
	stdout := runPython(t, dir, []string{"TADD_LOGITS_OUT=" + out}, "-c", script)

	const file, n = "mnist-T1-step0-teacher.safetensors", 1000
	test := mnistTest(t).Subset(n)
	want := nn.NewWorkers(loadShipped(t, file), 0).Logits(test.Images, n)
	got := readFloats(t, out, n*10)
	if d := maxRelDiff(got, want, 10); d > relTol {
		t.Errorf("the README example's logits differ from TADD's by %.2g relative", d)
	}
	e, ok := manifestEntry(t, file)
	if !ok {
		t.Fatalf("%s not in the manifest", file)
	}
	fields := strings.Fields(stdout)
	if len(fields) != 2 {
		t.Fatalf("the README example printed %q, want two numbers", stdout)
	}
	if a, err := strconv.ParseFloat(fields[0], 64); err != nil || a != e.TestAccuracy {
		t.Errorf("the example printed test_accuracy %q, the manifest has %v", fields[0], e.TestAccuracy)
	}
	acc := float64(correct(want, test.Labels, 10)) / n
	if a, err := strconv.ParseFloat(fields[1], 64); err != nil || math.Abs(a-acc) > 1e-6 {
		t.Errorf("the example printed accuracy %q on %d images, TADD gets %v", fields[1], n, acc)
	}
}

func manifestEntry(t *testing.T, file string) (catalog.Entry, bool) {
	for _, e := range shippedModels(t) {
		if e.File == file {
			return e, true
		}
	}
	return catalog.Entry{}, false
}

// editHeader rewrites a safetensors file's JSON header with edit.
func editHeader(t *testing.T, b []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	return append(append(out, hj...), b[8+n:]...)
}

// TestBridgeRejectsBadFiles checks that the bridge refuses files that are
// not TADD MNIST or CIFAR models, or whose tensors do not fit, with a
// message that says why.
func TestBridgeRejectsBadFiles(t *testing.T) {
	needTorch(t)
	good, err := os.ReadFile("../../pretrained/mnist-T1-step0-teacher.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	meta := func(key, value string) func(map[string]any) {
		return func(h map[string]any) { h["__metadata__"].(map[string]any)[key] = value }
	}
	tiny, err := nn.New(nn.TinyArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var tinyFile bytes.Buffer
	if err := weights.Encode(&tinyFile, tiny, weights.Metadata{Identity: catalog.Identity{Dataset: "mnist", Arch: "tiny", Temperature: 1}}, weights.F16); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, want string // want: part of the error ("" when only the reader's failure is expected)
		file       []byte
	}{
		{"good", "ok", good},
		{"format version", "format_version '2'", editHeader(t, good, meta("format_version", "2"))},
		{"not tadd", "not a TADD model", editHeader(t, good, meta("format", "other"))},
		{"dataset", "does not fit architecture 'mnist'", editHeader(t, good, meta("dataset", "cifar10"))},
		{"arch", "architecture 'tiny' is not one of", tinyFile.Bytes()},
		{"renamed tensor", "architecture 'mnist' has", editHeader(t, good, func(h map[string]any) {
			h["dense3.b"] = h["dense3.bias"]
			delete(h, "dense3.bias")
		})},
		{"transposed shape", "tensor 'dense1.weight' has shape (200, 1024)", editHeader(t, good, func(h map[string]any) {
			h["dense1.weight"].(map[string]any)["shape"] = []int{200, 1024}
		})},
		{"truncated", "", good[:len(good)-10]},
		{"not safetensors", "", []byte("hello, world")},
	}
	dir := t.TempDir()
	var files []string
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("%d.safetensors", i))
		if err := os.WriteFile(p, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	// One interpreter for all cases: each line is "ok" or the error.
	script := `import sys, tadd_torch
for p in sys.argv[1:]:
    try:
        tadd_torch.load(p)
        print("ok")
    except Exception as e:
        print("error:", type(e).__name__, str(e).replace("\n", " "))
`
	lines := strings.Split(strings.TrimSpace(runPython(t, ".", nil, append([]string{"-c", script}, files...)...)), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d results for %d files:\n%s", len(lines), len(cases), strings.Join(lines, "\n"))
	}
	for i, c := range cases {
		got := lines[i]
		switch {
		case c.want == "ok" && got != "ok":
			t.Errorf("%s: %s", c.name, got)
		case c.want != "ok" && !strings.HasPrefix(got, "error:"):
			t.Errorf("%s: accepted", c.name)
		case c.want != "ok" && !strings.Contains(got, c.want):
			t.Errorf("%s: %s, want an error containing %q", c.name, got, c.want)
		}
	}
}
