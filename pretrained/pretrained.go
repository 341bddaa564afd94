// Package pretrained ships the trained MNIST models: distillation chains
// (teacher, assistant, student, steps 3–6) at each temperature, stored as F16
// safetensors, with manifest.json (dataset, architecture, T, step, parent,
// test accuracy, seed, epochs, SHA-256 of each file) and a gallery of 100
// MNIST test digits for the demo. They are embedded in the tadd binary, so
// every command and the web demo work with no training first.
package pretrained

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// Only what is shipped in the binary is embedded: the shipped results
// (results/) stay out of it.
//
//go:embed manifest.json *.safetensors gallery-*.idx
var files embed.FS

// FS returns the models, the manifest and the gallery. Other files of the
// folder (sources, unfinished checkpoints) are not part of it.
func FS() fs.FS { return shipped{files} }

// Shipped reports whether a file name is part of the shipped set.
func Shipped(name string) bool {
	return name == "manifest.json" || (path.Ext(name) == ".safetensors" && !strings.HasPrefix(name, ".")) ||
		(strings.HasPrefix(name, "gallery-") && path.Ext(name) == ".idx")
}

type shipped struct{ embed.FS }

func (s shipped) Open(name string) (fs.File, error) {
	if name != "." && !Shipped(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return s.FS.Open(name)
}

func (s shipped) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := s.FS.ReadDir(name)
	if err != nil {
		return nil, err
	}
	var out []fs.DirEntry
	for _, e := range entries {
		if Shipped(e.Name()) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s shipped) ReadFile(name string) ([]byte, error) {
	if !Shipped(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return s.FS.ReadFile(name)
}
