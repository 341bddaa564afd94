package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/findings"
)

// TestReportShowsAResultsFolder runs a tiny reproduction, then removes
// everything the report could recompute from (the models and the
// per-sample files) and checks that `tadd report` still shows the
// folder's numbers and verdicts, from summary.json alone.
func TestReportShowsAResultsFolder(t *testing.T) {
	models := tinyChains(t)
	out := filepath.Join(t.TempDir(), "results")
	code, stdout, stderr := runCLI(t, context.Background(), "reproduce", "--models", models, "--temperatures", "1,5", "--steps", "1", "--quick",
		"--samples", "16", "--attack-samples", "3", "--attacks", "l2", "--max-iterations", "100", "--quiet", "--offline", "--out", out)
	if code != 0 {
		t.Fatalf("reproduce: exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, findings.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := findings.ReadSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Run.Preset != "quick" || sum.Run.Samples != 16 || len(sum.Models) != 4 || len(sum.Claims) == 0 {
		t.Fatalf("summary: %+v", sum.Run)
	}
	if err := os.RemoveAll(filepath.Join(out, "samples")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(models); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "report", out)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"mnist, preset quick: 16 test images per model", "T=5   assistant", "accuracy ", "(n = 16)",
		"assistant − teacher", "The paper's claims:", "report.html"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report does not say %q:\n%s", want, stdout)
		}
	}
	for _, c := range sum.Claims {
		if !strings.Contains(stdout, c.Claim+": "+string(c.Verdict)+".") {
			t.Errorf("report does not give the verdict %q on %q", c.Verdict, c.Claim)
		}
	}
	code, table, stderr := runCLI(t, context.Background(), "report", "--table", out)
	if code != 0 || !strings.Contains(table, "| The paper claims |") || strings.Count(table, "\n| ") != len(sum.Claims)+1 {
		t.Errorf("report --table: exit %d\n%s\n%s", code, table, stderr)
	}

	// Folders that are not results, and summaries that do not read.
	bad := filepath.Join(t.TempDir(), "bad")
	os.MkdirAll(bad, 0o755)
	var m map[string]any
	json.Unmarshal(b, &m)
	m["version"] = 99
	other, _ := json.Marshal(m)
	for _, c := range []struct {
		name, content, want string
	}{
		{"no summary", "", "no summary.json"},
		{"not json", "{", "summary"},
		{"other version", string(other), "version 99"},
	} {
		os.Remove(filepath.Join(bad, findings.SummaryFile))
		if c.content != "" {
			os.WriteFile(filepath.Join(bad, findings.SummaryFile), []byte(c.content), 0o644)
		}
		code, _, stderr := runCLI(t, context.Background(), "report", bad)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, %q; want 1 and %q", c.name, code, stderr, c.want)
		}
	}
	if code, _, stderr := runCLI(t, context.Background(), "report", bad, bad); code != 2 || !strings.Contains(stderr, "at most one") {
		t.Errorf("two folders: exit %d, %q", code, stderr)
	}
}
