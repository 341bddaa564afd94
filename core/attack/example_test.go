package attack_test

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/weights"
)

// ExampleL2 turns an MNIST 7 into a 3 for a small trained network, with a
// reduced budget.
func ExampleL2() {
	b, _ := os.ReadFile("testdata/tiny-mnist.safetensors")
	model, _, err := weights.Load(b, nil)
	if err != nil {
		panic(err)
	}
	images, _ := os.ReadFile("../../pretrained/gallery-images.idx")
	labels, _ := os.ReadFile("../../pretrained/gallery-labels.idx")
	digits, err := data.ReadMNIST("gallery", bytes.NewReader(images), bytes.NewReader(labels))
	if err != nil {
		panic(err)
	}
	x := digits.Image(0) // a 7

	clf := attack.NewClassifier(model, 1)
	cfg := attack.DefaultL2()
	cfg.BinarySearchSteps, cfg.MaxIterations = 5, 1000
	results, err := attack.L2(context.Background(), clf, cfg, x, []attack.Goal{{Label: 7, Target: 3}}, nil)
	if err != nil {
		panic(err)
	}
	r := results[0]
	fmt.Println("success:", r.Success, "classified as:", r.Predicted, "L2 below 3:", r.L2 < 3)
	// Output: success: true classified as: 3 L2 below 3: true
}
