package catalog

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

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
			head, rule = append(head, Role(step)), append(rule, "---:")
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
