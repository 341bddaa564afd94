package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/findings"
)

// TestReadmeFindingsTable keeps the README's "What we found" table true:
// it is what WriteFindingsTable makes of the shipped summary, and while
// none is shipped it says so.
func TestReadmeFindingsTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- findings-table: ./bin/tadd report --table -->\n", "<!-- end findings-table -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	table, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md lacks the markers %q and %q around the findings table", begin, end)
	}
	var shipped *findings.Summary
	s, err := ReadSummary(filepath.Join("../..", ShippedDir))
	switch {
	case errors.Is(err, ErrNoSummary):
		if !strings.Contains(table, strings.TrimSpace(NoShippedResults)) {
			t.Errorf("no summary is shipped in %s, but the README's findings table does not say so:\n%s", ShippedDir, table)
		}
	case err != nil:
		t.Fatal(err)
	default:
		shipped = &s
	}
	var want bytes.Buffer
	WriteFindingsTable(&want, shipped)
	if table != want.String() {
		t.Errorf("README.md's findings table is out of date; put the output of ./bin/tadd report --table between its markers:\n%s\nit has:\n%s", want.String(), table)
	}
}

// TestFindingsTable checks the table made from a summary: a row per claim
// with its verdict and effects, and the run it comes from.
func TestFindingsTable(t *testing.T) {
	r := synthetic([]float64{1, 10}, 2, 60, 20)
	r.sort()
	an, _ := r.Analysis()
	s := findings.NewSummary(an, r.Run())
	var b bytes.Buffer
	WriteFindingsTable(&b, &s)
	out := b.String()
	if !strings.HasPrefix(out, "Measured: mnist, preset standard: 60 test images per model") {
		t.Errorf("table does not start with the run:\n%s", out)
	}
	for _, c := range s.Claims {
		if !strings.Contains(out, "| "+c.Claim+" | "+string(c.Verdict)+" | ") {
			t.Errorf("no row for %q (%s):\n%s", c.Claim, c.Verdict, out)
		}
	}
	if strings.Count(out, "\n| ") != len(s.Claims)+1 || strings.Contains(out, "No summary is shipped") {
		t.Errorf("table:\n%s", out)
	}
	b.Reset()
	WriteFindingsTable(&b, nil)
	if out := b.String(); !strings.HasPrefix(out, NoShippedResults) || strings.Count(out, "not measured yet") != len(s.Claims) {
		t.Errorf("no-summary table:\n%s", out)
	}
}
