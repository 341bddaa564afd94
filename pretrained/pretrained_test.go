package pretrained

import (
	"bytes"
	"context"
	"io/fs"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/dataset"
	"github.com/tadd-project/tadd/native/manifest"
)

// TestShippedModelsMatchManifest checks every shipped file's size, SHA-256
// and metadata against manifest.json, and that nothing is shipped unlisted.
func TestShippedModelsMatchManifest(t *testing.T) {
	man, err := manifest.Read(FS())
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if len(man.Models) == 0 {
		t.Fatal("the manifest lists no models")
	}
	listed := map[string]bool{}
	for _, e := range man.Models {
		listed[e.File] = true
		if err := manifest.Verify(FS(), e); err != nil {
			t.Error(err)
		}
		if e.Dataset != "mnist" || e.Arch != "mnist" || e.Role != weights.RoleForStep(e.Step) {
			t.Errorf("%s: %s/%s %s step %d", e.File, e.Dataset, e.Arch, e.Role, e.Step)
		}
		if e.Step == 0 && e.TestAccuracy < 0.992 {
			t.Errorf("%s: teacher accuracy %.4f below 99.2%%", e.File, e.TestAccuracy)
		}
	}
	files, _ := fs.Glob(FS(), "*.safetensors")
	for _, f := range files {
		if !listed[f] {
			t.Errorf("%s is shipped but not in the manifest", f)
		}
	}
}

// TestShippedAccuracy re-measures the test accuracy of the first and the
// last shipped model on the full MNIST test set.
func TestShippedAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("re-measures accuracy on 10,000 images")
	}
	man, err := manifest.Read(FS())
	if err != nil || len(man.Models) == 0 {
		t.Fatalf("manifest: %v", err)
	}
	_, test, err := dataset.Source{Offline: true}.MNIST(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check := []manifest.Entry{man.Models[0]}
	if len(man.Models) > 1 {
		check = append(check, man.Models[len(man.Models)-1])
	}
	for _, e := range check {
		b, err := fs.ReadFile(FS(), e.File)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := weights.Load(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		acc := train.Accuracy(nn.NewPool(m, 0), test)
		// The manifest's figure was measured in float32 before the F16
		// rounding of the weights: a few predictions may differ.
		if math.Abs(acc-e.TestAccuracy) > 0.002 {
			t.Errorf("%s: measured %.4f, manifest %.4f", e.File, acc, e.TestAccuracy)
		}
		t.Logf("%s: %.2f%% (manifest %.2f%%)", e.File, 100*acc, 100*e.TestAccuracy)
	}
}

// TestReadmeTable keeps the README's table of shipped models true.
func TestReadmeTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- models-table: ./bin/tadd models --table -->\n", "<!-- end models-table -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	table, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md lacks the markers %q and %q around the models table", begin, end)
	}
	man, err := manifest.Read(FS())
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	man.WriteTable(&want)
	if table != want.String() {
		t.Errorf("README.md's table of shipped models is out of date; put the output of ./bin/tadd models --table between its markers:\n%s\nit has:\n%s", want.String(), table)
	}
}
