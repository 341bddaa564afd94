package reproduce

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	hashes  map[string]string // a model's SHA-256 when set (a retrained one), else one from its key
}

func key(t float64, step int) string { return fmt.Sprintf("%g/%d", t, step) }

func newMemModels(t *testing.T, ts []float64, steps int) memModels {
	t.Helper()
	s := memModels{models: map[string]*nn.Model{}, missing: map[string]bool{}, hashes: map[string]string{}}
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
	hash := s.hashes[key(t, step)]
	if hash == "" {
		hash = "sha-" + key(t, step)
	}
	return m, Model{File: fmt.Sprintf("bars-T%g-step%d-%s.safetensors", t, step, catalog.Role(step)), Identity: catalog.Identity{Temperature: t, Step: step, Role: catalog.Role(step)}, SHA256: hash}, nil
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
		Remove: func(path string) error {
			delete(files, path)
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
	p := perAttack(memPlan(models, files, &lines))
	first, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 4 || len(files) != 4 || count(lines, "evaluated") != 4 || count(lines, "attack seconds per sample: l2 ") != 4 {
		t.Fatalf("%d models, %d files, log %q", len(first), len(files), lines)
	}
	attackedLInf := 0
	for _, m := range first {
		if m.Summary.Samples != 12 || m.Summary.Robustness["l2"].Attempts > 10 || m.Summary.Robustness["linf"].Attempts > 5 {
			t.Fatalf("summary %+v", m.Summary)
		}
		attackedLInf += m.Summary.Robustness["linf"].Attempts
	}
	if attackedLInf == 0 {
		t.Fatal("no model attacked with L∞: the per-attack counts are not tested")
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
		sp := perAttack(memPlan(models, sf, &l))
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
		if a, b := mustJSON(t, untimed(m)), mustJSON(t, untimed(byFile[m.Model.File])); a != b {
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

// untimed is m without what computing it took, which differs between runs.
func untimed(m Evaluated) Evaluated {
	m.Compute = Compute{}
	return m
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
	for i := range want {
		if a, b := mustJSON(t, untimed(want[i])), mustJSON(t, untimed(got[i])); a != b {
			t.Fatal("chunked and resumed results differ from one go")
		}
		if _, ok := files[p.path(PartialDir, want[i].Model.File)]; ok {
			t.Errorf("%s: the partial file stays after the model finished", want[i].Model.File)
		}
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

// TestBudgetCheckResumesByChunk: a budget check interrupted after its
// first write keeps a partial file of BudgetChunk images, however large the
// run's chunk, and resumes from it to the same check.
func TestBudgetCheckResumesByChunk(t *testing.T) {
	models := newMemModels(t, []float64{1, 40}, 2)
	var lines []string
	plan := func(files fstest.MapFS) Plan {
		p := memPlan(models, files, &lines)
		p.Test, p.Temperatures, p.Chunk = data.Bars(40, 16, 4), []float64{1, 40}, 50
		same := Configs(p.Settings)
		p.full = &same
		return p
	}
	want, err := CheckBudget(context.Background(), plan(fstest.MapFS{}), 12, BudgetModels())
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{}
	p := plan(files)
	write := p.Write
	p.Write = func(path string, b []byte) error {
		if err := write(path, b); err != nil {
			return err
		}
		return fmt.Errorf("killed after writing %s", path)
	}
	if _, err := CheckBudget(context.Background(), p, 12, BudgetModels()); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("interrupted check: %v", err)
	}
	var partial []string
	for name, f := range files {
		if strings.Contains(name, PartialDir) {
			partial = append(partial, name)
			sf, err := ParseSamplesFile(f.Data)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(sf.Samples); n == 0 || n > BudgetChunk {
				t.Errorf("%s keeps %d samples, want 1..%d", name, n, BudgetChunk)
			}
		}
	}
	if len(partial) != 1 {
		t.Fatalf("partial files %v after the first write, want one", partial)
	}
	p.Write = write
	got, err := CheckBudget(context.Background(), p, 12, BudgetModels())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, want.Ratios), mustJSON(t, got.Ratios); a != b {
		t.Errorf("resumed check %s, in one go %s", b, a)
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
	if !check.For(p.Settings) || check.For(Settings{Dataset: "bars", Preset: "full"}) {
		t.Errorf("check %+v is not for the settings it was made with", check)
	}
	if len(check.Ratios) != 1 || check.Ratios[0].Pairs == 0 || check.Ratios[0].Mean != 1 || check.Ratios[0].Lo != 1 || check.Ratios[0].Hi != 1 {
		t.Fatalf("ratios %+v", check.Ratios)
	}
	if count(lines, "budget check") != 6 || count(lines, "cached") != 0 {
		t.Fatalf("log %q", lines)
	}
	if len(check.ByModel) != 3 {
		t.Fatalf("per-model ratios %+v, want one set per model", check.ByModel)
	}
	for i, rs := range check.ByModel {
		if len(rs) != 1 || rs[0].Mean != 1 || rs[0].Pairs == 0 || rs[0].Pairs > check.Ratios[0].Pairs {
			t.Errorf("model %d: ratios %+v", i, rs)
		}
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
	// A preset that overstates one network's distances and not another's
	// says so model by model.
	uneven := BudgetCheck{Preset: "standard", Models: BudgetModels(), Ratios: []BudgetRatio{{Attack: "l0", Pairs: 6, Mean: 1.8, Lo: 1.5, Hi: 2.1}},
		ByModel: [][]BudgetRatio{{{Attack: "l0", Pairs: 2, Mean: 1, Lo: 1, Hi: 1}}, {{Attack: "l0", Pairs: 2, Mean: 2, Lo: 1.9, Hi: 2.1}}, {{Attack: "l0", Pairs: 2, Mean: 2.5, Lo: 2.2, Hi: 2.8}}}}
	if want := "By model: l0 T=1 step 0 ×1 [1, 1], T=40 step 0 ×2 [1.9, 2.1], T=40 step 2 ×2.5 [2.2, 2.8]."; !strings.Contains(uneven.Text(), want) {
		t.Errorf("text %q lacks %q", uneven.Text(), want)
	}
}

// TestTransferFollowsRetrainedModels: a samples file names the models its
// transfer rates were measured on; once one of them is retrained, a run
// that reuses the file drops the transfer entries to it (and says so)
// and keeps the rest, and a file that names none keeps no transfer.
func TestTransferFollowsRetrainedModels(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 2)
	files := fstest.MapFS{}
	var lines []string
	p := memPlan(models, files, &lines)
	p.Settings.Steps, p.Settings.AttackSamples = 2, 12
	first, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	teacher := first[0]
	if teacher.Model.Temperature != 1 || teacher.Model.Step != 0 || len(teacher.Summary.TransferRate) != 2 {
		t.Fatalf("first model %+v, %+v, transfer %v: want the T=1 teacher with rates to steps 1 and 2", teacher.Model.Identity, teacher.Summary.Robustness, teacher.Summary.TransferRate)
	}
	sf, err := ParseSamplesFile(files[p.path(SamplesDir, teacher.Model.File)].Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(sf.TransferModels) != 2 || sf.TransferModels[1] != "sha-1/1" || sf.TransferModels[2] != "sha-1/2" {
		t.Fatalf("transfer models %v", sf.TransferModels)
	}

	models.hashes[key(1, 2)] = "retrained"
	lines = nil
	again, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := again[0].Summary.TransferRate; len(got) != 1 || got[1] != teacher.Summary.TransferRate[1] {
		t.Errorf("after retraining step 2 the teacher's transfer rates are %v, want step 1's %v only", got, teacher.Summary.TransferRate[1])
	}
	if count(lines, strings.TrimSuffix(teacher.Model.File, ".safetensors")+".json: transfer rates to steps [2] dropped") != 1 {
		t.Errorf("log %q", lines)
	}
	if _, ok := again[1].Summary.TransferRate[2]; ok {
		t.Errorf("the assistant keeps its transfer rate to the retrained step 2")
	}
	for i, m := range again[:3] {
		if m.Model.Temperature != 1 {
			t.Fatalf("model %d: %+v", i, m.Model.Identity)
		}
	}
	if len(again[2].Summary.TransferRate) != 2 { // the retrained model, computed again
		t.Errorf("the retrained model's transfer rates %v", again[2].Summary.TransferRate)
	}
	for i := 3; i < len(again); i++ { // T=5: nothing changed
		if a, b := mustJSON(t, untimed(first[i])), mustJSON(t, untimed(again[i])); a != b {
			t.Errorf("T=5 %s changed", again[i].Model.Role)
		}
	}

	// With MeasureTransfer, the files that lack a transfer rate run their
	// L2 attacks again: the teacher and assistant of T=1 (to the retrained
	// step 2), their L2 distances unchanged, the rates measured as when
	// first computed (the teacher's to steps 1 and 2).
	lines = nil
	measure := p
	measure.MeasureTransfer = true
	full, err := Run(context.Background(), measure)
	if err != nil {
		t.Fatal(err)
	}
	if count(lines, "its L2 attacks run again to measure them") != 2 || count(lines, "no transfer rates to steps [2]") != 2 {
		t.Fatalf("log %q", lines)
	}
	for i := range 2 {
		if len(full[i].Summary.TransferRate) != len(first[i].Summary.TransferRate) || i == 0 && len(full[i].Summary.TransferRate) != 2 {
			t.Errorf("%s: transfer rates %v after measuring, %v when first computed", full[i].Model.Role, full[i].Summary.TransferRate, first[i].Summary.TransferRate)
		}
		if i == 0 && full[i].Summary.TransferRate[1] != again[i].Summary.TransferRate[1] {
			t.Errorf("teacher: its transfer rate to step 1 changed from %v to %v", again[i].Summary.TransferRate[1], full[i].Summary.TransferRate[1])
		}
		for k, smp := range full[i].Samples {
			if a, b := smp.Distance["l2"], again[i].Samples[k].Distance["l2"]; a != b && !(a != a && b != b) {
				t.Fatalf("%s sample %d: L2 %v, before %v: the attack again is not the same attack", full[i].Model.Role, smp.Index, a, b)
			}
		}
	}
	lines = nil
	if _, err := Run(context.Background(), measure); err != nil {
		t.Fatal(err)
	}
	if count(lines, "run again") != 0 || count(lines, "cached") != 6 {
		t.Fatalf("measured once, the next run computes again: %q", lines)
	}

	// A file that names no transfer models (written before they were
	// recorded) keeps no transfer entries.
	sf.TransferModels = nil
	if dropped := sf.KeepTransfer(map[int]string{1: "sha-1/1", 2: "sha-1/2"}); !slices.Equal(dropped, []int{1, 2}) {
		t.Errorf("dropped %v", dropped)
	}
	for _, s := range sf.Samples {
		if s.Transfer != nil {
			t.Fatalf("sample %d keeps transfer %v", s.Index, s.Transfer)
		}
	}
}

// TestCachedFilesGetLog10Amplitudes: a samples file from before log10
// amplitudes were measured is completed when reused, and rewritten with
// the values a fresh run measures; the rest of it stays.
func TestCachedFilesGetLog10Amplitudes(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	files := fstest.MapFS{}
	var lines []string
	p := memPlan(models, files, &lines)
	want, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	path := p.path(SamplesDir, want[0].Model.File)
	sf, err := ParseSamplesFile(files[path].Data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sf.Samples {
		if sf.Samples[i].Log10Amplitude == nil {
			t.Fatalf("a fresh run's sample %d has no log10 amplitude", i)
		}
		sf.Samples[i].Log10Amplitude = nil // as written before they were measured
	}
	files[path] = &fstest.MapFile{Data: []byte(mustJSON(t, sf))}
	lines = nil
	got, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if count(lines, "log10 gradient amplitudes of 12 samples measured") != 1 || count(lines, "cached") != 4 {
		t.Errorf("log %q", lines)
	}
	if a, b := mustJSON(t, untimed(want[0])), mustJSON(t, untimed(got[0])); a != b {
		t.Error("the completed file's samples differ from a fresh run's")
	}
	if again, _ := ParseSamplesFile(files[path].Data); again.Samples[0].Log10Amplitude == nil {
		t.Error("the completed file was not rewritten")
	}
	lines = nil
	if _, err := Run(context.Background(), p); err != nil || count(lines, "measured") != 0 {
		t.Errorf("a complete file was measured again: %q, %v", lines, err)
	}
}

// TestRunOverFewerTemperaturesSaysSo: a run over fewer temperatures than
// the samples files in its output folder says that its results leave the
// others out, naming them; a run over all of them says nothing.
func TestRunOverFewerTemperaturesSaysSo(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	files := fstest.MapFS{}
	var lines []string
	p := memPlan(models, files, &lines)
	p.CacheName = "out"
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if count(lines, "outside this run") != 0 {
		t.Fatalf("a run over every temperature warns: %q", lines)
	}
	lines = nil
	p.Temperatures = []float64{5}
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if count(lines, "out holds the samples files of 2 models outside this run (bars-T1-step0-teacher.json, bars-T1-step1-assistant.json)") != 1 {
		t.Fatalf("log %q", lines)
	}
}
