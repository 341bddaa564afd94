package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/pretrained"
)

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models", stderr)
	verify := fs.Bool("verify", false, "check every file's size, SHA-256 and metadata against the manifest")
	table := fs.Bool("table", false, "print test accuracy as a Markdown table, T by distillation step, per dataset")
	measure := fs.Bool("measure", false, "re-measure every model's test accuracy on its dataset's full test set and compare it with the manifest")
	fix := fs.Bool("fix", false, "with --measure: rewrite the metadata and manifest entry of each model whose accuracy differs (needs FOLDER)")
	workers := fs.Int("workers", 0, "with --measure: parallel workers (0 = all cores)")
	var d dataFlags
	fs.StringVar(&d.dir, "data", "", "dataset directory (with --measure)")
	fs.BoolVar(&d.offline, "offline", false, "never download datasets (with --measure)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tadd models [--verify | --table | --measure [--fix]] [FOLDER]   (default: the models built into tadd)")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError{"want at most one folder"}
	}
	modes := 0
	for _, m := range []bool{*verify, *table, *measure} {
		if m {
			modes++
		}
	}
	if modes > 1 {
		return usageError{"--verify, --table and --measure: pick one"}
	}
	if *fix && (!*measure || fs.NArg() == 0) {
		return usageError{"--fix goes with --measure and a FOLDER (the built-in models cannot be rewritten)"}
	}
	dir, fsys := "the models built into tadd", pretrained.FS()
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
		fsys = os.DirFS(dir)
	}
	man, err := catalog.Read(fsys)
	if err != nil {
		return fmt.Errorf("models in %s: %w", dir, err)
	}
	if *table {
		man.WriteTable(stdout)
		return nil
	}
	if *measure {
		return measureModels(ctx, man, dir, fsys, d, *fix, *workers, stdout, stderr)
	}
	fmt.Fprintf(stdout, "%-8s %-6s %5s %4s %-9s %8s %6s  %s\n", "dataset", "arch", "T", "step", "role", "accuracy", "epochs", "file")
	bad := 0
	for _, e := range man.Models {
		status := ""
		if *verify {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := weights.Verify(fsys, e); err != nil {
				status = "  BAD: " + err.Error()
				bad++
			} else {
				status = "  ok"
			}
		}
		fmt.Fprintf(stdout, "%-8s %-6s %5g %4d %-9s %7.2f%% %6d  %s%s\n", e.Dataset, e.Arch, e.Temperature, e.Step, e.Role, 100*e.TestAccuracy, e.Epochs, e.File, status)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d models failed verification", bad, len(man.Models))
	}
	return nil
}

// measureModels re-measures each model's test accuracy and compares it with
// the manifest; with fix it rewrites the files and manifest entries that
// differ (dir is then a folder on disk). A rewritten file's entry reaches
// the manifest even when a later model fails or the run is interrupted.
func measureModels(ctx context.Context, man *catalog.Manifest, dir string, fsys fs.FS, d dataFlags, fix bool, workers int, stdout, stderr io.Writer) error {
	var differ []string
	fixed := 0
	fail := func(err error) error {
		if fixed > 0 {
			if werr := modelfile.WriteManifest(dir, man); werr != nil {
				return errors.Join(err, werr)
			}
		}
		return err
	}
	tests := map[string]*data.Set{}
	fmt.Fprintf(stdout, "%-9s %-9s  %s\n", "manifest", "measured", "file")
	for _, e := range man.Models {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		test, ok := tests[e.Dataset]
		if !ok {
			var err error
			if _, test, err = loadDataset(ctx, e.Dataset, d, stderr); err != nil {
				return fail(fmt.Errorf("%s: %w", e.File, err))
			}
			tests[e.Dataset] = test
		}
		acc, err := modelAccuracy(fsys, e, test, workers)
		if err != nil {
			return fail(err)
		}
		status := "ok"
		if acc != e.TestAccuracy {
			status = "DIFFERS"
			differ = append(differ, e.File)
			if fix {
				if err := modelfile.SetAccuracy(dir, man, e.File, acc); err != nil {
					return fail(err)
				}
				fixed++
				status = "fixed"
			}
		}
		fmt.Fprintf(stdout, "%8.2f%% %8.2f%%  %s  %s\n", 100*e.TestAccuracy, 100*acc, e.File, status)
	}
	switch {
	case len(differ) == 0:
		fmt.Fprintf(stdout, "all %d models score what the manifest says\n", len(man.Models))
		return nil
	case fix:
		if err := modelfile.WriteManifest(dir, man); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rewrote %d of %d models and %s: %s\n", len(differ), len(man.Models), catalog.FileName, strings.Join(differ, ", "))
		return nil
	}
	return fmt.Errorf("%d of %d models score other than the manifest says (rewrite them with --measure --fix FOLDER): %s", len(differ), len(man.Models), strings.Join(differ, ", "))
}

// modelAccuracy loads the file of e from fsys and measures its test
// accuracy on test as the distill pipeline does (train.Accuracy, at T = 1,
// on the weights as stored), with workers goroutines (0 = all cores).
func modelAccuracy(fsys fs.FS, e catalog.Entry, test *data.Set, workers int) (float64, error) {
	b, err := catalog.ReadFile(fsys, e)
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
	return train.Accuracy(nn.NewWorkers(m, workers), test), nil
}
