package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
)

func TestWriteReadVerify(t *testing.T) {
	dir := t.TempDir()
	m, _ := nn.New(nn.TinyArch(), nil)
	m.Init(1)
	meta := weights.Metadata{Dataset: "mnist", Arch: "tiny", Temperature: 20, Role: "assistant", Step: 1, Parent: ModelName("mnist", 20, 0), Seed: 2, Epochs: 3, TestAccuracy: 0.9}
	name := ModelName("mnist", 20, 1)
	if name != "mnist-T20-step1-assistant.safetensors" {
		t.Fatalf("name %q", name)
	}
	if err := modelfile.Save(filepath.Join(dir, name), m, meta, weights.F16); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, name))
	man, err := ReadDir(dir)
	if err != nil || len(man.Models) != 0 {
		t.Fatalf("empty dir: %v %v", man, err)
	}
	man.Put(EntryFor(name, meta, b))
	man.Put(EntryFor(name, meta, b)) // replaces, does not duplicate
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Read(os.DirFS(dir))
	if err != nil || len(got.Models) != 1 {
		t.Fatalf("read back %v, %v", got, err)
	}
	e, ok := got.Find("mnist", 20, 1)
	if !ok || e.Parent != "mnist-T20-step0-teacher.safetensors" || e.Bytes != int64(len(b)) {
		t.Fatalf("entry %+v", e)
	}
	if err := Verify(os.DirFS(dir), e); err != nil {
		t.Fatal(err)
	}
	// A flipped byte in the file is caught.
	b[len(b)-3] ^= 0xff
	os.WriteFile(filepath.Join(dir, name), b, 0o644)
	if err := Verify(os.DirFS(dir), e); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("corrupt file: %v", err)
	}
	// A manifest naming a path outside its folder is rejected.
	os.WriteFile(filepath.Join(dir, FileName), bytes.ReplaceAll(mustRead(t, filepath.Join(dir, FileName)), []byte(`"file": "`), []byte(`"file": "../`)), 0o644)
	if _, err := Read(os.DirFS(dir)); err == nil {
		t.Fatal("path outside the folder accepted")
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
