package main

import (
	"context"
	"encoding/json"
	"html"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/report"
)

func TestParseAttackCounts(t *testing.T) {
	for _, c := range []struct {
		in  string
		all int
		per map[string]int
		err string
	}{
		{"", 0, nil, ""},
		{"0", 0, nil, ""},
		{"300", 300, nil, ""},
		{"l0=100,l2=200", 0, map[string]int{"l0": 100, "l2": 200}, ""},
		{" l0 = 100 , 300 ", 300, map[string]int{"l0": 100}, ""},
		{"linf=7", 0, map[string]int{"linf": 7}, ""},
		{"-5", 0, nil, "is not a count"},
		{"+5", 0, nil, "is not a count"},
		{"l0=", 0, nil, "is not a count"},
		{"l0=x", 0, nil, "is not a count"},
		{"=5", 0, nil, "unknown attack"},
		{"l3=5", 0, nil, "unknown attack"},
		{"l0=100,,l2=1", 0, nil, "is not a count"},
		{"99999999999", 0, nil, "is not a count"},
		{"200,300", 0, nil, "two counts for every attack"},
		{"l0=1,l0=2", 0, nil, "l0 counted twice"},
		{"l0=0", 0, nil, "want at least 1"},
	} {
		got, err := parseAttackCounts(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--attack-samples") {
				t.Errorf("%q: %v, want an error with %q", c.in, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.in, err)
		case got.all != c.all || !maps.Equal(got.per, c.per) && len(got.per)+len(c.per) > 0:
			t.Errorf("%q: %+v, want all %d, per %v", c.in, got, c.all, c.per)
		}
	}
}

func TestAttackCountsOf(t *testing.T) {
	all := []string{"l0", "l2", "linf"}
	for _, c := range []struct {
		flag, preset string
		attacks      []string
		want         map[string]int
		err          string
	}{
		{"", "standard", all, map[string]int{"l0": 104, "l2": 208, "linf": 208}, ""},
		{"", "quick", all, map[string]int{"l0": 5, "l2": 5, "linf": 5}, ""},
		{"", "full", []string{"l2"}, map[string]int{"l2": 10000}, ""},
		{"300", "standard", all, map[string]int{"l0": 300, "l2": 300, "linf": 300}, ""},
		{"l0=50", "standard", all, map[string]int{"l0": 50, "l2": 208, "linf": 208}, ""},
		{"20,l2=3", "quick", all, map[string]int{"l0": 20, "l2": 3, "linf": 20}, ""},
		{"l0=50", "standard", []string{"l2"}, nil, "l0 is not among --attacks (l2)"},
	} {
		ac, err := parseAttackCounts(c.flag)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ac.of(c.preset, c.attacks)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q %s %v: %v, want %q", c.flag, c.preset, c.attacks, err, c.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("%q %s %v: %v, %v; want %v", c.flag, c.preset, c.attacks, got, err, c.want)
		}
	}
}

// FuzzParseAttackCounts: the parser never panics, and what it accepts is
// counts in range for known attacks, each named once.
func FuzzParseAttackCounts(f *testing.F) {
	for _, s := range []string{"", "200", "l0=100,l2=200", "300,l0=1", "l0=0", "l0=1,l0=1", "=", ",,", "linf=2147483647", "l2=2147483648"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseAttackCounts(v)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--attack-samples ") {
				t.Fatalf("%q: error %q does not name the flag", v, err)
			}
			return
		}
		if c.all < 0 {
			t.Fatalf("%q: count %d for every attack", v, c.all)
		}
		for a, n := range c.per {
			if a != "l0" && a != "l2" && a != "linf" || n < 1 {
				t.Fatalf("%q: accepted %s=%d", v, a, n)
			}
		}
		if _, err := c.of("standard", []string{"l0", "l2", "linf"}); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
	})
}

