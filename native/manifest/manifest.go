// Package manifest describes a folder of model files: manifest.json lists
// each file with its dataset, architecture, temperature, chain step, parent,
// test accuracy, seed, epochs, size and SHA-256, so that a set of models can
// be listed, verified and served without opening every file.
package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/safefile"
)

// FileName is the manifest's name inside a model folder.
const FileName = "manifest.json"

// Entry describes one model file.
type Entry struct {
	File         string  `json:"file"`
	Dataset      string  `json:"dataset"`
	Arch         string  `json:"arch"`
	Temperature  float64 `json:"temperature"`
	Step         int     `json:"step"`
	Role         string  `json:"role"`
	Parent       string  `json:"parent,omitempty"`
	TestAccuracy float64 `json:"test_accuracy"`
	Seed         uint64  `json:"seed"`
	Epochs       int     `json:"epochs"`
	Bytes        int64   `json:"bytes"`
	SHA256       string  `json:"sha256"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Models []Entry `json:"models"`
}

// ModelName is the file name of a chain's model:
// DATASET-T{T}-step{K}-{role}.safetensors.
func ModelName(dataset string, t float64, step int) string {
	return fmt.Sprintf("%s-T%s-step%d-%s.safetensors", dataset, strconv.FormatFloat(t, 'g', -1, 64), step, weights.RoleForStep(step))
}

// maxFileName bounds a model file's name (file systems allow 255 bytes).
const maxFileName = 200

// CheckFileName reports a model file name that may not be used as a path
// inside a model folder: it must be a plain name (no folder, not hidden,
// no control characters) ending in .safetensors. Every name read from a
// file (a manifest, a samples file) is checked before it is joined to a
// folder.
func CheckFileName(name string) error {
	bad := name == "" || len(name) > maxFileName || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".safetensors") ||
		strings.ContainsAny(name, `/\`) || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl)
	if bad {
		return fmt.Errorf("bad model file name %q: want a plain name ending in .safetensors", name)
	}
	return nil
}

// EntryFor describes a model file with its metadata and bytes.
func EntryFor(file string, meta weights.Metadata, b []byte) Entry {
	sum := sha256.Sum256(b)
	return Entry{File: file, Dataset: meta.Dataset, Arch: meta.Arch, Temperature: meta.Temperature, Step: meta.Step,
		Role: meta.Role, Parent: meta.Parent, TestAccuracy: meta.TestAccuracy, Seed: meta.Seed, Epochs: meta.Epochs,
		Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

// Read parses the manifest of fsys (a folder or an embedded file system).
func Read(fsys fs.FS) (*Manifest, error) {
	b, err := readSized(fsys, FileName, -1)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses the bytes of a manifest.json and checks its file names.
func Parse(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	for i, e := range m.Models {
		if err := CheckFileName(e.File); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", FileName, i, err)
		}
	}
	m.sort()
	return &m, nil
}

func (m *Manifest) sort() {
	sort.Slice(m.Models, func(i, j int) bool {
		a, b := m.Models[i], m.Models[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.Temperature != b.Temperature {
			return a.Temperature < b.Temperature
		}
		if a.Step != b.Step {
			return a.Step < b.Step
		}
		return a.File < b.File
	})
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
	for i := range m.Models {
		if m.Models[i].File == e.File {
			m.Models[i] = e
			m.sort()
			return
		}
	}
	m.Models = append(m.Models, e)
	m.sort()
}

// Write saves the manifest into dir atomically.
func (m *Manifest) Write(dir string) error {
	m.sort()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return safefile.Write(filepath.Join(dir, FileName), append(b, '\n'))
}

// ReadDir reads dir's manifest, or returns an empty one if it has none.
func ReadDir(dir string) (*Manifest, error) {
	m, err := Read(os.DirFS(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{}, nil
	}
	return m, err
}

// Verify checks that the file of e in fsys has the recorded size and
// SHA-256, and that its metadata agrees with the entry.
func Verify(fsys fs.FS, e Entry) error {
	b, err := readSized(fsys, e.File, e.Bytes)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != e.SHA256 {
		return fmt.Errorf("%s: SHA-256 differs from the manifest (corrupt or replaced file)", e.File)
	}
	_, meta, err := weights.Load(b, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", e.File, err)
	}
	if meta.Dataset != e.Dataset || meta.Arch != e.Arch || meta.Temperature != e.Temperature || meta.Step != e.Step ||
		meta.Role != e.Role || meta.Epochs != e.Epochs || meta.TestAccuracy != e.TestAccuracy || meta.Seed != e.Seed {
		return fmt.Errorf("%s: metadata %+v disagrees with the manifest", e.File, meta)
	}
	return nil
}

// maxManifest bounds manifest.json (49 entries take 20 KB).
const maxManifest = 16 << 20

// maxModelFile bounds a model file (as native/modelfile does).
const maxModelFile = 1 << 30

// readSized reads the regular file name of fsys after checking its size
// against want (-1: the manifest, which may have any size up to
// maxManifest), so that a wrong or huge file is refused without reading it.
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
		limit = min(want, maxModelFile)
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

// WriteTable writes, per dataset, test accuracy as a Markdown table with a
// row per temperature and a column per distillation step (— where a model
// is missing).
func (man *Manifest) WriteTable(w io.Writer) {
	type key struct {
		t    float64
		step int
	}
	acc := map[string]map[key]float64{}
	var datasets []string
	temps := map[string][]float64{}
	maxStep := map[string]int{}
	for _, e := range man.Models {
		if acc[e.Dataset] == nil {
			acc[e.Dataset] = map[key]float64{}
			datasets = append(datasets, e.Dataset)
		}
		if !slices.Contains(temps[e.Dataset], e.Temperature) {
			temps[e.Dataset] = append(temps[e.Dataset], e.Temperature)
		}
		acc[e.Dataset][key{e.Temperature, e.Step}] = e.TestAccuracy
		maxStep[e.Dataset] = max(maxStep[e.Dataset], e.Step)
	}
	slices.Sort(datasets)
	row := func(cells []string) { fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | ")) }
	for i, ds := range datasets {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head, rule := []string{ds + ": T"}, []string{"---:"}
		for step := 0; step <= maxStep[ds]; step++ {
			head, rule = append(head, weights.RoleForStep(step)), append(rule, "---:")
		}
		row(head)
		fmt.Fprintf(w, "|%s|\n", strings.Join(rule, "|"))
		ts := temps[ds]
		slices.Sort(ts)
		for _, t := range ts {
			cells := []string{strconv.FormatFloat(t, 'g', -1, 64)}
			for step := 0; step <= maxStep[ds]; step++ {
				if a, ok := acc[ds][key{t, step}]; ok {
					cells = append(cells, fmt.Sprintf("%.2f%%", 100*a))
				} else {
					cells = append(cells, "—")
				}
			}
			row(cells)
		}
	}
}
