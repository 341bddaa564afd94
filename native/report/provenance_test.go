package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/reproduce"
)

// TestProvenance: the report states the machines and the compute wall
// time summed from the models' samples files, and says what is unknown
// when older files do not record it.
func TestProvenance(t *testing.T) {
	cases := []struct {
		name    string
		compute func(i int) reproduce.Compute
		want    []string
	}{
		{"all timed", func(i int) reproduce.Compute {
			return reproduce.Compute{Seconds: 1800, Machine: "2 × AMD EPYC cores, simd-avx512 kernels"}
		},
			[]string{"Computing took 3h0m0s of wall time, summed over the samples files of the 6 models", "machine: 2 × AMD EPYC cores, simd-avx512 kernels."}},
		{"two machines, one old file", func(i int) reproduce.Compute {
			switch i {
			case 0:
				return reproduce.Compute{}
			case 1:
				return reproduce.Compute{Seconds: 60, Machine: "A; B"}
			}
			return reproduce.Compute{Seconds: 60, Machine: "A"}
		}, []string{"5m0s of wall time, summed over the samples files of 5 of the 6 models; the other 1 file does not record it (unknown)", "machine: A; B."}},
		{"old files", func(int) reproduce.Compute { return reproduce.Compute{} },
			[]string{"Compute time unknown: the samples files do not record it; machine unknown."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := synthetic([]float64{1, 10}, 2, 20, 5)
			for i := range r.Models {
				r.Models[i].Compute = c.compute(i)
			}
			dir := t.TempDir()
			if err := Write(dir, r); err != nil {
				t.Fatal(err)
			}
			sum, err := ReadSummary(dir)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			WriteSummary(&text, sum)
			html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
			results, _ := os.ReadFile(filepath.Join(dir, "results.json"))
			for _, w := range c.want {
				if !strings.Contains(text.String(), w) || !strings.Contains(string(html), htmlEscape(string(html), w)) {
					t.Errorf("summary or report.html lacks %q:\n%s", w, text.String())
				}
			}
			// results.json stays equal between a run and its merged shards.
			if strings.Contains(string(results), "compute_seconds") || strings.Contains(string(results), "machine") {
				t.Error("results.json records the compute time")
			}
		})
	}
}

// TestNotEvaluatedInRunLine: a summary of a run that left models out (e.g.
// by --min-epochs) says so in its run line, by name when few and by count
// when many, and summary.json keeps every name.
func TestNotEvaluatedInRunLine(t *testing.T) {
	few := []string{"T=5 assistant (a.safetensors): not evaluated: trained for 10 epochs < 50"}
	many := make([]string, 38)
	for i := range many {
		many[i] = fmt.Sprintf("model %d: not evaluated", i)
	}
	for _, c := range []struct {
		names []string
		want  string
	}{
		{nil, ""},
		{few, "Not in these results yet: " + few[0] + "."},
		{many, "38 models of the chains are not in these results yet"},
	} {
		r := Results{Dataset: "mnist", Preset: "standard", Samples: 100, AttackSamples: 10, Attacks: []string{"l2"}, NotEvaluated: c.names}
		run := r.Run()
		if len(run.NotEvaluated) != len(c.names) {
			t.Fatalf("summary keeps %d names, want %d", len(run.NotEvaluated), len(c.names))
		}
		line := runLine(run)
		if c.want == "" && strings.Contains(line, "not in these results") || !strings.Contains(line, c.want) {
			t.Errorf("%d left out: run line %q, want %q", len(c.names), line, c.want)
		}
	}
}
