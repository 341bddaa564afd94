package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/findings"
	"github.com/tadd-project/tadd/core/stats"
)

// TestPowerReported checks that the run's power (the smallest student −
// assistant difference it detects) is in the findings, report.html,
// summary.json and what tadd report prints, with the formula.
func TestPowerReported(t *testing.T) {
	r := synthetic([]float64{1, 10}, 2, 40, 40)
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	an, _ := r.Analysis()
	if len(an.Power) != len(r.Attacks) {
		t.Fatalf("power %+v, want one per attack", an.Power)
	}
	sum, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Power) != len(r.Attacks) {
		t.Fatalf("summary power %+v", sum.Power)
	}
	for i, p := range sum.Power {
		if p.Attack != an.Power[i].Attack || p.N != an.Power[i].N || p.MDE != an.Power[i].MDE || math.IsNaN(float64(p.MDE)) || len(p.PerT) != 2 {
			t.Errorf("summary power %+v, analysis %+v", p, an.Power[i])
		}
	}
	// Every paired difference and effect has its own.
	for _, d := range sum.Differences {
		if d.N >= 2 && math.IsNaN(float64(d.MDE)) {
			t.Errorf("difference %+v has no MDE", d)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	WriteSummary(&text, sum)
	want := findings.PowerText(an.Power)
	for _, out := range []string{string(html), text.String(), strings.Join(Findings(r), "\n")} {
		for _, line := range want {
			if !strings.Contains(out, htmlEscape(out, line)) {
				t.Errorf("output lacks %q", line)
			}
		}
		if !strings.Contains(out, "detects ≥") && !strings.Contains(out, "detectable difference") {
			t.Errorf("output has no per-effect power")
		}
	}
	if !strings.Contains(strings.Join(want, " "), stats.PowerFormula) {
		t.Errorf("power text does not give the formula: %q", want)
	}
}

// htmlEscape escapes line when out is HTML.
func htmlEscape(out, line string) string {
	if strings.HasPrefix(out, "<!doctype html>") {
		return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(line)
	}
	return line
}
