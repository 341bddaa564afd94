package report

import (
	"github.com/tadd-project/tadd/core/catalog"
	"strings"
	"testing"
)

func TestTrainingLengths(t *testing.T) {
	model := func(temp float64, step, epochs int) Model {
		return Model{Entry: catalog.Entry{Identity: catalog.Identity{Temperature: temp, Step: step, Epochs: epochs}}}
	}
	cases := []struct {
		name   string
		models []Model
		want   string // "" when no sentence is expected
	}{
		{"same distilled length", []Model{model(1, 0, 50), model(1, 1, 10), model(1, 2, 10)}, ""},
		{"unknown lengths", []Model{model(1, 0, 0), model(1, 1, 0), model(1, 2, 0)}, ""},
		{"steps differ", []Model{model(1, 0, 50), model(1, 1, 10), model(1, 2, 10), model(1, 3, 6), model(2, 3, 6)},
			"step 0: 50; step 1: 10; step 2: 10; step 3: 6"},
		{"one step mixed", []Model{model(1, 0, 50), model(1, 1, 10), model(2, 1, 6)}, "step 1: 6 or 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Results{Models: c.models}
			r.sort()
			got := trainingLengths(r)
			if c.want == "" {
				if got != "" {
					t.Fatalf("got %q, want nothing", got)
				}
				return
			}
			if !strings.Contains(got, c.want) || !strings.Contains(got, "Fig. 7") {
				t.Fatalf("got %q, want it to contain %q", got, c.want)
			}
			found := false
			for _, f := range Findings(r) {
				found = found || f == got
			}
			if !found {
				t.Fatalf("Findings does not include %q", got)
			}
		})
	}
}
