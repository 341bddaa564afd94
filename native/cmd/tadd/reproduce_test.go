package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/report"
)

// tinyChains lays out the tiny test model as chains (teacher, assistant) at
// T=1 and T=5, with a manifest.
func tinyChains(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	_, meta, err := weights.Load(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	man := &catalog.Manifest{}
	for _, temp := range []float64{1, 5} {
		for step := range 2 {
			name := catalog.ModelName("mnist", temp, step)
			os.WriteFile(filepath.Join(dir, name), b, 0o644)
			m := meta
			m.Temperature, m.Step, m.Role = temp, step, catalog.Role(step)
			man.Put(catalog.EntryFor(name, m.Identity, b))
		}
	}
	if err := modelfile.WriteManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReproduceShardAndMerge(t *testing.T) {
	models := tinyChains(t)
	base := []string{"reproduce", "--models", models, "--temperatures", "1,5", "--steps", "1", "--quick", "--samples", "16",
		"--attack-samples", "3", "--attacks", "l2,linf", "--max-iterations", "300", "--quiet", "--offline"}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	code, stdout, stderr := runCLI(t, context.Background(), append(base, "--out", whole)...)
	if code != 0 {
		t.Fatalf("reproduce: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "model 1 of 4: ") || !strings.Contains(stderr, "model 4 of 4: ") || !strings.Contains(stderr, "to go)") {
		t.Errorf("reproduce does not show its overall progress:\n%s", stderr)
	}

	// The report is complete and its numbers agree with each other.
	var res report.Results
	b, err := os.ReadFile(filepath.Join(whole, "results.json"))
	if err != nil || json.Unmarshal(b, &res) != nil || len(res.Models) != 4 {
		t.Fatalf("results.json: %v, %d models", err, len(res.Models))
	}
	fh, _ := os.Open(filepath.Join(whole, "results.csv"))
	rows, err := csv.NewReader(fh).ReadAll()
	fh.Close()
	if err != nil || len(rows) != 5 || strings.Join(rows[0], ",") != strings.Join(report.CSVHeader([]string{"l2", "linf"}), ",") {
		t.Fatalf("results.csv: %v, %d rows", err, len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for i, m := range res.Models {
		row := rows[i+1]
		acc, _ := strconv.ParseFloat(row[col["accuracy"]], 64)
		l2mean, _ := strconv.ParseFloat(row[col["l2_mean"]], 64)
		epochs, _ := strconv.Atoi(row[col["epochs"]])
		if row[col["file"]] != m.File || acc != m.Summary.Accuracy || l2mean != m.Summary.Robustness["l2"].Mean || epochs != m.Epochs || epochs == 0 {
			t.Errorf("CSV row %d %v disagrees with JSON %+v", i, rows[i+1], m)
		}
		if m.Summary.Samples != 16 || m.Summary.Robustness["l2"].Attempts > 3 {
			t.Errorf("%s: %d samples, %d attacks", m.File, m.Summary.Samples, m.Summary.Robustness["l2"].Attempts)
		}
	}
	fWhole, err1 := os.ReadFile(filepath.Join(whole, "findings.json"))
	html, _ := os.ReadFile(filepath.Join(whole, "report.html"))
	for _, fig := range []string{"fig3-accuracy", "fig4-near-zero-gradients", "fig4-gradient-amplitude", "fig5-l2-mean", "fig5-linf-max",
		"fig6-confidence", "fig7-accuracy-by-step", "fig8-l2-by-T", "fig8-linf-average", "curve-l2", "curve-linf"} {
		if !bytes.Contains(html, []byte(`id="`+fig+`"`)) {
			t.Errorf("report.html lacks %s", fig)
		}
		for _, ext := range []string{".png", ".svg"} {
			if st, err := os.Stat(filepath.Join(whole, "figures", fig+ext)); err != nil || st.Size() < 1000 {
				t.Errorf("figure %s%s: %v", fig, ext, err)
			}
		}
	}
	if !bytes.Contains(html, []byte("Findings")) || !bytes.Contains(html, []byte("Transferability")) {
		t.Error("report.html lacks findings or the transfer table")
	}
	if _, err := os.Stat(filepath.Join(whole, "transfer.csv")); err != nil {
		t.Error(err)
	}

	// A second run is served from the cache.
	code, _, stderr = runCLI(t, context.Background(), append(base, "--out", whole)...)
	if code != 0 || strings.Count(stderr, "cached") != 4 {
		t.Fatalf("rerun: exit %d, %q", code, stderr)
	}
	// A fresh output folder resumes from the results folder's samples files
	// (as from shipped results), copying them, and writes the same report.
	fresh := filepath.Join(dir, "fresh")
	code, _, stderr = runCLI(t, context.Background(), append(base, "--out", fresh, "--resume-from", whole)...)
	if code != 0 || strings.Count(stderr, "cached in "+whole) != 4 || strings.Contains(stderr, "evaluated") {
		t.Fatalf("--resume-from: exit %d, %q", code, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(fresh, "results.json")); !bytes.Equal(got, b) {
		t.Fatal("results resumed from another folder differ from the run's")
	}
	if files, _ := filepath.Glob(filepath.Join(fresh, "samples", "*.json")); len(files) != 4 {
		t.Fatalf("resumed folder holds %d samples files, want 4", len(files))
	}

	// A shorter chain measures transfer on fewer models: not served from the
	// longer chain's cache (nor would a longer chain be from a shorter one's).
	short := append(append([]string{}, base...), "--out", whole, "--steps", "0")
	if code, _, stderr := runCLI(t, context.Background(), short...); code != 0 || strings.Contains(stderr, "cached") || strings.Count(stderr, "evaluated") != 2 {
		t.Fatalf("run with --steps 0: exit %d, %q", code, stderr)
	}

	// Two shards merged give exactly the numbers of the single run.
	var parts []string
	for i := range 2 {
		p := filepath.Join(dir, "shard"+strconv.Itoa(i))
		parts = append(parts, p)
		code, _, stderr := runCLI(t, context.Background(), append(base, "--out", p, "--shard", strconv.Itoa(i)+"/2")...)
		if code != 0 {
			t.Fatalf("shard %d: exit %d, %s", i, code, stderr)
		}
	}
	merged := filepath.Join(dir, "merged")
	code, _, stderr = runCLI(t, context.Background(), append([]string{"merge", "--out", merged}, parts...)...)
	if code != 0 {
		t.Fatalf("merge: exit %d, %s", code, stderr)
	}
	got, _ := os.ReadFile(filepath.Join(merged, "results.json"))
	if !bytes.Equal(got, b) {
		t.Fatalf("merged results differ from the single run:\n%s\nvs\n%s", got, b)
	}
	// So do the findings: the paired comparisons and their verdicts.
	fMerged, err2 := os.ReadFile(filepath.Join(merged, "findings.json"))
	if err1 != nil || err2 != nil || !bytes.Equal(fWhole, fMerged) {
		t.Fatalf("findings.json: %v, %v, equal %v", err1, err2, bytes.Equal(fWhole, fMerged))
	}
	var an struct {
		Claims []struct{ Claim, Verdict string }
	}
	if err := json.Unmarshal(fWhole, &an); err != nil || len(an.Claims) < 6 {
		t.Fatalf("findings.json: %v, %d claims", err, len(an.Claims))
	}
	for _, c := range an.Claims {
		if c.Verdict != "supported" && c.Verdict != "contradicted" && c.Verdict != "not resolved at 95%" {
			t.Errorf("claim %q: verdict %q", c.Claim, c.Verdict)
		}
	}
	if !strings.Contains(stdout, "Wilcoxon p") || !strings.Contains(stdout, "The student (teacher → assistant → student) is more robust than the assistant") {
		t.Errorf("reproduce's findings lack the paired tests:\n%s", stdout)
	}
	// Merging one shard alone is refused.
	if code, _, stderr := runCLI(t, context.Background(), "merge", "--out", filepath.Join(dir, "bad"), parts[0]); code == 0 || !strings.Contains(stderr, "1 of 2 shards") {
		t.Fatalf("merging one shard: exit %d, %q", code, stderr)
	}
}