// TestReproduceMinEpochs: --min-epochs leaves out the models trained for
// fewer epochs, names them in the output and the report, and the report
// (figures, findings) is made from the others; a chain of which only the
// teacher remains works. A standard run says its expected wall time first.
func TestReproduceMinEpochs(t *testing.T) {
	models := tinyChains(t)
	man, err := catalog.Read(os.DirFS(models))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := man.Find("mnist", 5, 1)
	if !ok {
		t.Fatal("no T=5 assistant")
	}
	e.Epochs = 1
	man.Put(e)
	if err := modelfile.WriteManifest(models, man); err != nil {
		t.Fatal(err)
	}
	if _, meta, err := weights.Load(mustRead(t, filepath.Join(models, e.File)), nil); err != nil || meta.Epochs != 3 {
		t.Fatalf("the tiny model: %v, %d epochs (the test wants 3)", err, meta.Epochs)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, context.Background(), "reproduce", "--models", models, "--temperatures", "1,5", "--steps", "1", "--standard",
		"--samples", "16", "--attack-samples", "3", "--attacks", "l2", "--max-iterations", "20", "--min-epochs", "3", "--quiet", "--offline", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	const left = "T=5 assistant (mnist-T5-step1-assistant.safetensors): not evaluated: trained for 1 epochs < 3"
	if !strings.Contains(stdout, left) || !strings.Contains(stderr, left) || !strings.Contains(stderr, "model 3 of 3: T=5 teacher") {
		t.Fatalf("output does not name the model left out:\n%s\n%s", stdout, stderr)
	}
	// The estimate cites the per-image times measured on this CPU's kind
	// of kernels: AVX2-only CPUs (2026-12-07) or the others (2026-12-04).
	measured := "2026-12-04"
	if kernel.Default().Name() == kernel.NameAVX2 {
		measured = "2026-12-07"
	}
	if i := strings.Index(stderr, "expected wall time: about "); i < 0 || i > strings.Index(stderr, "model 1 of 3") ||
		!strings.Contains(stderr, "for 3 models, with l2 3 attacked images each and 16 measured") || !strings.Contains(stderr, measured) {
		t.Fatalf("no estimate before the first model:\n%s", stderr)
	}
	var res report.Results
	if err := json.Unmarshal(mustRead(t, filepath.Join(out, "results.json")), &res); err != nil || len(res.Models) != 3 ||
		len(res.NotEvaluated) != 1 || res.NotEvaluated[0] != left {
		t.Fatalf("results.json: %v, %d models, not evaluated %q", err, len(res.Models), res.NotEvaluated)
	}
	page := string(mustRead(t, filepath.Join(out, "report.html")))
	if !strings.Contains(page, html.EscapeString(left)) || !strings.Contains(page, `id="fig3-accuracy"`) || !strings.Contains(page, "Findings") {
		t.Fatal("report.html does not name the model left out or lacks its figures and findings")
	}
	if code, _, stderr := runCLI(t, context.Background(), "reproduce", "--models", models, "--train-missing", "--epochs", "2", "--min-epochs", "3", "--out", out); code != 2 ||
		!strings.Contains(stderr, "--epochs 2 < --min-epochs 3") {
		t.Fatalf("--epochs below --min-epochs: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, context.Background(), "reproduce", "--attack-samples", "l0=5", "--attacks", "l2", "--out", out); code != 2 ||
		!strings.Contains(stderr, "l0 is not among --attacks (l2)") {
		t.Fatalf("a count of an attack not run: exit %d, %q", code, stderr)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReproduceCached: --cached writes the results, report and summary
// over the models whose samples files are finished, names the others as
// not computed yet, keeps the interrupted model's partial file and the
// folder's budget check, and refuses the flags that compute.
func TestReproduceCached(t *testing.T) {
	models := tinyChains(t)
	out := filepath.Join(t.TempDir(), "out")
	common := []string{"reproduce", "--models", models, "--temperatures", "1,5", "--steps", "1", "--standard",
		"--samples", "16", "--attack-samples", "3", "--attacks", "l2", "--max-iterations", "20", "--quiet", "--offline", "--out", out}
	if code, stdout, stderr := runCLI(t, context.Background(), common...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	name := catalog.ModelName("mnist", 5, 1)
	samples := filepath.Join(out, "samples", strings.TrimSuffix(name, ".safetensors")+".json")
	partial := filepath.Join(out, "partial", filepath.Base(samples))
	if err := os.Rename(samples, partial); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, context.Background(), append(common, "--cached")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	left := "T=5 assistant (" + name + "): not evaluated: not computed yet: no finished samples file of this run's settings"
	if !strings.Contains(stdout, left) || strings.Contains(stderr, "expected wall time") {
		t.Fatalf("output:\n%s\n%s", stdout, stderr)
	}
	var res report.Results
	if err := json.Unmarshal(mustRead(t, filepath.Join(out, "results.json")), &res); err != nil || len(res.Models) != 3 ||
		len(res.NotEvaluated) != 1 || res.NotEvaluated[0] != left {
		t.Fatalf("results.json: %v, %d models, not evaluated %q", err, len(res.Models), res.NotEvaluated)
	}
	if _, err := os.Stat(samples); err == nil {
		t.Fatal("--cached computed the model left out")
	}
	if _, err := os.Stat(partial); err != nil {
		t.Fatalf("the partial file: %v", err)
	}
	for _, flag := range []string{"--budget", "--transfer", "--train-missing"} {
		if code, _, stderr := runCLI(t, context.Background(), append(common, "--cached", flag)...); code != 2 || !strings.Contains(stderr, "--cached computes no attack") {
			t.Fatalf("--cached %s: exit %d, %q", flag, code, stderr)
		}
	}
}
