// Package bench holds the scripts that time TADD against PyTorch
// (torch_mnist.py, torch_one_epoch.py, attack.sh); these tests check that
// the scripts run and that attack.sh reads both sides' output.
package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// python is Debian's interpreter, for which python3-torch installs.
const python = "/usr/bin/python3"

// TestAttackRatios feeds attack.sh's ratio table saved outputs of both
// sides and checks the ratios it prints.
func TestAttackRatios(t *testing.T) {
	dir := t.TempDir()
	goOut := "BenchmarkAttackIteration/l2/batch1-2  100  4.9 GFLOP/s  8.000 ms/iter\n" +
		"BenchmarkAttackIteration/linf/batch128-2  3  11.8 GFLOP/s  400.0 ms/iter\n" +
		"BenchmarkAttackThroughput/linf-2  1  23040 image-iters/op  640 image-iters/s\n"
	torchOut := "attack l2 batch1: 24.000 ms/iter 42 image-iters/s\n" +
		"attack linf batch128: 1000.0 ms/iter 128 image-iters/s\n"
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(goOut), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "torch"), []byte(torchOut), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "attack.sh", "ratios", filepath.Join(dir, "torch"), filepath.Join(dir, "go")).CombinedOutput()
	if err != nil {
		t.Fatalf("attack.sh ratios: %v\n%s", err, out)
	}
	for _, want := range []string{
		`l2/batch1\s+8.000\s+4.9\s+24.000\s+3.00×`,
		`linf/batch128\s+400.0\s+11.8\s+1000.0\s+2.50×`,
		`linf\s+640 it/s\s+128 it/s\s+5.00×`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("no line matching %q in\n%s", want, out)
		}
	}
}

// TestTorchAttackIterations runs the PyTorch side of attack.sh for one
// iteration per measurement and checks that it times every attack at every
// batch size. It needs python3-torch: skipped without it, failed in CI.
func TestTorchAttackIterations(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI lacks python3-torch (.ci/run installs it): %v: %s", err, out)
		}
		t.Skipf("python3-torch not installed (apt-get install python3-torch): %v", err)
	}
	cmd := exec.Command(python, "torch_mnist.py", "1", "attack", "0")
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("torch_mnist.py: %v\n%s", err, out)
	}
	line := regexp.MustCompile(`^attack (l2|l0|linf) batch(1|16|64|128): [0-9.]+ ms/iter [0-9]+ image-iters/s$`)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		seen[m[1]+"/"+m[2]] = true
	}
	if len(seen) != 12 {
		t.Fatalf("%d of 12 attack/batch pairs timed: %v", len(seen), seen)
	}
}
