//go:build js && wasm

package kernels

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/demo"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// BenchmarkAttackJob is one attack of the page, as its Web Worker runs it
// (demo.RunJob with the browser budgets, a progress report every 50 ms):
// L2, L0 and L∞ on the shipped T=1 teacher, the gallery's first 7 against
// its class + 3, with the kernels this instance has. In Node with the SIMD
// kernels attached it measures the worker's side of an in-page attack
// without the page's rendering, and far less noisily than a browser:
//
//	./build.sh site
//	GOOS=js GOARCH=wasm go test -exec "node $PWD/wasm/kernels/exec_node.js" \
//	  -run X -bench AttackJob -benchtime 3x -benchmem ./wasm/kernels
//
// It reports the attack's iterations beside the time; allocations are
// load-independent.
func BenchmarkAttackJob(b *testing.B) {
	m, x, g := shippedSeven(b)
	for _, name := range []string{"l2", "l0", "linf"} {
		b.Run(name, func(b *testing.B) {
			iters := 0
			for b.Loop() {
				rs, err := demo.RunJob(context.Background(), m, demo.Job{Model: catalog.Entry{File: "teacher.safetensors"}, Attack: name, Input: x, Goals: []attack.Goal{g}},
					demo.Budgets(), func(demo.Live) {}, nil)
				if err != nil {
					b.Fatal(err)
				}
				iters = rs[0].Iterations
			}
			b.ReportMetric(float64(iters), "iterations")
		})
	}
}

// shippedSeven loads the shipped T=1 teacher with this instance's kernels
// and the gallery's first 7, and the goal: its predicted class + 3.
func shippedSeven(b *testing.B) (*nn.Model, []float32, attack.Goal) {
	b.Helper()
	raw, err := os.ReadFile("../../pretrained/" + catalog.ModelName("mnist", 1, 0))
	if err != nil {
		b.Skipf("shipped teacher: %v", err)
	}
	m, _, err := weights.Load(raw, Load())
	if err != nil {
		b.Fatal(err)
	}
	imgs, err := os.ReadFile("../../pretrained/gallery-images.idx")
	if err != nil {
		b.Skipf("gallery: %v", err)
	}
	lbls, err := os.ReadFile("../../pretrained/gallery-labels.idx")
	if err != nil {
		b.Skipf("gallery: %v", err)
	}
	pixels, count, rows, cols, err := data.ReadIDXImages(bytes.NewReader(imgs))
	if err != nil {
		b.Fatal(err)
	}
	labels, err := data.ReadIDXLabels(bytes.NewReader(lbls), 10)
	if err != nil {
		b.Fatal(err)
	}
	size := rows * cols
	for i := range min(count, len(labels)) {
		if labels[i] == 7 {
			x := pixels[i*size : (i+1)*size]
			label := nn.Argmax(m.Forward(x, 1, false))
			return m, x, attack.Goal{Label: label, Target: (label + 3) % 10}
		}
	}
	b.Skip("no 7 in the gallery")
	return nil, nil, attack.Goal{}
}
