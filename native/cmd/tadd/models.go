package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tadd-project/tadd/core/weights"
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
		writeTable(stdout, man)
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

// writeTable prints, per dataset, test accuracy with a row per temperature
// and a column per distillation step (— where a model is missing).
func writeTable(w io.Writer, man *manifest.Manifest) {
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
