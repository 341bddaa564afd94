package weights

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"slices"

	"github.com/tadd-project/tadd/core/catalog"
)

// Verify checks that the file of e in fsys has the recorded size and
// SHA-256 (catalog.ReadFile), and that its metadata agrees with the entry.
func Verify(fsys fs.FS, e catalog.Entry) error {
	b, err := catalog.ReadFile(fsys, e)
	if err != nil {
		return err
	}
	_, meta, err := Load(b, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", e.File, err)
	}
	if meta.Identity != e.Identity {
		return fmt.Errorf("%s: metadata %+v disagrees with the manifest's %+v", e.File, meta.Identity, e.Identity)
	}
	return nil
}

// WithTestAccuracy returns the model file b with acc as the test accuracy
// of its metadata, keeping its weights, dtype and other metadata, and the
// new metadata. It checks that the new file differs from b in nothing
// else.
func WithTestAccuracy(b []byte, acc float64) ([]byte, Metadata, error) {
	f, err := Decode(b)
	if err != nil {
		return nil, Metadata{}, err
	}
	var dtype DType
	for _, t := range f.Tensors {
		if dtype != "" && t.DType != dtype {
			return nil, Metadata{}, fmt.Errorf("tensors of dtypes %s and %s: cannot rewrite it in one", dtype, t.DType)
		}
		dtype = t.DType
	}
	m, meta, err := Load(b, nil)
	if err != nil {
		return nil, meta, err
	}
	meta.TestAccuracy = acc
	var out bytes.Buffer
	if err := Encode(&out, m, meta, dtype); err != nil {
		return nil, meta, err
	}
	nf, err := Decode(out.Bytes())
	if err != nil {
		return nil, meta, fmt.Errorf("re-encoded file: %w", err)
	}
	for k, v := range f.Metadata {
		if k != "test_accuracy" && nf.Metadata[k] != v {
			return nil, meta, fmt.Errorf("rewriting would change metadata %s from %q to %q", k, v, nf.Metadata[k])
		}
	}
	for name, t := range f.Tensors {
		if nt, ok := nf.Tensors[name]; !ok || !slices.Equal(nt.Data, t.Data) || !slices.Equal(nt.Shape, t.Shape) {
			return nil, meta, fmt.Errorf("rewriting would change tensor %s", name)
		}
	}
	if len(nf.Tensors) != len(f.Tensors) {
		return nil, meta, fmt.Errorf("rewriting would change the tensors %v", slices.Sorted(maps.Keys(nf.Tensors)))
	}
	return out.Bytes(), meta, nil
}
