package manifest

import (
	"bytes"
	"io/fs"
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

func TestCheckFileName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"mnist-T20-step1-assistant.safetensors", true},
		{"a.safetensors", true},
		{"", false},
		{".safetensors", false},
		{".hidden.safetensors", false},
		{"../x.safetensors", false},
		{"../../../x", false},
		{"dir/x.safetensors", false},
		{`dir\x.safetensors`, false},
		{"/etc/x.safetensors", false},
		{"x.json", false},
		{"x\x00.safetensors", false},
		{"x\n.safetensors", false},
		{"\xff.safetensors", false},
		{strings.Repeat("a", 300) + ".safetensors", false},
	} {
		if err := CheckFileName(c.name); (err == nil) != c.ok {
			t.Errorf("CheckFileName(%q) = %v", c.name, err)
		}
	}
}

// countingFS records how many bytes are read from its files.
type countingFS struct {
	fs.FS
	read *int64
}

type countingFile struct {
	fs.File
	read *int64
}

func (c countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	return countingFile{f, c.read}, err
}

func (c countingFile) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	*c.read += int64(n)
	return n, err
}

// TestVerifyChecksTheSizeFirst: a file of another size than the manifest's
// (here a sparse 1 GiB one) is rejected without reading it, and so is
// something that is not a regular file.
func TestVerifyChecksTheSizeFirst(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.safetensors")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Mkdir(filepath.Join(dir, "folder.safetensors"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e    Entry
		want string
	}{
		{Entry{File: "big.safetensors", Bytes: 28000}, "1073741824 bytes"},
		{Entry{File: "folder.safetensors", Bytes: 28000}, "not a regular file"},
	} {
		var read int64
		err := Verify(countingFS{os.DirFS(dir), &read}, c.e)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.e.File, err, c.want)
		}
		if read > 0 {
			t.Errorf("%s: %d bytes read before the size was compared", c.e.File, read)
		}
	}
}
