package attack

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tadd-project/tadd/core/weights"
)

// TestFullAttackWallTime is a measurement, not a check: with
// TADD_BENCH_FULL=l2 (or l0, linf) it runs that attack with the paper's
// full budget on test digit 0 (a 7 → 3) against the shipped T=1 teacher
// and logs the wall time. Under GOOS=js GOARCH=wasm (Node) it measures the
// WebAssembly build.
func TestFullAttackWallTime(t *testing.T) {
	name := os.Getenv("TADD_BENCH_FULL")
	if name == "" {
		t.Skip("set TADD_BENCH_FULL=l2|l0|linf to measure")
	}
	b, err := os.ReadFile("../../pretrained/mnist-T1-step0-teacher.safetensors")
	if err != nil {
		t.Skip("no shipped T=1 teacher")
	}
	m, _, err := weights.Load(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	atk, err := Defaults().Attack(name)
	if err != nil {
		t.Fatal(err)
	}
	f := load(t)
	clf := NewClassifier(m, 1)
	start := time.Now()
	r, err := RunOne(context.Background(), atk, clf, f.digits.Image(0), Goal{Label: 7, Target: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%s full budget on %s: success %v, L0 %d, L2 %.3f, L∞ %.3f, %d iterations in %.1fs (%.2f ms/iteration)",
		name, m.Kernels().Name(), r.Success, r.L0, r.L2, r.LInf, r.Iterations, el.Seconds(), el.Seconds()*1000/float64(r.Iterations))
}
