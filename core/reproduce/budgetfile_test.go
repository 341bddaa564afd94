package reproduce

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

func testCheck() BudgetCheck {
	return BudgetCheck{Dataset: "mnist", Preset: "standard", MaxIterations: 0, Images: 20, Models: BudgetModels(), Ratios: []BudgetRatio{
		{Attack: "l0", Pairs: 50, Mean: 1.9, Lo: 1.7, Hi: 2.1, OnlyFull: 2},
		{Attack: "l2", Pairs: 55, Mean: 1.02, Lo: 1, Hi: 1.04},
		{Attack: "linf", Pairs: 0}}}
}

// TestBudgetFile: a budget check reads back from its file, is kept only
// for the settings it was made for, and a bad file is an error.
func TestBudgetFile(t *testing.T) {
	c := testCheck()
	if over := c.Over(); len(over) != 1 || over[0].Attack != "l0" {
		t.Errorf("over budget: %+v, want l0 only", over)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	set := Settings{Dataset: "mnist", Preset: "standard", Samples: 10000, AttackSamples: 200}
	cases := []struct {
		name   string
		files  fstest.MapFS
		set    Settings
		ok     bool
		errHas string
	}{
		{"none", fstest.MapFS{}, set, false, ""},
		{"same settings", fstest.MapFS{BudgetFile: {Data: b}}, set, true, ""},
		{"other preset", fstest.MapFS{BudgetFile: {Data: b}}, Settings{Dataset: "mnist", Preset: "quick"}, false, ""},
		{"other iteration cap", fstest.MapFS{BudgetFile: {Data: b}}, Settings{Dataset: "mnist", Preset: "standard", MaxIterations: 10}, false, ""},
		{"other dataset", fstest.MapFS{BudgetFile: {Data: b}}, Settings{Dataset: "cifar10", Preset: "standard"}, false, ""},
		{"not json", fstest.MapFS{BudgetFile: {Data: []byte("{")}}, set, false, "budget.json"},
		{"no preset", fstest.MapFS{BudgetFile: {Data: []byte(`{"dataset":"mnist"}`)}}, set, false, "preset"},
		{"negative pairs", fstest.MapFS{BudgetFile: {Data: []byte(`{"preset":"standard","Ratios":[{"attack":"l2","pairs":-1}]}`)}}, set, false, "ratio"},
	}
	// A check of the three attacks: one file from before the parameters
	// were recorded (made with the standard L0 budget of then), one that
	// records today's.
	three := set
	three.Attacks = []string{"l0", "l2", "linf"}
	withAttacks := c
	withAttacks.Attacks = three.Attacks
	legacy, err := json.Marshal(withAttacks)
	if err != nil {
		t.Fatal(err)
	}
	withAttacks.AttackParams = paramsOf(StandardConfigs(), three.Attacks)
	current, err := json.Marshal(withAttacks)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, []struct {
		name   string
		files  fstest.MapFS
		set    Settings
		ok     bool
		errHas string
	}{
		{"made with the L0 budget of before 2026-12-04", fstest.MapFS{BudgetFile: {Data: legacy}}, three, false, ""},
		{"made with today's parameters", fstest.MapFS{BudgetFile: {Data: current}}, three, true, ""},
	}...)
	if strings.Contains(string(legacy), "attack_params") || !strings.Contains(string(current), "attack_params") {
		t.Fatalf("files %s, %s", legacy, current)
	}
	for _, k := range cases {
		got, ok, err := LoadBudgetCheck(k.files, k.set)
		if k.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), k.errHas) {
				t.Errorf("%s: error %v, want one with %q", k.name, err, k.errHas)
			}
			continue
		}
		if err != nil || ok != k.ok {
			t.Errorf("%s: ok %v, error %v; want ok %v", k.name, ok, err, k.ok)
		}
		if ok && k.set.Attacks == nil && got.Text() != c.Text() {
			t.Errorf("%s: read %+v, wrote %+v", k.name, got, c)
		}
	}
}

