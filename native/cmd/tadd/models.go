package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tadd-project/tadd/native/manifest"
	"github.com/tadd-project/tadd/pretrained"
)

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models", stderr)
	verify := fs.Bool("verify", false, "check every file's size, SHA-256 and metadata against the manifest")
	table := fs.Bool("table", false, "print test accuracy as a Markdown table, T by distillation step, per dataset")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tadd models [--verify | --table] [FOLDER]   (default: the models built into tadd)")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError{"want at most one folder"}
	}
	dir, fsys := "the models built into tadd", pretrained.FS()
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
		fsys = os.DirFS(dir)
	}
	man, err := manifest.Read(fsys)
	if err != nil {
		return fmt.Errorf("models in %s: %w", dir, err)
	}
	if *table {
		if *verify {
			return usageError{"--table and --verify: pick one"}
		}
		man.WriteTable(stdout)
		return nil
	}
	fmt.Fprintf(stdout, "%-8s %-6s %5s %4s %-9s %8s %6s  %s\n", "dataset", "arch", "T", "step", "role", "accuracy", "epochs", "file")
	bad := 0
	for _, e := range man.Models {
		status := ""
		if *verify {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := manifest.Verify(fsys, e); err != nil {
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
