package reproduce

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/nn"
)

// memModels is a store of untrained tiny models in memory; missing lists
// the (T, step) it lacks.
type memModels struct {
	models  map[string]*nn.Model
	missing map[string]bool
}

func key(t float64, step int) string { return fmt.Sprintf("%g/%d", t, step) }

func newMemModels(t *testing.T, ts []float64, steps int) memModels {
	t.Helper()
	s := memModels{models: map[string]*nn.Model{}, missing: map[string]bool{}}
	for i, temp := range ts {
		for step := 0; step <= steps; step++ {
			m, err := nn.New(nn.TinyArchFor(nn.Shape{H: 16, W: 16, C: 1}), nil)
			if err != nil {
				t.Fatal(err)
			}
			m.Init(uint64(10*i + step + 1))
			s.models[key(temp, step)] = m
		}
	}
	return s
}

func (s memModels) Model(t float64, step int) (*nn.Model, Model, error) {
	m, ok := s.models[key(t, step)]
	if !ok || s.missing[key(t, step)] {
		return nil, Model{}, distill.ErrMissing
	}
	return m, Model{File: fmt.Sprintf("bars-T%g-step%d-%s.safetensors", t, step, catalog.Role(step)), Identity: catalog.Identity{Temperature: t, Step: step, Role: catalog.Role(step)}}, nil
}

func (s memModels) Trainer(float64, int) (distill.Store, nn.Arch, error) {
	return nil, nn.Arch{}, fmt.Errorf("memModels trains nothing")
}

// memPlan is a plan over models that writes into files and logs into lines.
func memPlan(models memModels, files fstest.MapFS, lines *[]string) Plan {
	return Plan{
		Settings:     Settings{Dataset: "bars", Preset: "quick", Samples: 12, AttackSamples: 4, Attacks: []string{"l2"}, MaxIterations: 20, Seed: 3, Steps: 1},
		Temperatures: []float64{1, 5},
		Shard:        eval.Shard{I: 0, N: 1},
		Models:       models,
		ModelsName:   "memory",
		Test:         data.Bars(12, 16, 4),
		Workers:      1,
		Cache:        files,
		Write: func(path string, b []byte) error {
			files[path] = &fstest.MapFile{Data: append([]byte(nil), b...)}
			return nil
		},
		Log: func(l string) { *lines = append(*lines, l) },
	}
}

