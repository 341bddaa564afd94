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
