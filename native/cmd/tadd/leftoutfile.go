package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/native/safefile"
)

// maxLeftOutFile bounds a not-evaluated file (49 models take a few kB).
const maxLeftOutFile = 1 << 20

// saveLeftOut writes the names of the models a run left out
// (reproduce.LeftOut.String) into its output folder (an empty list when it
// left none out), where tadd merge finds them.
func saveLeftOut(out string, names []string) error {
	if names == nil {
		names = []string{}
	}
	b, err := json.MarshalIndent(names, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", reproduce.LeftOutFile, err)
	}
	return safefile.Write(filepath.Join(out, reproduce.LeftOutFile), append(b, '\n'))
}

// keptLeftOut is what the folders' not-evaluated files name, each model
// once, in the order first seen (folders from before the file, or with
// none, name nothing).
func keptLeftOut(dirs []string) ([]string, error) {
	var all []string
	for _, dir := range dirs {
		b, err := safefile.Read(filepath.Join(dir, reproduce.LeftOutFile), maxLeftOutFile)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		if err := json.Unmarshal(b, &names); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, reproduce.LeftOutFile), err)
		}
		for _, n := range names {
			if !slices.Contains(all, n) {
				all = append(all, n)
			}
		}
	}
	return all, nil
}
