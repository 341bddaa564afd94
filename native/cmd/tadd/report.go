package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tadd-project/tadd/native/report"
)

// runReport shows a results folder (what reproduce or merge wrote, or the
// shipped pretrained/results/mnist-standard) from its summary.json alone:
// nothing is recomputed, no model or per-sample file is read.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("report", stderr)
	table := flags.Bool("table", false, "print the README's \"What we found\" table (Markdown) instead")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: tadd report [--table] [DIR]   (a results folder; default: the shipped %s, from the repository root)\n", report.ShippedDir)
		flags.PrintDefaults()
	}
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 1 {
		return usageError{"want at most one results folder"}
	}
	dir := report.ShippedDir
	if flags.NArg() == 1 {
		dir = flags.Arg(0)
	}
	s, err := report.ReadSummary(dir)
	if errors.Is(err, report.ErrNoSummary) && flags.NArg() == 0 {
		if *table {
			// What the README says while nothing is shipped.
			report.WriteFindingsTable(stdout, nil)
			return nil
		}
		return fmt.Errorf("no shipped results in %s: none are shipped yet, or tadd runs outside the repository root (give the folder)", dir)
	}
	if err != nil {
		return err
	}
	if *table {
		report.WriteFindingsTable(stdout, &s)
		return nil
	}
	report.WriteSummary(stdout, s)
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err == nil {
		fmt.Fprintf(stdout, "\nThe report with its figures: %s\n", filepath.Join(dir, "report.html"))
	}
	return nil
}
