package main

import (
	"context"
	"fmt"
	"io"

	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/native/modelfile"
)

func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("evaluate", stderr)
	var d dataFlags
	samples := fs.Int("samples", 0, "evaluate on the first N test images (0 = all)")
	workers := fs.Int("workers", 0, "parallel workers (0 = all cores)")
	fs.StringVar(&d.dir, "data", "", "dataset directory")
	fs.BoolVar(&d.offline, "offline", false, "never download datasets")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"want exactly one model file"}
	}
	m, meta, err := modelfile.Load(fs.Arg(0), nil)
	if err != nil {
		return err
	}
	_, test, err := loadDataset(ctx, meta.Dataset, d, stderr)
	if err != nil {
		return err
	}
	if test.ImageSize() != m.InputSize() {
		return fmt.Errorf("%s: %s images do not fit architecture %q", fs.Arg(0), meta.Dataset, meta.Arch)
	}
	if *samples < 0 {
		return usageError{"--samples must not be negative"}
	}
	test = test.Subset(*samples)
	acc := train.Accuracy(nn.NewPool(m, *workers), test)
	fmt.Fprintf(stdout, "%s: %s %s T=%g: test accuracy %.2f%% on %d images\n", fs.Arg(0), meta.Dataset, meta.Role, meta.Temperature, 100*acc, test.Len())
	return nil
}
