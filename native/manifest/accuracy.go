package manifest

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/safefile"
)

// Accuracy loads the file of e from fsys and measures its test accuracy on
// test as the distill pipeline does (train.Accuracy, at T = 1, on the
// weights as stored), with workers goroutines (0 = all cores).
func Accuracy(fsys fs.FS, e Entry, test *data.Set, workers int) (float64, error) {
	b, err := fs.ReadFile(fsys, e.File)
	if err != nil {
		return 0, err
	}
	m, _, err := weights.Load(b, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.File, err)
	}
	if m.InputSize() != test.ImageSize() {
		return 0, fmt.Errorf("%s: model takes %d values per image, the %s test set has %d", e.File, m.InputSize(), e.Dataset, test.ImageSize())
	}
	return train.Accuracy(nn.NewPool(m, workers), test), nil
}

// SetAccuracy rewrites dir/file with acc as the test accuracy of its
// metadata, keeping its weights, dtype and other metadata, and puts the
// file's new entry (size, SHA-256) into man. The caller writes the
// manifest.
func (man *Manifest) SetAccuracy(dir, file string, acc float64) error {
	path := filepath.Join(dir, file)
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := weights.Decode(old)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var dtype weights.DType
	for _, t := range f.Tensors {
		if dtype != "" && t.DType != dtype {
			return fmt.Errorf("%s: tensors of dtypes %s and %s: cannot rewrite it in one", file, dtype, t.DType)
		}
		dtype = t.DType
	}
	m, meta, err := weights.Load(old, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	meta.TestAccuracy = acc
	var b bytes.Buffer
	if err := weights.Encode(&b, m, meta, dtype); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	// The new file must differ from the old only in test_accuracy.
	nf, err := weights.Decode(b.Bytes())
	if err != nil {
		return fmt.Errorf("%s: re-encoded file: %w", file, err)
	}
	for k, v := range f.Metadata {
		if k != "test_accuracy" && nf.Metadata[k] != v {
			return fmt.Errorf("%s: rewriting would change metadata %s from %q to %q", file, k, v, nf.Metadata[k])
		}
	}
	for name, t := range f.Tensors {
		if nt, ok := nf.Tensors[name]; !ok || !slices.Equal(nt.Data, t.Data) || !slices.Equal(nt.Shape, t.Shape) {
			return fmt.Errorf("%s: rewriting would change tensor %s", file, name)
		}
	}
	if len(nf.Tensors) != len(f.Tensors) {
		return fmt.Errorf("%s: rewriting would change the tensors %v", file, slices.Sorted(maps.Keys(nf.Tensors)))
	}
	if err := safefile.Write(path, b.Bytes()); err != nil {
		return err
	}
	man.Put(EntryFor(file, meta, b.Bytes()))
	return nil
}
