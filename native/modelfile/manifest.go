package modelfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/safefile"
)

// ReadManifest reads the manifest of the folder dir, or returns an empty
// one if it has none.
func ReadManifest(dir string) (*catalog.Manifest, error) {
	m, err := catalog.Read(os.DirFS(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return &catalog.Manifest{}, nil
	}
	return m, err
}

// WriteManifest saves man into the folder dir atomically.
func WriteManifest(dir string, man *catalog.Manifest) error {
	return man.Write(func(name string, b []byte) error { return safefile.Write(filepath.Join(dir, name), b) })
}

// SetAccuracy rewrites dir/file with acc as the test accuracy of its
// metadata (weights.WithTestAccuracy: nothing else changes) and puts the
// file's new entry (size, SHA-256) into man. The caller writes the
// manifest.
func SetAccuracy(dir string, man *catalog.Manifest, file string, acc float64) error {
	path := filepath.Join(dir, file)
	old, err := read(path)
	if err != nil {
		return err
	}
	b, meta, err := weights.WithTestAccuracy(old, acc)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := safefile.Write(path, b); err != nil {
		return err
	}
	man.Put(catalog.EntryFor(file, meta.Identity, b))
	return nil
}
