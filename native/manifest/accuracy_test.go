package manifest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
)

func randomSet(n, h, w, c int, seed uint64) *data.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &data.Set{H: h, W: w, C: c, Images: make([]float32, n*h*w*c), Labels: make([]uint8, n)}
	for i := range s.Images {
		s.Images[i] = rng.Float32()
	}
	for i := range s.Labels {
		s.Labels[i] = uint8(rng.IntN(10))
	}
	return s
}

func TestAccuracyAndSetAccuracy(t *testing.T) {
	for _, dtype := range []weights.DType{weights.F16, weights.F32} {
		t.Run(string(dtype), func(t *testing.T) {
			dir := t.TempDir()
			m, _ := nn.New(nn.TinyArch(), nil)
			m.Init(7)
			meta := weights.Metadata{Dataset: "mnist", Arch: "tiny", Temperature: 20, Role: "assistant", Step: 1,
				Parent: ModelName("mnist", 20, 0), Seed: 2, Epochs: 3, TestAccuracy: 0.5, Config: `{"Epochs":3}`}
			name := ModelName("mnist", 20, 1)
			if err := modelfile.Save(filepath.Join(dir, name), m, meta, dtype); err != nil {
				t.Fatal(err)
			}
			old := mustRead(t, filepath.Join(dir, name))
			man := &Manifest{}
			man.Put(EntryFor(name, meta, old))

			test := randomSet(300, 28, 28, 1, 3)
			stored, _, err := modelfile.Load(filepath.Join(dir, name), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := train.Accuracy(nn.NewPool(stored, 1), test)
			got, err := Accuracy(os.DirFS(dir), man.Models[0], test, 1)
			if err != nil || got != want {
				t.Fatalf("Accuracy = %v, %v; want %v", got, err, want)
			}
			if _, err := Accuracy(os.DirFS(dir), man.Models[0], randomSet(5, 32, 32, 3, 1), 1); err == nil || !strings.Contains(err.Error(), "values per image") {
				t.Errorf("CIFAR-shaped test set for an MNIST model: %v", err)
			}

			if err := man.SetAccuracy(dir, name, 0.25); err != nil {
				t.Fatal(err)
			}
			e, _ := man.Lookup(name)
			if e.TestAccuracy != 0.25 || len(man.Models) != 1 {
				t.Fatalf("entry after SetAccuracy: %+v", man.Models)
			}
			// The file and the new entry agree (size, SHA-256, metadata).
			if err := Verify(os.DirFS(dir), e); err != nil {
				t.Fatal(err)
			}
			b := mustRead(t, filepath.Join(dir, name))
			f, err := weights.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, tn := range f.Tensors {
				if tn.DType != dtype {
					t.Fatalf("rewritten as %s, was %s", tn.DType, dtype)
				}
			}
			m2, meta2, err := weights.Load(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			meta.TestAccuracy = 0.25
			if meta2 != meta || !slices.Equal(m2.Params, stored.Params) {
				t.Fatalf("metadata %+v (want %+v) or weights changed", meta2, meta)
			}
		})
	}
	// A missing or broken file is an error, not a panic.
	man := &Manifest{}
	if err := man.SetAccuracy(t.TempDir(), "missing.safetensors", 0.5); err == nil {
		t.Error("missing file accepted")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.safetensors"), []byte("not a model"), 0o644)
	if err := man.SetAccuracy(dir, "bad.safetensors", 0.5); err == nil {
		t.Error("broken file accepted")
	}
}
