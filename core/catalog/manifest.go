package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
)

// FileName is the manifest's name inside a model folder.
const FileName = "manifest.json"

// maxManifest bounds manifest.json (49 entries take 20 KB).
const maxManifest = 16 << 20

// MaxModelFile bounds a model file that ReadFile reads.
const MaxModelFile = 1 << 30

// Manifest is the content of manifest.json: its entries, kept in the order
// of CompareEntries.
type Manifest struct {
	Models []Entry `json:"models"`
}

// Read parses the manifest of fsys (a folder, an embedded file system, or
// files fetched over HTTP). A folder without one gives an error that
// wraps fs.ErrNotExist.
func Read(fsys fs.FS) (*Manifest, error) {
	b, err := readSized(fsys, FileName, -1)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses the bytes of a manifest.json and checks its file names
// (each a plain name, listed once).
func Parse(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	seen := map[string]bool{}
	for i, e := range m.Models {
		if err := CheckFileName(e.File); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", FileName, i, err)
		}
		if seen[e.File] {
			return nil, fmt.Errorf("%s: entry %d: %s is listed twice", FileName, i, e.File)
		}
		seen[e.File] = true
	}
	m.sort()
	return &m, nil
}

func (m *Manifest) sort() { slices.SortStableFunc(m.Models, CompareEntries) }

// Marshal returns the bytes of manifest.json: indented JSON, one field a
// line, ending in a newline.
func (m *Manifest) Marshal() ([]byte, error) {
	m.sort()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	return append(b, '\n'), nil
}

// Write saves the manifest with write, which is given FileName and the
// bytes (natively an atomic file write into the model folder).
func (m *Manifest) Write(write func(name string, b []byte) error) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	return write(FileName, b)
}

// Find returns the entry of a dataset, temperature and step.
func (m *Manifest) Find(dataset string, t float64, step int) (Entry, bool) {
	for _, e := range m.Models {
		if e.Dataset == dataset && math.Abs(e.Temperature-t) < 1e-9 && e.Step == step {
			return e, true
		}
	}
	return Entry{}, false
}

// Lookup returns the entry of a file name.
func (m *Manifest) Lookup(file string) (Entry, bool) {
	for _, e := range m.Models {
		if e.File == file {
			return e, true
		}
	}
	return Entry{}, false
}

// Put adds or replaces the entry for e.File.
func (m *Manifest) Put(e Entry) {
	if i := slices.IndexFunc(m.Models, func(o Entry) bool { return o.File == e.File }); i >= 0 {
		m.Models[i] = e
	} else {
		m.Models = append(m.Models, e)
	}
	m.sort()
}

// Dataset returns the entries of one dataset, in order.
func (m *Manifest) Dataset(name string) []Entry {
	var out []Entry
	for _, e := range m.Models {
		if e.Dataset == name {
			out = append(out, e)
		}
	}
	return out
}

// ReadFile reads the file of e from fsys and checks it against e: its
// size before reading it (so that a wrong or huge file, or something that
// is not a regular file, is refused without reading it), then its SHA-256.
func ReadFile(fsys fs.FS, e Entry) ([]byte, error) {
	b, err := readSized(fsys, e.File, e.Bytes)
	if err != nil {
		return nil, err
	}
	if err := e.CheckBytes(b); err != nil {
		return nil, err
	}
	return b, nil
}

// readSized reads the regular file name of fsys after checking its size
// against want (-1: the manifest, which may have any size up to
// maxManifest).
func readSized(fsys fs.FS, name string, want int64) ([]byte, error) {
	// Stat before Open: opening a FIFO would block.
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	limit := int64(maxManifest)
	if want >= 0 {
		if st.Size() != want {
			return nil, fmt.Errorf("%s: %d bytes, the manifest says %d (corrupt or replaced file)", name, st.Size(), want)
		}
		limit = min(want, MaxModelFile)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes is more than the %d it may have", name, st.Size(), limit)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) != st.Size() {
		return nil, fmt.Errorf("%s changed while being read", name)
	}
	return b, nil
}
