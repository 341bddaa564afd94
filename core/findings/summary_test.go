package findings

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/stats"
)

func testSummary(t *testing.T) Summary {
	t.Helper()
	w := world{n: 30, temps: []float64{1, 20}, steps: 3, noise: 0.1,
		shift: func(tt float64, s int) float64 { return 0.1 * float64(s) },
		wrong: func(float64, int) int { return 2 },
		fail:  func(tt float64, s, i int) bool { return s == 2 && i == 0 }}
	run := Run{Dataset: "mnist", Preset: "standard", Budget: "the paper's", Samples: 30, AttackSamples: 30, Attacks: []string{"l2"}, Seed: 3, Machine: "test", WallSeconds: 12}
	return NewSummary(Analyze(w.data()), run)
}

func TestNewSummary(t *testing.T) {
	s := testSummary(t)
	if s.Version != SummaryVersion || len(s.Models) != 8 || len(s.Claims) != 8 {
		t.Fatalf("version %d, %d models, %d claims", s.Version, len(s.Models), len(s.Claims))
	}
	m, ok := s.Model(20, 2)
	if !ok || m.Role != "student" || m.N != 30 || m.Accuracy != stats.Wilson(28, 30, stats.Level) {
		t.Fatalf("T=20 student: %+v", m)
	}
	if a := m.Attacks["l2"]; a.N != 28 || a.Successes != 27 || !a.Mean.CI.Contains(a.Mean.Value) {
		t.Errorf("T=20 student l2: %+v", a)
	}
	// Per T: the three chain differences in l2 and the two of accuracy
	// against the teacher, each once.
	count := map[string]int{}
	for _, d := range s.Differences {
		count[d.Quantity+" "+d.B+"−"+d.A]++
		if d.N == 0 || d.P < 0 || d.P > 1 {
			t.Errorf("difference %+v", d)
		}
	}
	for _, k := range []string{"l2 student−assistant", "l2 assistant−teacher", "l2 student−teacher", "accuracy assistant−teacher", "accuracy student−teacher"} {
		if count[k] != 2 {
			t.Errorf("%s: %d differences, want one per temperature (2); all: %v", k, count[k], count)
		}
	}
	if len(count) != 5 {
		t.Errorf("differences %v, want only the chain's", count)
	}
	// The censored student images are counted in its differences.
	for _, d := range s.Differences {
		if d.Quantity == "l2" && d.B == "student" && d.Censored != 1 {
			t.Errorf("%+v: want 1 censored pair", d)
		}
	}
	for _, c := range s.Claims {
		if c.Verdict != stats.NotResolved && len(c.Effects) == 0 {
			t.Errorf("%q: verdict %s with no effects", c.Claim, c.Verdict)
		}
	}
}

func TestReadSummary(t *testing.T) {
	s := testSummary(t)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	// NaN never equals itself: compare the encodings.
	if b2, _ := json.Marshal(got); string(b2) != string(b) {
		t.Errorf("round trip differs:\n%s\n%s", b, b2)
	}
	bad := []struct{ name, json, want string }{
		{"no version", `{"run":{}}`, "no version"},
		{"other version", `{"version":1}`, "version 1"},
		{"unknown field", `{"version":2,"extra":1}`, "unknown field"},
		{"not json", `{"version":2`, "summary"},
		{"bad temperature", `{"version":2,"models":[{"temperature":0,"step":0,"n":1}]}`, "T=0"},
		{"more successes than attacks", `{"version":2,"models":[{"temperature":1,"attacks":{"l2":{"n":1,"successes":2}}}]}`, "2 successes of 1"},
		{"unknown verdict", `{"version":2,"claims":[{"verdict":"probably"}]}`, "verdict"},
		{"negative untimed", `{"version":2,"run":{"untimed_models":-1}}`, "untimed"},
		{"more untimed than models", `{"version":2,"run":{"untimed_models":2},"models":[{"temperature":1}]}`, "2 untimed models of 1"},
		{"negative power n", `{"version":2,"power":[{"attack":"l2","n":-1}]}`, "n = -1"},
	}
	for _, c := range bad {
		if _, err := ReadSummary([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
}

func FuzzReadSummary(f *testing.F) {
	b, _ := json.Marshal(testSummary(&testing.T{}))
	f.Add(b)
	f.Add([]byte(`{"version":2,"models":[{"temperature":1e400}]}`))
	f.Add([]byte(`{"version":2,"models":[{"accuracy":{"value":null,"ci":{"lo":null,"hi":1}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadSummary(b)
		if err != nil {
			return
		}
		// What reads, encodes and reads again.
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("encoding a read summary: %v", err)
		}
		if _, err := ReadSummary(out); err != nil {
			t.Fatalf("a summary read, encoded, does not read again: %v\n%s", err, out)
		}
	})
}

// TestEffectTextVerdict checks that each effect of the README's table says
// its own verdict: a claim contradicted by one attack and supported by
// another shows both.
func TestEffectTextVerdict(t *testing.T) {
	cases := []struct {
		v    stats.Verdict
		want string
	}{
		{stats.Supported, "L0: step 2 − step 1: +5 [+3, +7], n = 100, p = 0.0010, detects ≥ 2: supported"},
		{stats.Contradicted, "L0: step 2 − step 1: +5 [+3, +7], n = 100, p = 0.0010, detects ≥ 2: contradicted"},
		{"", "L0: step 2 − step 1: +5 [+3, +7], n = 100, p = 0.0010, detects ≥ 2"},
	}
	for _, c := range cases {
		e := SummaryEffect{Label: "L0: step 2 − step 1", Quantity: "l0", N: 100, Mean: stats.Estimate{Value: 5, CI: stats.Interval{Lo: 3, Hi: 7}}, P: 0.001, MDE: 2, Verdict: c.v}
		if got := e.Text(); got != c.want {
			t.Errorf("verdict %q: %q, want %q", c.v, got, c.want)
		}
	}
}

func TestPText(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want string
	}{{0.5, "p = 0.5000"}, {0.00012, "p = 0.0001"}, {3.2e-9, "p = 3.2e-09"}, {0, "p < 1e-15"}, {1e-16, "p < 1e-15"}} {
		if got := PText(c.p); got != c.want {
			t.Errorf("PText(%g) = %q, want %q", c.p, got, c.want)
		}
	}
}
