package pretrained

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/dataset"
)

// TestShippedModelsMatchManifest checks every shipped file's size, SHA-256
// and metadata against manifest.json, and that nothing is shipped unlisted.
func TestShippedModelsMatchManifest(t *testing.T) {
	man, err := catalog.Read(FS())
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if len(man.Models) == 0 {
		t.Fatal("the manifest lists no models")
	}
	listed := map[string]bool{}
	for _, e := range man.Models {
		listed[e.File] = true
		if err := weights.Verify(FS(), e); err != nil {
			t.Error(err)
		}
		if e.Dataset != "mnist" || e.Arch != "mnist" || e.Role != catalog.Role(e.Step) {
			t.Errorf("%s: %s/%s %s step %d", e.File, e.Dataset, e.Arch, e.Role, e.Step)
		}
		if e.Step == 0 && e.TestAccuracy < 0.992 {
			t.Errorf("%s: teacher accuracy %.4f below 99.2%%", e.File, e.TestAccuracy)
		}
	}
	// The format on disk is the catalog's: it writes the file back byte for byte.
	raw, err := fs.ReadFile(FS(), catalog.FileName)
	if err != nil {
		t.Fatal(err)
	}
	if written, err := man.Marshal(); err != nil || !bytes.Equal(written, raw) {
		t.Errorf("%s does not round-trip: %v\n%s", catalog.FileName, err, written)
	}
	files, _ := fs.Glob(FS(), "*.safetensors")
	for _, f := range files {
		if !listed[f] {
			t.Errorf("%s is shipped but not in the manifest", f)
		}
	}
}

// loadShipped reads and loads one shipped model, failing the test on error.
func loadShipped(t *testing.T, e catalog.Entry) *nn.Model {
	t.Helper()
	b, err := catalog.ReadFile(FS(), e)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := weights.Load(b, nil)
	if err != nil {
		t.Fatalf("%s: %v", e.File, err)
	}
	return m
}

// manifestAndTestSet reads the shipped manifest and the MNIST test set
// (offline: from the Go module cache).
func manifestAndTestSet(t *testing.T) (*catalog.Manifest, *data.Set) {
	t.Helper()
	man, err := catalog.Read(FS())
	if err != nil || len(man.Models) == 0 {
		t.Fatalf("manifest: %v", err)
	}
	_, test, err := dataset.Source{Offline: true}.MNIST(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return man, test
}

// TestShippedAccuracy re-measures, on the full MNIST test set, the test
// accuracy of the first and the last shipped model and of the T = 20
// assistant (once listed 0.01 % above what its F16 weights score): the
// manifest's figures are those of the weights as shipped, exactly.
// TestVerifyAllModels checks all of them.
func TestShippedAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("re-measures accuracy on 10,000 images")
	}
	man, test := manifestAndTestSet(t)
	check := []catalog.Entry{man.Models[0], man.Models[len(man.Models)-1]}
	if e, ok := man.Lookup("mnist-T20-step1-assistant.safetensors"); ok {
		check = append(check, e)
	}
	for _, e := range check {
		m := loadShipped(t, e)
		acc := train.Accuracy(nn.NewWorkers(m, 0), test)
		if acc != e.TestAccuracy {
			t.Errorf("%s: measured %.4f, manifest %.4f (./build.sh verify-models --fix rewrites it)", e.File, acc, e.TestAccuracy)
		}
		t.Logf("%s: %.2f%% (manifest %.2f%%)", e.File, 100*acc, 100*e.TestAccuracy)
	}
}

// TestVerifyAllModels runs ./build.sh verify-models, which re-measures
// every shipped model on the full test set, when TADD_VERIFY_ALL is set (a
// few seconds a model on an idle machine; too long for every test run).
func TestVerifyAllModels(t *testing.T) {
	if os.Getenv("TADD_VERIFY_ALL") == "" {
		t.Skip("set TADD_VERIFY_ALL=1 to re-measure every shipped model (./build.sh verify-models)")
	}
	cmd := exec.Command("bash", "build.sh", "verify-models", "--offline")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("./build.sh verify-models: %v\n%s", err, out)
	}
	man, err := catalog.Read(FS())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("all %d models score what the manifest says", len(man.Models)); !strings.Contains(string(out), want) {
		t.Fatalf("./build.sh verify-models did not say %q:\n%s", want, out)
	}
}

// TestResultsNotEmbedded checks that the shipped results (per-sample
// files of every model) stay out of the binary.
func TestResultsNotEmbedded(t *testing.T) {
	if _, err := fs.Stat(files, "results"); err == nil {
		t.Error("pretrained/results is embedded in the binary")
	}
	if _, err := fs.Stat(files, "manifest.json"); err != nil {
		t.Errorf("the manifest is not embedded: %v", err)
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
	man, err := catalog.Read(FS())
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	man.WriteTable(&want)
	if table != want.String() {
		t.Errorf("README.md's table of shipped models is out of date; put the output of ./bin/tadd models --table between its markers:\n%s\nit has:\n%s", want.String(), table)
	}
}

// TestStandardAttacksEnoughImages checks the standard preset's counts
// against the shipped models: an attack runs on the correctly classified
// images among the first AttackedSamples test images, and the issue asks
// for at least 200 attacked images per model with L2 and L∞ and 100 with
// L0, so every shipped model must classify that many of them correctly.
func TestStandardAttacksEnoughImages(t *testing.T) {
	man, test := manifestAndTestSet(t)
	want := map[string]int{"l2": 200, "linf": 200, "l0": 100}
	n := 0
	for a := range want {
		n = max(n, reproduce.AttackedSamples(reproduce.Standard, a))
	}
	first := test.Subset(n)
	for _, e := range man.Models {
		m := loadShipped(t, e)
		z := nn.NewWorkers(m, 0).Logits(first.Images, first.Len())
		k := m.Classes()
		for a, least := range want {
			correct := 0
			for i := range reproduce.AttackedSamples(reproduce.Standard, a) {
				if nn.Argmax(z[i*k:(i+1)*k]) == int(first.Labels[i]) {
					correct++
				}
			}
			if correct < least {
				t.Errorf("%s: the standard preset attacks %d images with %s, want at least %d", e.File, correct, a, least)
			}
		}
	}
}
