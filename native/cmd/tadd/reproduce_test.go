package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/reproduce"
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

// TestMergeKeepsLeftOut: the models the shards' runs left out (trained
// for fewer than --min-epochs) are named in the merged results as in a
// single run's.
func TestMergeKeepsLeftOut(t *testing.T) {
	models := tinyChains(t)
	// The T=5 assistant trained for 1 epoch (the tiny model's file says 3).
	name := catalog.ModelName("mnist", 5, 1)
	m, meta, err := weights.Load(must(os.ReadFile(filepath.Join(models, name))), nil)
	if err != nil {
		t.Fatal(err)
	}
	meta.Temperature, meta.Step, meta.Role, meta.Epochs = 5, 1, catalog.Role(1), 1
	var b bytes.Buffer
	if err := weights.Encode(&b, m, meta, weights.F32); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(models, name), b.Bytes(), 0o644)
	man, err := modelfile.ReadManifest(models)
	if err != nil {
		t.Fatal(err)
	}
	man.Put(catalog.EntryFor(name, meta.Identity, b.Bytes()))
	if err := modelfile.WriteManifest(models, man); err != nil {
		t.Fatal(err)
	}
	base := []string{"reproduce", "--models", models, "--temperatures", "1,5", "--steps", "1", "--quick", "--samples", "8",
		"--attack-samples", "2", "--attacks", "l2", "--max-iterations", "50", "--quiet", "--offline", "--min-epochs", "2"}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	if code, _, stderr := runCLI(t, context.Background(), append(base, "--out", whole)...); code != 0 {
		t.Fatalf("reproduce: exit %d, %s", code, stderr)
	}
	var parts []string
	for i := range 2 {
		p := filepath.Join(dir, "shard"+strconv.Itoa(i))
		parts = append(parts, p)
		if code, _, stderr := runCLI(t, context.Background(), append(base, "--out", p, "--shard", strconv.Itoa(i)+"/2")...); code != 0 {
			t.Fatalf("shard %d: exit %d, %s", i, code, stderr)
		}
	}
	merged := filepath.Join(dir, "merged")
	if code, _, stderr := runCLI(t, context.Background(), append([]string{"merge", "--out", merged}, parts...)...); code != 0 {
		t.Fatalf("merge: exit %d, %s", code, stderr)
	}
	one, err1 := report.ReadSummary(whole)
	both, err2 := report.ReadSummary(merged)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(one.Run.NotEvaluated) != 1 || !strings.Contains(one.Run.NotEvaluated[0], "T=5 assistant") || !slices.Equal(one.Run.NotEvaluated, both.Run.NotEvaluated) {
		t.Errorf("not evaluated: single run %q, merged %q", one.Run.NotEvaluated, both.Run.NotEvaluated)
	}
}

