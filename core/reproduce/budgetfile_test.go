package reproduce

import (
	"encoding/json"
	"slices"
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
		if ok && got.Text() != c.Text() {
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

// TestBudgetUneven: an attack is uneven when two models' by-model
// intervals do not overlap; a bias common to all models, ratios without
// pairs and checks without by-model ratios are not.
func TestBudgetUneven(t *testing.T) {
	ratio := func(atk string, pairs int, mean, lo, hi float64) BudgetRatio {
		return BudgetRatio{Attack: atk, Pairs: pairs, Mean: mean, Lo: lo, Hi: hi}
	}
	models := BudgetModels()
	tests := []struct {
		name    string
		byModel [][]BudgetRatio
		want    []string
		spread  string // of l0
	}{
		{"the shipped check", [][]BudgetRatio{
			{ratio("l0", 19, 0.999, 0.931, 1.07), ratio("linf", 20, 1.08, 1.06, 1.1)},
			{ratio("l0", 20, 2.05, 1.68, 2.46), ratio("linf", 20, 1.08, 1.05, 1.11)},
			{ratio("l0", 20, 2.57, 2.03, 3.19), ratio("linf", 19, 1.08, 1.05, 1.1)}},
			[]string{"l0"}, "×0.999 to ×2.57 between models"},
		{"overlapping", [][]BudgetRatio{
			{ratio("l0", 19, 1.2, 1, 1.4)}, {ratio("l0", 19, 1.5, 1.3, 1.7)}, {ratio("l0", 19, 1.3, 1.1, 1.5)}},
			nil, "×1.2 to ×1.5 between models"},
		{"a model without pairs", [][]BudgetRatio{
			{ratio("l0", 19, 1, 0.9, 1.1)}, {ratio("l0", 0, 0, 0, 0)}, {ratio("l0", 19, 1.05, 0.95, 1.15)}},
			nil, "×1 to ×1.05 between models"},
		{"no by-model ratios", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := BudgetCheck{Preset: Standard, Models: models, ByModel: tc.byModel,
				Ratios: []BudgetRatio{ratio("l0", 58, 1.5, 1.2, 1.8), ratio("linf", 59, 1.08, 1.06, 1.09)}}
			if got := c.Uneven(); !slices.Equal(got, tc.want) {
				t.Errorf("uneven %v, want %v", got, tc.want)
			}
			if got := c.Spread("l0"); got != tc.spread {
				t.Errorf("spread %q, want %q", got, tc.spread)
			}
			if got := c.Spread("linf"); tc.name == "the shipped check" && got != "×1.08 on each model" {
				t.Errorf("linf spread %q, want ×1.08 on each model", got)
			}
		})
	}
}
