package modelfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

func TestManifestAndSetAccuracy(t *testing.T) {
	for _, dtype := range []weights.DType{weights.F16, weights.F32} {
		t.Run(string(dtype), func(t *testing.T) {
			dir := t.TempDir()
			m, _ := nn.New(nn.TinyArch(), nil)
			m.Init(7)
			meta := weights.Metadata{Identity: catalog.Identity{Dataset: "mnist", Arch: "tiny", Temperature: 20, Role: "assistant", Step: 1,
				Parent: catalog.ModelName("mnist", 20, 0), Seed: 2, Epochs: 3, TestAccuracy: 0.5}, Config: `{"Epochs":3}`}
			name := catalog.ModelName("mnist", 20, 1)
			if err := Save(filepath.Join(dir, name), m, meta, dtype); err != nil {
				t.Fatal(err)
			}
			man, err := ReadManifest(dir)
			if err != nil || len(man.Models) != 0 {
				t.Fatalf("a folder without a manifest: %v, %v", man, err)
			}
			old, _ := os.ReadFile(filepath.Join(dir, name))
			man.Put(catalog.EntryFor(name, meta.Identity, old))
			if err := WriteManifest(dir, man); err != nil {
				t.Fatal(err)
			}
			if err := weights.Verify(os.DirFS(dir), man.Models[0]); err != nil {
				t.Fatal(err)
			}

			if err := SetAccuracy(dir, man, name, 0.25); err != nil {
				t.Fatal(err)
			}
			e, _ := man.Lookup(name)
			if e.TestAccuracy != 0.25 || len(man.Models) != 1 {
				t.Fatalf("entry after SetAccuracy: %+v", man.Models)
			}
			// The file and the new entry agree (size, SHA-256, metadata);
			// the manifest on disk does not yet.
			if err := weights.Verify(os.DirFS(dir), e); err != nil {
				t.Fatal(err)
			}
			ondisk, err := ReadManifest(dir)
			if err != nil || weights.Verify(os.DirFS(dir), ondisk.Models[0]) == nil {
				t.Fatalf("the old manifest agrees with the rewritten file (%v)", err)
			}
			b, _ := os.ReadFile(filepath.Join(dir, name))
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
			stored, _, _ := weights.Load(old, nil)
			meta.TestAccuracy = 0.25
			if meta2 != meta || !slices.Equal(m2.Params, stored.Params) {
				t.Fatalf("metadata %+v (want %+v) or weights changed", meta2, meta)
			}
		})
	}
	// A missing or broken file is an error, not a panic.
	man := &catalog.Manifest{}
	if err := SetAccuracy(t.TempDir(), man, "missing.safetensors", 0.5); err == nil {
		t.Error("missing file accepted")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.safetensors"), []byte("not a model"), 0o644)
	if err := SetAccuracy(dir, man, "bad.safetensors", 0.5); err == nil {
		t.Error("broken file accepted")
	}
	if len(man.Models) != 0 {
		t.Errorf("failed rewrites were listed: %+v", man.Models)
	}
}