func FuzzParseBudgetCheck(f *testing.F) {
	b, _ := json.Marshal(testCheck())
	f.Add(b)
	f.Add([]byte(`{"preset":"quick","Ratios":[{"attack":"l2","mean_ratio":1e400}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseBudgetCheck(b)
		if err != nil {
			return
		}
		// What parses has text and encodes, and reads back the same.
		_ = c.Text()
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("encoding a parsed check: %v", err)
		}
		c2, err := ParseBudgetCheck(out)
		if err != nil || c2.Text() != c.Text() {
			t.Fatalf("a parsed check does not read back: %v", err)
		}
	})
}

// TestBudgetBias: an attack's bias is uneven when two models' intervals
// do not overlap and their means differ by more than the slack, or when
// the preset never succeeds on a model where the full budget does; alike
// when the means lie within the slack and the intervals overlap; mixed
// otherwise; unknown without by-model ratios or with one model's.
func TestBudgetBias(t *testing.T) {
	ratio := func(pairs int, mean, lo, hi float64) BudgetRatio {
		return BudgetRatio{Attack: "l0", Pairs: pairs, Mean: mean, Lo: lo, Hi: hi}
	}
	tests := []struct {
		name    string
		byModel [][]BudgetRatio
		want    Bias
		spread  string
	}{
		{"the shipped L0", [][]BudgetRatio{{ratio(19, 0.999, 0.931, 1.07)}, {ratio(20, 2.05, 1.68, 2.46)}, {ratio(20, 2.57, 2.03, 3.19)}},
			BiasUneven, "×0.999 to ×2.57 between models; their 95% intervals do not overlap"},
		{"the shipped L∞", [][]BudgetRatio{{ratio(20, 1.08, 1.06, 1.1)}, {ratio(20, 1.08, 1.05, 1.11)}, {ratio(19, 1.08, 1.05, 1.1)}},
			BiasAlike, "×1.08 on each model"},
		{"disjoint but within the slack", [][]BudgetRatio{{ratio(20, 1.009, 1.004, 1.013)}, {ratio(20, 1.0, 0.994, 1.003)}, {ratio(20, 1.005, 1, 1.01)}},
			BiasMixed, "×1 to ×1.01 between models"},
		{"overlapping, means apart", [][]BudgetRatio{{ratio(19, 1.2, 1, 1.4)}, {ratio(19, 1.5, 1.3, 1.7)}, {ratio(19, 1.3, 1.1, 1.5)}},
			BiasMixed, "×1.2 to ×1.5 between models"},
		{"intervals touching", [][]BudgetRatio{{ratio(19, 1, 0.9, 1.2)}, {ratio(19, 1.4, 1.2, 1.6)}, {ratio(19, 1.1, 1, 1.2)}},
			BiasMixed, "×1 to ×1.4 between models"},
		{"the preset never succeeds on one model", [][]BudgetRatio{{ratio(19, 1, 0.9, 1.1)}, {{Attack: "l0", OnlyFull: 20}}, {ratio(19, 1.05, 0.95, 1.15)}},
			BiasUneven, "×1 to ×1.05 between models, and on one model the preset never succeeds where the full budget does"},
		{"no pairs on one model, nor success", [][]BudgetRatio{{ratio(19, 1, 0.9, 1.1)}, {ratio(0, 0, 0, 0)}, {ratio(19, 1.02, 0.95, 1.15)}},
			BiasAlike, "×1 to ×1.02 between models"},
		{"one model with pairs", [][]BudgetRatio{{ratio(19, 2, 1.8, 2.2)}, {ratio(0, 0, 0, 0)}, {ratio(0, 0, 0, 0)}}, BiasUnknown, ""},
		{"the attack not checked by model", [][]BudgetRatio{{{Attack: "l2", Pairs: 3}}, {}, {}}, BiasUnknown, ""},
		{"no by-model ratios", nil, BiasUnknown, ""},
		{"by-model ratios of fewer models than checked", [][]BudgetRatio{{ratio(19, 1, 0.9, 1.1)}, {ratio(19, 3, 2.9, 3.1)}}, BiasUnknown, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := BudgetCheck{Preset: Standard, Models: BudgetModels(), ByModel: tc.byModel}
			if bias, spread := c.Bias("l0"); bias != tc.want || spread != tc.spread {
				t.Errorf("bias %d %q, want %d %q", bias, spread, tc.want, tc.spread)
			}
		})
	}
}
