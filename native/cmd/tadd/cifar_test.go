package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/native/modelfile"
)

// writeCIFAR writes the six CIFAR-10 binary batch files of a small,
// learnable dataset into dir: class c is a picture whose colour channels
// depend on c, plus noise.
func writeCIFAR(t *testing.T, dir string, perBatch int) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	for _, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		var b []byte
		for range perBatch {
			c := r.IntN(10)
			rec := make([]byte, 3073)
			rec[0] = byte(c)
			for ch := range 3 {
				base := (c*25 + ch*80) % 200
				for p := range 1024 {
					v := base + r.IntN(40)
					if (p/32 < 16) == (c%2 == 0) && ch == c%3 {
						v += 50
					}
					rec[1+ch*1024+p] = byte(min(v, 255))
				}
			}
			b = append(b, rec...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCIFARPipeline runs the CIFAR-10 path end to end on generated data in
// the CIFAR binary format: a distillation chain, evaluation and an attack.
func TestCIFARPipeline(t *testing.T) {
	data := t.TempDir()
	writeCIFAR(t, data, 200)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, context.Background(), "distill", "--dataset", "cifar10", "--arch", "tiny-cifar", "--data", data, "--offline",
		"--temperature", "10", "--steps", "2", "--epochs", "3", "--lr", "0.05", "--quiet", "--out", out)
	if code != 0 || !strings.Contains(stdout, "chain T=10 (cifar10)") || !strings.Contains(stdout, "student") {
		t.Fatalf("distill: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "models", "--verify", out)
	if code != 0 || strings.Count(stdout, "  ok") != 3 || !strings.Contains(stdout, "cifar10") {
		t.Fatalf("models: exit %d, %q %q", code, stdout, stderr)
	}
	model := filepath.Join(out, "cifar10-T10-step0-teacher.safetensors")
	code, stdout, stderr = runCLI(t, context.Background(), "evaluate", "--data", data, "--offline", "--quiet", "--attacks", "l2", "--attack-samples", "2", "--max-iterations", "300", model)
	if code != 0 || !strings.Contains(stdout, "cifar10 teacher T=10, 200 test images") || !strings.Contains(stdout, "robustness") {
		t.Fatalf("evaluate: exit %d, %q %q", code, stdout, stderr)
	}
	png := filepath.Join(out, "adv.png")
	code, stdout, stderr = runCLI(t, context.Background(), "attack", "--model", model, "--data", data, "--offline", "--attack", "linf", "--index", "1",
		"--target", "untargeted", "--max-iterations", "300", "--png", png)
	if code != 0 {
		t.Fatalf("attack: exit %d, %q %q", code, stdout, stderr)
	}
	if _, err := os.Stat(png); err != nil {
		t.Fatal(err)
	}
	// The README's CIFAR reproduction: the chain's own folder as --models.
	rep := filepath.Join(out, "report")
	code, stdout, stderr = runCLI(t, context.Background(), "reproduce", "--dataset", "cifar10", "--models", out, "--temperatures", "10", "--steps", "2",
		"--quick", "--samples", "10", "--attack-samples", "2", "--attacks", "l2", "--max-iterations", "100", "--data", data, "--offline", "--quiet", "--out", rep)
	if code != 0 {
		t.Fatalf("reproduce: exit %d, %q %q", code, stdout, stderr)
	}
	csv, err := os.ReadFile(filepath.Join(rep, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(csv), "\ncifar10,"); rows != 3 {
		t.Errorf("results.csv has %d cifar10 rows, want 3 (teacher, assistant, student):\n%s", rows, csv)
	}
	if _, err := os.Stat(filepath.Join(rep, "models")); err == nil {
		t.Error("reproduce trained models although the chain was given")
	}
	if _, err := os.Stat(filepath.Join(rep, "report.html")); err != nil {
		t.Error(err)
	}
	// A longer chain than the one given: only step 3 is trained, distilled
	// from the given student, in the chain's (tiny) architecture.
	rep3 := filepath.Join(out, "report3")
	code, stdout, stderr = runCLI(t, context.Background(), "reproduce", "--dataset", "cifar10", "--models", out, "--temperatures", "10", "--steps", "3", "--train-missing", "--epochs", "1",
		"--quick", "--samples", "10", "--attack-samples", "1", "--attacks", "l2", "--max-iterations", "50", "--data", data, "--offline", "--quiet", "--out", rep3)
	if code != 0 || strings.Count(stderr, "already trained") != 3 {
		t.Fatalf("reproduce --steps 3: exit %d, %q %q", code, stdout, stderr)
	}
	_, meta, err := modelfile.Load(filepath.Join(rep3, "models", "cifar10-T10-step3-step3.safetensors"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Parent != "cifar10-T10-step2-student.safetensors" || meta.Arch != "tiny-cifar" || meta.Epochs != 1 {
		t.Errorf("step 3: %+v, want the tiny student's child after 1 epoch", meta)
	}
	csv, err = os.ReadFile(filepath.Join(rep3, "results.csv"))
	if err != nil || strings.Count(string(csv), "\ncifar10,") != 4 {
		t.Errorf("results.csv of the 4-model chain: %v\n%s", err, csv)
	}
}