func TestReproduceShardAndMerge(t *testing.T) {
	models := tinyChains(t)
	base := []string{"reproduce", "--models", models, "--temperatures", "1,5", "--steps", "1", "--quick", "--samples", "16",
		"--attack-samples", "l2=3,linf=2", "--attacks", "l2,linf", "--max-iterations", "300", "--quiet", "--offline"}
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
	if res.AttackSamples != 3 || res.AttackCounts["l2"] != 3 || res.AttackCounts["linf"] != 2 {
		t.Fatalf("results.json: attacked %d, per attack %v; want l2 3, linf 2", res.AttackSamples, res.AttackCounts)
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
		if m.Summary.Samples != 16 || m.Summary.Robustness["l2"].Attempts > 3 || m.Summary.Robustness["linf"].Attempts > 2 {
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
	if code != 0 || strings.Count(stderr, ": cached in ") != 4 {
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
	if code, _, stderr := runCLI(t, context.Background(), short...); code != 0 || strings.Contains(stderr, ": cached in ") || strings.Count(stderr, "evaluated") != 2 ||
		!strings.Contains(stderr, "samples files of 2 models outside this run") {
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
	// The merged samples files name the models their transfers were
	// measured on, as the shards' do: a run resumed from them keeps the
	// transfer rates.
	for _, p := range must(filepath.Glob(filepath.Join(parts[0], "samples", "*.json"))) {
		var one, both reproduce.SamplesFile
		json.Unmarshal(must(os.ReadFile(p)), &one)
		name := strings.Replace(filepath.Base(p), ".shard-0-of-2", "", 1)
		json.Unmarshal(must(os.ReadFile(filepath.Join(merged, "samples", name))), &both)
		if len(one.TransferModels) == 0 || !maps.Equal(one.TransferModels, both.TransferModels) {
			t.Errorf("%s: transfer models %v, merged %v", name, one.TransferModels, both.TransferModels)
		}
	}
	if code, _, stderr := runCLI(t, context.Background(), append(base, "--out", merged)...); code != 0 || strings.Contains(stderr, "dropped") || strings.Count(stderr, ": cached in ") != 4 {
		t.Errorf("a run in the merged folder: exit %d, %s", code, stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(merged, "results.json")); !bytes.Equal(again, b) {
		t.Errorf("a run in the merged folder changed its results")
	}
	// Each summary states the machine and the compute time its samples
	// files record (the resumed folder's: those it copied); the merged one
	// the shards' sum.
	sumFresh, err := report.ReadSummary(fresh)
	if err != nil || !strings.Contains(sumFresh.Run.Machine, " kernels") || sumFresh.Run.WallSeconds <= 0 || sumFresh.Run.Untimed != 0 {
		t.Errorf("%s: run %+v, %v", fresh, sumFresh.Run, err)
	}
	var wallShards float64
	for _, d := range parts {
		paths, _ := filepath.Glob(filepath.Join(d, "samples", "*.json"))
		for _, p := range paths {
			b, _ := os.ReadFile(p)
			var sf reproduce.SamplesFile
			if json.Unmarshal(b, &sf) != nil || sf.Seconds <= 0 || !strings.Contains(sf.Machine, " kernels") {
				t.Errorf("%s: compute %+v", p, sf.Compute)
			}
			wallShards += sf.Seconds
		}
	}
	sumMerged, err := report.ReadSummary(merged)
	if err != nil || sumMerged.Run.WallSeconds < 0.999*wallShards || sumMerged.Run.WallSeconds > 1.001*wallShards || sumMerged.Run.Untimed != 0 {
		t.Errorf("merged compute time %g s, the shards' files %g s (%v)", sumMerged.Run.WallSeconds, wallShards, err)
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
	keepsBudgetCheck(t, base, whole, parts)
}

// keepsBudgetCheck: the budget check a run made (its file in the output
// folder) stays with the results when the run is resumed without --budget
// and when its shards are merged: results.json carries it and every
// figure says that the over-budget attack's distances are overstated. A
// check made for other settings is not taken.
func keepsBudgetCheck(t *testing.T, base []string, whole string, parts []string) {
	t.Helper()
	tiny, err := os.ReadFile("../../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	sha := fmt.Sprintf("%x", sha256.Sum256(tiny)) // every model of tinyChains
	check := reproduce.BudgetCheck{Dataset: "mnist", Preset: "quick", MaxIterations: 300, Images: 3, Attacks: []string{"l2", "linf"}, Seed: 1,
		Models: []reproduce.ModelRef{{Temperature: 1, SHA256: sha}, {Temperature: 5, SHA256: sha}, {Temperature: 5, Step: 1, SHA256: sha}},
		Ratios: []reproduce.BudgetRatio{{Attack: "l2", Pairs: 9, Mean: 1.5, Lo: 1.2, Hi: 1.8}, {Attack: "linf", Pairs: 9, Mean: 1, Lo: 1, Hi: 1}}}
	b, _ := json.Marshal(check)

	other := check
	other.Preset = "standard"
	bOther, _ := json.Marshal(other)
	carries := func(dir string, want bool) {
		t.Helper()
		var res report.Results
		b, err := os.ReadFile(filepath.Join(dir, "results.json"))
		if err != nil || json.Unmarshal(b, &res) != nil {
			t.Fatalf("%s/results.json: %v", dir, err)
		}
		svg, _ := os.ReadFile(filepath.Join(dir, "figures", "fig3-accuracy.svg"))
		got := res.BudgetCheck != nil && res.BudgetCheck.Text() == check.Text() && bytes.Contains(svg, []byte("distances of l2 ×1.5"))
		if got != want {
			t.Errorf("%s: budget check %+v, figure says over budget %v; want the check: %v", dir, res.BudgetCheck, bytes.Contains(svg, []byte("over budget")), want)
		}
	}
	// A check made on another version of a model, for another seed or
	// other attacks, or from before the check recorded them, is not taken.
	for _, c := range []struct {
		name   string
		modify func(*reproduce.BudgetCheck)
		says   string
	}{
		{"retrained since", func(c *reproduce.BudgetCheck) { c.Models = slices.Clone(c.Models); c.Models[2].SHA256 = "00" }, "other versions of T=5 step 1"},
		{"a model not in the chains", func(c *reproduce.BudgetCheck) { c.Models = reproduce.BudgetModels() }, "T=40 step 0 (not in the chains)"},
		{"another seed", func(c *reproduce.BudgetCheck) { c.Seed = 2 }, ""},
		{"other attacks", func(c *reproduce.BudgetCheck) { c.Attacks = []string{"l2"} }, ""},
		{"an old file", func(c *reproduce.BudgetCheck) { c.Attacks, c.Seed = nil, 0 }, ""},
	} {
		bad := check
		c.modify(&bad)
		bb, _ := json.Marshal(bad)
		os.WriteFile(filepath.Join(whole, reproduce.BudgetFile), bb, 0o644)
		code, _, stderr := runCLI(t, context.Background(), append(base, "--out", whole)...)
		if code != 0 || !strings.Contains(stderr, c.says) {
			t.Errorf("%s: exit %d, stderr lacks %q:\n%s", c.name, code, c.says, stderr)
		}
		carries(whole, false)
	}
	// Resumed in its folder without --budget.
	os.WriteFile(filepath.Join(whole, reproduce.BudgetFile), b, 0o644)
	if code, _, stderr := runCLI(t, context.Background(), append(base, "--out", whole)...); code != 0 {
		t.Fatalf("rerun with a budget check: exit %d, %s", code, stderr)
	}
	carries(whole, true)
	// Merged from the shard that holds it.
	os.WriteFile(filepath.Join(parts[1], reproduce.BudgetFile), b, 0o644)
	merged := filepath.Join(filepath.Dir(whole), "merged-budget")
	if code, _, stderr := runCLI(t, context.Background(), append([]string{"merge", "--out", merged}, parts...)...); code != 0 {
		t.Fatalf("merge with a budget check: exit %d, %s", code, stderr)
	}
	carries(merged, true)
	if kept, err := os.ReadFile(filepath.Join(merged, reproduce.BudgetFile)); err != nil || !bytes.Contains(kept, []byte(`"mean_ratio": 1.5`)) {
		t.Errorf("merged folder's %s: %v\n%s", reproduce.BudgetFile, err, kept)
	}
	// Shards that disagree are refused; a check of another preset is left out.
	os.WriteFile(filepath.Join(parts[0], reproduce.BudgetFile), []byte(strings.Replace(string(b), "1.5", "1.6", 1)), 0o644)
	if code, _, stderr := runCLI(t, context.Background(), append([]string{"merge", "--out", merged}, parts...)...); code == 0 || !strings.Contains(stderr, "different budget checks") {
		t.Errorf("merging shards with different budget checks: exit %d, %s", code, stderr)
	}
	os.WriteFile(filepath.Join(parts[0], reproduce.BudgetFile), bOther, 0o644)
	os.Remove(filepath.Join(parts[1], reproduce.BudgetFile))
	other2 := filepath.Join(filepath.Dir(whole), "merged-other")
	if code, _, stderr := runCLI(t, context.Background(), append([]string{"merge", "--out", other2}, parts...)...); code != 0 {
		t.Fatalf("merge with another preset's check: exit %d, %s", code, stderr)
	}
	carries(other2, false)
}

// must returns v, for calls whose error the test checks through v.
func must[T any](v T, _ error) T { return v }
