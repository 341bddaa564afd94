// Package catalog is the one description of a trained model: its identity
// (dataset, architecture, temperature, chain step and role, parent, epochs,
// test accuracy, seed), the names of chain steps, the order of models, and
// manifest.json, the list of a model folder's files with their sizes and
// SHA-256, so that a set of models can be listed, verified and served
// without opening every file. It reads through fs.FS and writes through a
// function it is given, so it builds for js/wasm as well as natively, and
// it holds the cache of loaded models that the demo, the Web Worker and the
// server share.
package catalog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Identity says what a model is: what it was trained on and how, and where
// it stands in its distillation chain. Model files carry it in their
// metadata (weights.Metadata) and manifests list it per file (Entry).
type Identity struct {
	Dataset      string  `json:"dataset"`          // "mnist" or "cifar10"
	Arch         string  `json:"arch"`             // architecture name, see nn.ArchByName
	Temperature  float64 `json:"temperature"`      // training temperature T
	Step         int     `json:"step"`             // 0 for the teacher, 1 for the assistant, ...
	Role         string  `json:"role"`             // Role(Step)
	Parent       string  `json:"parent,omitempty"` // the file the soft labels came from ("" for a teacher)
	TestAccuracy float64 `json:"test_accuracy"`    // at T = 1, in [0, 1]; -1 when not measured
	Seed         uint64  `json:"seed"`
	Epochs       int     `json:"epochs"` // epochs trained
}

// DisplayName is the model's place in its chain in words (DisplayName of
// its step).
func (id Identity) DisplayName() string { return DisplayName(id.Step) }

// Entry is one model file of a folder: its name, its identity and the
// size and SHA-256 of its bytes. It is an element of manifest.json.
type Entry struct {
	File string `json:"file"`
	Identity
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// EntryFor describes the model file named file, with identity id and
// content b.
func EntryFor(file string, id Identity, b []byte) Entry {
	sum := sha256.Sum256(b)
	return Entry{File: file, Identity: id, Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

// CheckBytes reports whether b is the content the entry describes (its
// size and SHA-256).
func (e Entry) CheckBytes(b []byte) error {
	if int64(len(b)) != e.Bytes {
		return fmt.Errorf("%s: %d bytes, the manifest says %d (corrupt or replaced file)", e.File, len(b), e.Bytes)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != e.SHA256 {
		return fmt.Errorf("%s: SHA-256 differs from the manifest (corrupt or replaced file)", e.File)
	}
	return nil
}

// chainRole is the name of the first steps of a chain, which have one.
func chainRole(step int) (string, bool) {
	switch step {
	case 0:
		return "teacher", true
	case 1:
		return "assistant", true
	case 2:
		return "student", true
	}
	return "", false
}

// Role names step k of a chain as files and manifests record it: teacher,
// assistant, student, then step3, step4, ...
func Role(step int) string {
	if r, ok := chainRole(step); ok {
		return r
	}
	return fmt.Sprintf("step%d", step)
}

// DisplayName names step k of a chain for people (figure legends, the
// demo's buttons): teacher, assistant, student, then "step 3", "step 4", ...
func DisplayName(step int) string {
	if r, ok := chainRole(step); ok {
		return r
	}
	return fmt.Sprintf("step %d", step)
}

// ModelName is the file name of a chain's model:
// DATASET-T{T}-step{K}-{role}.safetensors.
func ModelName(dataset string, t float64, step int) string {
	return fmt.Sprintf("%s-T%s-step%d-%s.safetensors", dataset, strconv.FormatFloat(t, 'g', -1, 64), step, Role(step))
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

// Compare orders models by dataset, then temperature, then chain step: the
// order of manifests, of the demo's model picker and of the report.
func Compare(a, b Identity) int {
	return cmp.Or(strings.Compare(a.Dataset, b.Dataset), cmp.Compare(a.Temperature, b.Temperature), cmp.Compare(a.Step, b.Step))
}

// CompareEntries orders entries as Compare does, then by file name.
func CompareEntries(a, b Entry) int {
	return cmp.Or(Compare(a.Identity, b.Identity), strings.Compare(a.File, b.File))
}
