package reproduce

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
)

// perAttack gives a plan two attacks with counts of their own: L2 on the
// first 10 samples, L∞ on the first 5.
func perAttack(p Plan) Plan {
	p.Settings.Attacks = []string{"l2", "linf"}
	p.Settings = p.Settings.WithAttacked(map[string]int{"l2": 10, "linf": 5})
	return p
}

func TestPresetCounts(t *testing.T) {
	for _, c := range []struct {
		preset, attack string
		want           int
	}{
		{Quick, "l0", 5}, {Quick, "l2", 5}, {Quick, "linf", 5},
		{Standard, "l0", 104}, {Standard, "l2", 208}, {Standard, "linf", 208},
		{Full, "l0", MeasuredSamples}, {Full, "l2", MeasuredSamples}, {Full, "linf", MeasuredSamples},
	} {
		if got := AttackedSamples(c.preset, c.attack); got != c.want {
			t.Errorf("AttackedSamples(%q, %q) = %d, want %d", c.preset, c.attack, got, c.want)
		}
	}
}

// TestSettingsAttackCounts: per-attack counts round-trip through a samples
// file; a file written before them (one count for all attacks) still
// parses and means that count for every attack; Same compares each
// attack's count however it is written; bad counts are refused.
func TestSettingsAttackCounts(t *testing.T) {
	base := Settings{Dataset: "mnist", Preset: Standard, Samples: 10000, Attacks: []string{"l0", "l2", "linf"}, Seed: 1, Steps: 6}
	std := base.WithAttacked(map[string]int{"l0": 100, "l2": 200, "linf": 200})
	if std.AttackSamples != 200 || std.Attacked().Of("l0") != 100 || std.Attacked().Of("l2") != 200 || std.Attacked().Of("linf") != 200 {
		t.Fatalf("standard counts %+v", std)
	}
	one := base.WithAttacked(map[string]int{"l0": 200, "l2": 200, "linf": 200})
	if one.AttackSamples != 200 || one.AttackCounts != nil {
		t.Fatalf("one count for all is written as before per-attack counts: %+v", one)
	}
	const model = `"model":{"file":"mnist-T1-step0-teacher.safetensors","temperature":1,"step":0,"role":"teacher"}`
	old := `{"settings":{"dataset":"mnist","preset":"standard","samples":10000,"attack_samples":200,"attacks":["l0","l2","linf"],"max_iterations":0,"seed":1,"steps":6},` +
		`"shard":{"I":0,"N":1},` + model + `,"samples":[]}`
	sf, err := ParseSamplesFile([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range base.Attacks {
		if sf.Settings.Attacked().Of(a) != 200 {
			t.Errorf("old file: %s count %d, want 200", a, sf.Settings.Attacked().Of(a))
		}
	}
	// It was computed with the standard L0 budget of then (initial c
	// 0.1): the same as one count but for its L0 distances.
	if stale, ok := sf.Settings.Stale(one); !ok || !slices.Equal(stale, []string{"l0"}) || sf.Settings.Same(one) {
		t.Errorf("old file's settings against one count: stale %v, %v (want [l0], true)", stale, ok)
	}
	if _, ok := one.Stale(sf.Settings); !ok {
		t.Errorf("Stale is not symmetric in what it accepts")
	}
	if _, ok := sf.Settings.Stale(std); ok {
		t.Errorf("old file's settings: same but for parameters as the standard counts")
	}
	if !strings.Contains(sf.Settings.AttackParams["l0"], "InitialConst:0.1 ") || sf.Settings.AttackParams["l2"] != StandardConfigs().Params()["l2"] {
		t.Errorf("old file's parameters %v", sf.Settings.AttackParams)
	}
	// Written out and read back, the per-attack counts are kept.
	b, err := json.Marshal(SamplesFile{Settings: std, Shard: eval.Shard{I: 0, N: 1}, Model: sf.Model})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"attack_counts":{"l0":100,"l2":200,"linf":200}`) || !strings.Contains(string(b), `"attack_params":{"l0":"{MaxIterations:150 `) {
		t.Fatalf("written settings %s", b)
	}
	back, err := ParseSamplesFile(b)
	if err != nil || !back.Settings.Same(std) || back.Settings.Attacked().Of("l0") != 100 {
		t.Fatalf("read back %+v, %v", back.Settings, err)
	}
	for name, c := range map[string]struct {
		a, b Settings
		same bool
	}{
		"explicit equal counts": {one, func() Settings {
			s := one
			s.AttackCounts = map[string]int{"l0": 200, "l2": 200, "linf": 200}
			return s
		}(), true},
		"one attack's count":     {std, base.WithAttacked(map[string]int{"l0": 50, "l2": 200, "linf": 200}), false},
		"all counts":             {one, base.WithAttacked(map[string]int{"l0": 300, "l2": 300, "linf": 300}), false},
		"a count beyond the max": {std, func() Settings { s := std; s.AttackSamples, s.AttackCounts = 300, map[string]int{"l0": 100}; return s }(), false}, // l2, linf: 300
		"the same counts":        {std, base.WithAttacked(map[string]int{"linf": 200, "l0": 100, "l2": 200}), true},
	} {
		if c.a.Same(c.b) != c.same || c.b.Same(c.a) != c.same {
			t.Errorf("%s: Same %v, want %v", name, c.a.Same(c.b), c.same)
		}
	}
	for _, bad := range []string{`"attack_counts":{"l0":300}`, `"attack_counts":{"l0":-1}`, `"attack_counts":{"l1":10}`} {
		raw := strings.Replace(old, `"attacks":`, bad+`,"attacks":`, 1)
		if _, err := ParseSamplesFile([]byte(raw)); err == nil || !strings.Contains(err.Error(), "attack count") {
			t.Errorf("%s: %v, want an error on the attack count", bad, err)
		}
	}
}

// TestStandardEstimate: the estimate is the measured per-image times
// scaled to the run: 49 models of the standard counts take 443 s each,
// about 6.0 h, within the 8 hours the preset is sized for.
func TestStandardEstimate(t *testing.T) {
	set := Settings{Preset: Standard, Samples: MeasuredSamples, Attacks: []string{"l0", "l2", "linf"}}
	set = set.WithAttacked(map[string]int{"l0": 100, "l2": 200, "linf": 200})
	d, ok := StandardEstimate(set, "", 49, 1)
	if want := 49 * 443 * time.Second; !ok || d != want || d > 8*time.Hour {
		t.Fatalf("estimate %v, %v; want %v", d, ok, want)
	}
	if half, _ := StandardEstimate(set, "", 49, 2); half != d/2 {
		t.Errorf("one of two shards: %v, want %v", half, d/2)
	}
	small := set
	small.Samples, small.Attacks = 1000, []string{"l2"}
	small = small.WithAttacked(map[string]int{"l2": 10})
	if got, _ := StandardEstimate(small, "", 2, 1); got != time.Duration(2*(2.5+4.3)*float64(time.Second)) {
		t.Errorf("2 models, 10 L2 images, 1000 measured: %v", got)
	}
	if _, ok := StandardEstimate(Settings{Preset: Quick, Samples: 10}, "", 1, 1); ok {
		t.Error("an estimate for the quick preset, whose times were not measured")
	}
	// The preset's own counts (208, 208, 104: at least 200 and 100
	// correctly classified images for every shipped model) cost 459.72 s a
	// model, about 6.3 h.
	preset := Settings{Preset: Standard, Samples: MeasuredSamples, Attacks: []string{"l0", "l2", "linf"}}
	preset = preset.WithAttacked(map[string]int{"l0": AttackedSamples(Standard, "l0"), "l2": AttackedSamples(Standard, "l2"), "linf": AttackedSamples(Standard, "linf")})
	if got, _ := StandardEstimate(preset, "", 49, 1); got.Round(time.Second) != 22526*time.Second {
		t.Errorf("the preset's counts: %v, want 49 × 459.72 s", got)
	}
	// On a CPU without AVX-512 (the AVX2 kernels) the per-image times
	// measured there: 25 + 3.1·100 + 0.73·200 + 1.35·200 = 751 s a model,
	// about 10.2 h for 49, beyond the 8 hours the preset was sized for on
	// AVX-512 machines.
	avx2, _ := StandardEstimate(set, kernel.NameAVX2, 49, 1)
	if want := 49 * 751 * time.Second; avx2.Round(time.Second) != want {
		t.Errorf("AVX2 estimate %v, want %v", avx2, want)
	}
	if txt := EstimateText(set, kernel.NameAVX2, avx2, 49, 49, eval.Shard{I: 0, N: 1}); !strings.Contains(txt, "L2 0.73 s") || !strings.Contains(txt, "without AVX-512") || !strings.Contains(txt, "about 10.2 h") {
		t.Errorf("AVX2 estimate text: %s", txt)
	}
	txt := EstimateText(set, "", d, 49, 49, eval.Shard{I: 0, N: 1})
	for _, want := range []string{"about 6.0 h for 49 models", "l0 100, l2 200, linf 200", "2026-12-04", "L2 0.43 s", "2-core", "estimate"} {
		if !strings.Contains(txt, want) {
			t.Errorf("estimate text lacks %q: %s", want, txt)
		}
	}
}

// epochModels are memModels whose entries record epochs (by key(T, step)).
type epochModels struct {
	memModels
	epochs map[string]int
}

func (s epochModels) Model(t float64, step int) (*nn.Model, Model, error) {
	m, info, err := s.memModels.Model(t, step)
	info.Epochs = s.epochs[key(t, step)]
	return m, info, err
}

// TestMinEpochs: the models trained for fewer epochs than MinEpochs (or
// for an unknown number) are left out and named; the others are evaluated
// as without the limit, with the transfer to the whole chain; a chain of
// which only the teacher remains works.
func TestMinEpochs(t *testing.T) {
	mem := newMemModels(t, []float64{1, 5}, 1)
	models := epochModels{mem, map[string]int{key(1, 0): 50, key(1, 1): 50, key(5, 0): 50, key(5, 1): 10}}
	var lines []string
	plain := memPlan(mem, fstest.MapFS{}, &lines)
	plain.Models = models
	all, err := Run(context.Background(), plain)
	if err != nil || len(all) != 4 {
		t.Fatalf("without a limit: %d models, %v", len(all), err)
	}
	lines = nil
	files := fstest.MapFS{}
	p := memPlan(mem, files, &lines)
	p.Models, p.MinEpochs = models, 50
	got, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(files) != 3 {
		t.Fatalf("%d models evaluated, %d files, want 3", len(got), len(files))
	}
	const left = "T=5 assistant (bars-T5-step1-assistant.safetensors): not evaluated: trained for 10 epochs < 50"
	if count(lines, left) != 1 || count(lines, "model 3 of 3: T=5 teacher") != 1 || count(lines, "of 4") != 0 {
		t.Fatalf("log %q", lines)
	}
	for i, m := range got {
		want := all[i]
		m.Compute, want.Compute = Compute{}, Compute{} // the seconds differ between runs
		if a, b := mustJSON(t, m), mustJSON(t, want); a != b {
			t.Fatalf("%s: evaluated differently with the limit", m.Model.File)
		}
	}
	if got[2].Samples[0].Transfer == nil && all[2].Samples[0].Transfer != nil {
		t.Fatal("the teacher's transfer to the left-out assistant is not measured")
	}
	lo, err := p.LeftOut()
	if err != nil || len(lo) != 1 || lo[0].String() != left {
		t.Fatalf("LeftOut %v, %v", lo, err)
	}
	// Unknown epochs count as fewer.
	delete(models.epochs, key(1, 1))
	if lo, err := p.LeftOut(); err != nil || len(lo) != 2 || !strings.Contains(lo[0].Why, "unknown number of epochs, want at least 50") {
		t.Fatalf("LeftOut %v, %v", lo, err)
	}
}

// TestCachedOnly: a run of cached models only evaluates the models whose
// finished samples files hold its settings, exactly as the run that wrote
// them, and names the others (no file, or one whose attacks ran with other
// parameters) as not computed yet, computing and writing nothing; it
// refuses to measure transfer rates.
func TestCachedOnly(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	files := fstest.MapFS{}
	var lines []string
	all, err := Run(context.Background(), memPlan(models, files, &lines))
	if err != nil || len(all) != 4 {
		t.Fatalf("the full run: %d models, %v", len(all), err)
	}
	delete(files, SamplesPath(models.mustFile(t, 5, 1), eval.Shard{I: 0, N: 1}))
	before := maps.Clone(files)
	lines = nil
	p := memPlan(models, files, &lines)
	p.CachedOnly = true
	p.Write = func(path string, _ []byte) error { return fmt.Errorf("wrote %s", path) }
	p.Classifier = func(*nn.Model, int) (attack.Classifier, func()) { panic("a run of cached models only attacked") }
	got, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d models evaluated, want 3", len(got))
	}
	for i, m := range got {
		if a, b := mustJSON(t, m), mustJSON(t, all[i]); a != b {
			t.Fatalf("%s: differs from the run that computed it", m.Model.File)
		}
	}
	const left = "T=5 assistant (bars-T5-step1-assistant.safetensors): not evaluated: not computed yet: no finished samples file of this run's settings"
	if count(lines, left) != 1 || count(lines, "model 3 of 3: T=5 teacher: cached") != 1 || count(lines, "expected wall time") != 0 {
		t.Fatalf("log %q", lines)
	}
	if !maps.EqualFunc(files, before, func(a, b *fstest.MapFile) bool { return string(a.Data) == string(b.Data) }) {
		t.Fatal("the output folder changed")
	}
	// Other attack parameters: every file is stale, every model left out.
	p.Settings.MaxIterations = 7
	if got, err := Run(context.Background(), p); err != nil || len(got) != 0 {
		t.Fatalf("other parameters: %d models, %v", len(got), err)
	}
	if lo, err := p.LeftOut(); err != nil || len(lo) != 4 {
		t.Fatalf("LeftOut %v, %v", lo, err)
	}
	p.MeasureTransfer = true
	if _, err := Run(context.Background(), p); err == nil || !strings.Contains(err.Error(), "cannot measure transfer rates") {
		t.Fatalf("with MeasureTransfer: %v", err)
	}
}

// TestEstimateLogged: a standard run logs its expected wall time before
// the first model, counting only the models it computes.
func TestEstimateLogged(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	files := fstest.MapFS{}
	var lines []string
	p := memPlan(models, files, &lines)
	p.Settings.Preset, p.Settings.MaxIterations = Standard, 5
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// 4 models of 12 measured samples, 4 L2 images each: 4 × (0.03 + 1.72) s.
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "expected wall time: about 7 s for 4 models, with l2 4 attacked images each and 12 measured") {
		t.Fatalf("log %q", lines)
	}
	delete(files, SamplesPath(models.mustFile(t, 5, 1), p.Shard))
	lines = nil
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lines[0], "for the 1 of 4 models not cached") {
		t.Fatalf("log %q", lines)
	}
	// The time to go counts the models left to compute, not the cached ones.
	delete(files, SamplesPath(models.mustFile(t, 1, 0), p.Shard))
	delete(files, SamplesPath(models.mustFile(t, 5, 1), p.Shard))
	lines = nil
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if count(lines, "model 1 of 4: T=1 teacher: 12 samples evaluated") != 1 || count(lines, "(1 of the 2 to compute done;") != 1 ||
		count(lines, "model 4 of 4: T=5 assistant") != 1 || count(lines, "(2 of the 2 to compute done;") != 1 {
		t.Fatalf("log %q", lines)
	}
	want := time.Duration((MeasureSeconds*12.0/MeasuredSamples + 4*StandardSeconds("l2", "")) * float64(time.Second))
	if d, _ := StandardEstimate(p.Settings, "", 1, 1); math.Abs(float64(d-want)) > float64(time.Millisecond) {
		t.Fatalf("estimate %v, want %v", d, want)
	}

	// Once T=1's assistant is retrained, a run measuring transfer computes
	// the assistant and runs the teacher's L2 attacks again for its
	// transfer rate to it: the estimate counts both.
	models.hashes[key(1, 1)] = "retrained"
	p.MeasureTransfer = true
	lines = nil
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lines[0], "for the 1 of 4 models not cached") || len(lines) < 2 ||
		!strings.Contains(lines[1], "lack transfer rates to retrained models (l2 on 1 models)") {
		t.Fatalf("log %q", lines)
	}
}

func (s memModels) mustFile(t *testing.T, temp float64, step int) string {
	t.Helper()
	_, info, err := s.Model(temp, step)
	if err != nil {
		t.Fatal(err)
	}
	return info.File
}
