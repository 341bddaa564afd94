package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
)

func runCLI(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, []byte{1, 2, 3}, 0o644)
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, append([]byte{16, 0, 0, 0, 0, 0, 0, 0}, []byte("{not json}      ")...), 0o644)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{}, 2, "usage"},
		{[]string{"fly"}, 2, `unknown command "fly"`},
		{[]string{"train"}, 2, "--out is required"},
		{[]string{"train", "--epochs", "x", "--out", "a"}, 2, "invalid value"},
		{[]string{"train", "--out", "a", "--temperature", "0"}, 2, "temperature"},
		{[]string{"train", "--out", "a", "--arch", "resnet"}, 2, "unknown architecture"},
		{[]string{"train", "--out", "a", "--dataset", "imagenet"}, 2, "unknown dataset"},
		{[]string{"evaluate"}, 2, "exactly one model file"},
		{[]string{"evaluate", filepath.Join(dir, "missing.safetensors")}, 1, "no such file"},
		{[]string{"evaluate", trunc}, 1, "too short"},
		{[]string{"evaluate", garbage}, 1, "not a JSON"},
		{[]string{"evaluate", "--attacks", "l3", trunc}, 2, "unknown attack"},
		{[]string{"attack"}, 2, "--model is required"},
		{[]string{"attack", "--model", trunc, "--attack", "fgsm"}, 2, "unknown attack"},
		{[]string{"attack", "--model", trunc}, 1, "too short"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, context.Background(), c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("tadd %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

// TestTrainResumeEvaluateAttack runs the CLI end to end on real MNIST with
// the tiny net: an interrupted training run resumes from its checkpoint,
// then the model is evaluated (JSON) and attacked (PNG).
func TestTrainResumeEvaluateAttack(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny.safetensors")
	args := []string{"train", "--arch", "tiny", "--epochs", "2", "--train-samples", "3000", "--lr", "0.05", "--quiet", "--offline", "--out", model}

	// Interrupt: cancel as soon as the first epoch's checkpoint exists.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := os.Stat(model + ".ckpt"); err == nil {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			default:
			}
		}
	}()
	code, _, stderr := runCLI(t, ctx, args...)
	<-done
	if code == 0 {
		t.Skip("training finished before the interrupt landed")
	}
	if code != 130 || !strings.Contains(stderr, "resume") {
		t.Fatalf("interrupted run: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runCLI(t, context.Background(), args...)
	if code != 0 || !strings.Contains(stderr, "resuming") || !strings.Contains(stdout, "2 epochs") {
		t.Fatalf("resumed run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(model + ".ckpt"); !os.IsNotExist(err) {
		t.Fatalf("checkpoint left behind: %v", err)
	}

	// 1,000 iterations: in tanh space a pixel at exactly 0 or 1 needs
	// hundreds of Adam steps before it can move at all.
	code, stdout, stderr = runCLI(t, context.Background(), "evaluate", "--samples", "300", "--attacks", "l2,linf", "--attack-samples", "2",
		"--max-iterations", "1000", "--json", "--quiet", "--offline", model)
	if code != 0 {
		t.Fatalf("evaluate: exit %d, %s", code, stderr)
	}
	var ev evaluation
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("evaluate --json: %v in %q", err, stdout)
	}
	if ev.Samples != 300 || ev.Accuracy < 0.8 || ev.Confidence <= 0 || ev.Robustness["l2"].SuccessRate != 1 || ev.Robustness["linf"].MeanDistance <= 0 {
		t.Fatalf("evaluation %+v", ev)
	}

	png := filepath.Join(dir, "adv.png")
	code, stdout, stderr = runCLI(t, context.Background(), "attack", "--model", model, "--attack", "l0", "--index", "3", "--target", "untargeted",
		"--max-iterations", "200", "--png", png, "--offline")
	if code != 0 || !strings.Contains(stdout, "success") {
		t.Fatalf("attack: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("attack PNG: %v", err)
	}
	code, _, stderr = runCLI(t, context.Background(), "attack", "--model", model, "--index", "10000", "--offline")
	if code != 2 || !strings.Contains(stderr, "outside the test set") {
		t.Fatalf("bad index: exit %d, %q", code, stderr)
	}
}

func TestDistillChainAndModels(t *testing.T) {
	dir := t.TempDir()
	args := []string{"distill", "--arch", "tiny", "--temperature", "1,5", "--steps", "2", "--epochs", "1", "--train-samples", "2000", "--lr", "0.05", "--quiet", "--offline", "--out", dir}
	code, stdout, stderr := runCLI(t, context.Background(), args...)
	if code != 0 || !strings.Contains(stdout, "chain T=5") || !strings.Contains(stdout, "student") {
		t.Fatalf("distill: exit %d, %q, %q", code, stdout, stderr)
	}
	// Rerunning trains nothing.
	code, _, stderr = runCLI(t, context.Background(), args...)
	if code != 0 || strings.Count(stderr, "already trained") != 6 {
		t.Fatalf("rerun: exit %d, %q", code, stderr)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "models", "--verify", dir)
	if code != 0 || strings.Count(stdout, "  ok") != 6 || !strings.Contains(stdout, "mnist-T5-step1-assistant.safetensors") {
		t.Fatalf("models: exit %d, %q, %q", code, stdout, stderr)
	}
	// The distill pipeline's accuracies are the stored files': --measure
	// agrees; a wrong figure is found, and --fix rewrites it.
	code, stdout, stderr = runCLI(t, context.Background(), "models", "--measure", "--offline", dir)
	if code != 0 || !strings.Contains(stdout, "all 6 models score what the manifest says") {
		t.Fatalf("models --measure: exit %d, %q, %q", code, stdout, stderr)
	}
	man, err := modelfile.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	wrong := catalog.ModelName("mnist", 5, 1)
	if err := modelfile.SetAccuracy(dir, man, wrong, 0.125); err != nil {
		t.Fatal(err)
	}
	if err := modelfile.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "models", "--measure", "--offline", dir)
	if code != 1 || !strings.Contains(stdout, "12.50%") || !strings.Contains(stderr, "1 of 6 models score other than the manifest says") || !strings.Contains(stderr, wrong) {
		t.Fatalf("models --measure with a wrong figure: exit %d, %q, %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "models", "--measure", "--fix", "--offline", dir)
	if code != 0 || !strings.Contains(stdout, "rewrote 1 of 6 models") {
		t.Fatalf("models --measure --fix: exit %d, %q, %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "models", "--measure", "--offline", dir)
	if code != 0 || !strings.Contains(stdout, "all 6 models") {
		t.Fatalf("models --measure after --fix: exit %d, %q, %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "models", "--verify", dir)
	if code != 0 || strings.Count(stdout, "  ok") != 6 {
		t.Fatalf("models --verify after --fix: exit %d, %q, %q", code, stdout, stderr)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"models", "--fix", dir}, "--fix goes with --measure"},
		{[]string{"models", "--measure", "--fix"}, "--fix goes with --measure and a FOLDER"},
		{[]string{"models", "--table", "--measure", dir}, "pick one"},
		{[]string{"distill", "--out", dir, "--steps", "7"}, "--steps 7"},
		{[]string{"distill", "--out", dir, "--temperature", "1,zero"}, "bad temperature"},
		{[]string{"distill"}, "--out is required"},
		{[]string{"models", filepath.Join(dir, "nothing")}, "no such file"},
	} {
		code, _, stderr := runCLI(t, context.Background(), c.args...)
		if code == 0 || !strings.Contains(stderr, c.msg) {
			t.Errorf("tadd %v: exit %d, %q", c.args, code, stderr)
		}
	}
}

func TestPlaygroundNeedsDisplayAndBinary(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	if code, _, stderr := runCLI(t, context.Background(), "playground"); code != 1 || !strings.Contains(stderr, "no display") {
		t.Fatalf("without a display: exit %d, %q", code, stderr)
	}
	t.Setenv("DISPLAY", ":99")
	t.Setenv("PATH", t.TempDir())
	bin, err := playgroundBinary()
	if err == nil {
		t.Skipf("a tadd-playground is installed beside the test binary: %s", bin)
	}
	if code, _, stderr := runCLI(t, context.Background(), "playground"); code != 1 || !strings.Contains(stderr, "./build.sh playground") {
		t.Fatalf("without the binary: exit %d, %q", code, stderr)
	}
}

func TestModelsTable(t *testing.T) {
	dir := t.TempDir()
	man := `{"models": [
	  {"file": "a.safetensors", "dataset": "mnist", "temperature": 20, "step": 0, "role": "teacher", "test_accuracy": 0.9929},
	  {"file": "b.safetensors", "dataset": "mnist", "temperature": 20, "step": 3, "role": "step3", "test_accuracy": 0.981},
	  {"file": "c.safetensors", "dataset": "mnist", "temperature": 2, "step": 1, "role": "assistant", "test_accuracy": 0.99},
	  {"file": "d.safetensors", "dataset": "cifar10", "temperature": 1, "step": 0, "role": "teacher", "test_accuracy": 0.79}]}`
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, context.Background(), "models", "--table", dir)
	want := `| cifar10: T | teacher |
|---:|---:|
| 1 | 79.00% |

| mnist: T | teacher | assistant | student | step3 |
|---:|---:|---:|---:|---:|
| 2 | — | 99.00% | — | — |
| 20 | 99.29% | — | — | 98.10% |
`
	if code != 0 || stdout != want {
		t.Fatalf("exit %d, stderr %q, table:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
}

func TestExportONNX(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "teacher.onnx")
	model := filepath.Join("..", "..", "..", "pretrained", "mnist-T1-step0-teacher.safetensors")
	code, stdout, stderr := runCLI(t, context.Background(), "export", "--onnx", out, model)
	if code != 0 || !strings.Contains(stdout, `input "input" float32 N×1×28×28`) {
		t.Fatalf("export: exit %d, %q, %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(b) < 1<<20 {
		t.Fatalf("exported %d bytes, %v", len(b), err)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"export", model}, 2, "--onnx is required"},
		{[]string{"export", "--onnx", out}, 2, "exactly one model file"},
		{[]string{"export", "--onnx", out, filepath.Join(dir, "missing.safetensors")}, 1, "no such file"},
	} {
		code, _, stderr := runCLI(t, context.Background(), c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("tadd %v: exit %d, %q; want exit %d mentioning %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

// TestModelsMeasureFixThenFailure: when a later model cannot be measured,
// the files --fix already rewrote still get their manifest entries.
func TestModelsMeasureFixThenFailure(t *testing.T) {
	dir := t.TempDir()
	man := &catalog.Manifest{}
	for step := range 2 {
		m, err := nn.New(nn.TinyArch(), nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Init(uint64(step))
		meta := weights.Metadata{Identity: catalog.Identity{Dataset: "mnist", Arch: "tiny", Temperature: 1, Role: catalog.Role(step), Step: step, TestAccuracy: 0.5}}
		name := catalog.ModelName("mnist", 1, step)
		if err := modelfile.Save(filepath.Join(dir, name), m, meta, weights.F16); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		man.Put(catalog.EntryFor(name, meta.Identity, b))
	}
	if err := modelfile.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	broken := catalog.ModelName("mnist", 1, 1)
	if err := os.WriteFile(filepath.Join(dir, broken), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, context.Background(), "models", "--measure", "--fix", "--offline", dir)
	if code != 1 || !strings.Contains(stdout, "fixed") || !strings.Contains(stderr, broken) {
		t.Fatalf("exit %d, %q, %q", code, stdout, stderr)
	}
	got, err := modelfile.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := got.Lookup(catalog.ModelName("mnist", 1, 0))
	if err := weights.Verify(os.DirFS(dir), e); err != nil || e.TestAccuracy == 0.5 {
		t.Fatalf("the fixed model's entry: %+v, %v", e, err)
	}
}