func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// TestRunCachesResumesAndShards: a run writes one samples file per model;
// a run over a folder that holds them reuses each (the resume from
// shipped per-sample results), other settings recompute, and two shards
// merged give exactly the single run's samples.
func TestRunCachesResumesAndShards(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	files := fstest.MapFS{}
	var lines []string
	p := memPlan(models, files, &lines)
	first, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 4 || len(files) != 4 || count(lines, "evaluated") != 4 || count(lines, "attack seconds per sample: l2 ") != 4 {
		t.Fatalf("%d models, %d files, log %q", len(first), len(files), lines)
	}
	if first[0].Summary.Samples != 12 || first[0].Summary.Robustness["l2"].Attempts > 4 {
		t.Fatalf("summary %+v", first[0].Summary)
	}

	// Again over the folder: every model from its file.
	lines = nil
	again, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if count(lines, "cached") != 4 || count(lines, "evaluated") != 0 {
		t.Fatalf("rerun log %q", lines)
	}
	if a, b := mustJSON(t, first), mustJSON(t, again); a != b {
		t.Fatal("cached results differ from the computed ones")
	}

	// One model's file missing (an interrupted run): only it is computed.
	delete(files, SamplesPath(first[2].Model.File, p.Shard))
	lines = nil
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if count(lines, "cached") != 3 || count(lines, "evaluated") != 1 {
		t.Fatalf("resumed log %q", lines)
	}

	// Other settings are not served from the cache.
	other := p
	other.Settings.Seed = 4
	lines = nil
	if _, err := Run(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if count(lines, "cached") != 0 || count(lines, "evaluated") != 4 {
		t.Fatalf("other settings log %q", lines)
	}

	// Two shards, merged, are the single run.
	var shardFiles []SamplesFile
	for i := range 2 {
		sf := fstest.MapFS{}
		var l []string
		sp := memPlan(models, sf, &l)
		sp.Shard = eval.Shard{I: i, N: 2}
		if _, err := Run(context.Background(), sp); err != nil {
			t.Fatal(err)
		}
		for name, f := range sf {
			if !strings.Contains(name, fmt.Sprintf(".shard-%d-of-2", i)) {
				t.Fatalf("shard %d wrote %s", i, name)
			}
			s, err := ParseSamplesFile(f.Data)
			if err != nil {
				t.Fatal(err)
			}
			shardFiles = append(shardFiles, s)
		}
	}
	set, merged, err := Merge(shardFiles)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Same(p.Settings) || len(merged) != 4 {
		t.Fatalf("merged settings %+v, %d models", set, len(merged))
	}
	byFile := map[string]Evaluated{}
	for _, m := range merged {
		byFile[m.Model.File] = m
	}
	for _, m := range first {
		if a, b := mustJSON(t, m), mustJSON(t, byFile[m.Model.File]); a != b {
			t.Fatalf("%s: merged shards differ from the single run", m.Model.File)
		}
	}
}

// TestRunNeedsCompleteChains: a chain with a gap is an error naming the
// fix unless the plan trains the missing models.
func TestRunNeedsCompleteChains(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	models.missing[key(5, 1)] = true
	var lines []string
	p := memPlan(models, fstest.MapFS{}, &lines)
	p.TrainInto, p.Epochs = "the training folder", 3
	_, err := Run(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "T=5: the chain of 1 steps is incomplete in memory") || !strings.Contains(err.Error(), "--train-missing") {
		t.Fatalf("error %v", err)
	}
	if len(lines) != 0 {
		t.Fatalf("evaluated before the chains were complete: %q", lines)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestChunksResumeBySample: a model computed in chunks gives the samples
// of one go; interrupted after its first chunks it resumes from its
// partial file, attacking only the rest.
func TestChunksResumeBySample(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	var lines []string
	whole := memPlan(models, fstest.MapFS{}, &lines)
	whole.Settings.AttackSamples = 12
	want, err := Run(context.Background(), whole)
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{}
	p := memPlan(models, files, &lines)
	p.Settings.AttackSamples, p.Chunk = 12, 3
	attacks := 0
	p.Attack = func(float64, string, eval.Progress) { attacks++ }
	writes := 0
	write := p.Write
	p.Write = func(path string, b []byte) error {
		if writes++; writes > 2 { // the first model's first two chunks
			return fmt.Errorf("killed")
		}
		return write(path, b)
	}
	if _, err := Run(context.Background(), p); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, ok := files[p.path(PartialDir, want[0].Model.File)]; !ok {
		t.Fatalf("no partial file among %v", files)
	}
	p.Write = write
	attacks = 0
	got, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, want), mustJSON(t, got); a != b {
		t.Fatal("chunked and resumed results differ from one go")
	}
	// Resumed: the first model's two finished chunks are not attacked again.
	full := 0
	for _, m := range want {
		for _, s := range m.Samples {
			if s.Correct {
				full++
			}
		}
	}
	if attacks >= full {
		t.Fatalf("the resumed run attacked %d samples, a run from scratch %d", attacks, full)
	}
}

// TestBudgetCheck: with the same parameters as the reference, every ratio
// is 1; the check's runs are cached; a preset above the slack says so.
func TestBudgetCheck(t *testing.T) {
	models := newMemModels(t, []float64{1, 40}, 2)
	files := fstest.MapFS{}
	var lines []string
	p := memPlan(models, files, &lines)
	p.Test, p.Temperatures = data.Bars(40, 16, 4), []float64{1, 40}
	same := Configs(p.Settings)
	p.full = &same
	check, err := CheckBudget(context.Background(), p, 40, BudgetModels())
	if err != nil {
		t.Fatal(err)
	}
	if len(check.Ratios) != 1 || check.Ratios[0].Pairs == 0 || check.Ratios[0].Mean != 1 || check.Ratios[0].Lo != 1 || check.Ratios[0].Hi != 1 {
		t.Fatalf("ratios %+v", check.Ratios)
	}
	if count(lines, "budget check") != 6 || count(lines, "cached") != 0 {
		t.Fatalf("log %q", lines)
	}
	if txt := check.Text(); !strings.Contains(txt, "T=40 step 2") || strings.Contains(txt, "overstate") {
		t.Fatalf("text %q", txt)
	}
	lines = nil
	if _, err := CheckBudget(context.Background(), p, 40, BudgetModels()); err != nil {
		t.Fatal(err)
	}
	if count(lines, "cached") != 6 {
		t.Fatalf("rerun log %q", lines)
	}
	for _, c := range []struct {
		mean  float64
		above bool
	}{{1, false}, {1.05, false}, {1.051, true}, {2, true}, {0.9, false}} {
		r := BudgetRatio{Attack: "l2", Pairs: 3, Mean: c.mean}
		if r.Above() != c.above || strings.Contains(BudgetCheck{Preset: "quick", Ratios: []BudgetRatio{r}}.Text(), "overstate") != c.above {
			t.Errorf("mean ratio %g: above %v", c.mean, r.Above())
		}
	}
}
