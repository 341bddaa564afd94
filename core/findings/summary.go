package findings

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tadd-project/tadd/core/stats"
)

// SummaryVersion is the version of the summary format. A reader refuses
// other versions rather than misreading them.
const SummaryVersion = 2

// SummaryFile is the file name of a summary in a results folder.
const SummaryFile = "summary.json"

// Run describes how a reproduction was run: what a summary needs beyond
// the analysis.
type Run struct {
	Dataset       string   `json:"dataset"`
	Preset        string   `json:"preset"`         // "quick", "standard", "full"
	Budget        string   `json:"budget"`         // the attack budgets, in words
	MaxIterations int      `json:"max_iterations"` // the cap on iterations per constant (0: none)
	Samples       int      `json:"samples"`        // test images per model (accuracy, sensitivity, confidence)
	AttackSamples int      `json:"attack_samples"` // of those, the first this many were attacked (the correct ones)
	Attacks       []string `json:"attacks"`
	Seed          uint64   `json:"seed"`
	// Machine lists the machines the models were computed on, in words,
	// "; "-separated ("" unknown); WallSeconds is the wall time spent
	// computing them, summed over their samples files (over sessions and
	// shards), of all but Untimed models whose files do not record it
	// (files written before they did). WallSeconds 0: unknown.
	Machine     string  `json:"machine,omitempty"`
	WallSeconds float64 `json:"wall_seconds,omitempty"`
	Untimed     int     `json:"untimed_models,omitempty"`

	// AttackCounts, when it names an attack, says that it attacked only the
	// first AttackCounts[attack] (the standard preset: L0 104 of 208).
	AttackCounts map[string]int `json:"attack_counts,omitempty"`
	// NotEvaluated names the models of the chains the run left out (e.g.
	// by reproduce --min-epochs, until they are retrained), each with why.
	NotEvaluated []string `json:"not_evaluated,omitempty"`
}

// Summary is the small, versioned, machine-readable answer of a
// reproduction (summary.json): per model the accuracy and mean minimal
// perturbations with their intervals and n, the paired differences along
// each chain, every claim's verdict with its effects, and the run's power
// (each difference's and effect's minimal detectable effect, and Power for
// student − assistant per attack). It is what is
// shipped and shown (the README table, the web page) without the
// per-sample data.
type Summary struct {
	Version     int            `json:"version"`
	Run         Run            `json:"run"`
	Models      []SummaryModel `json:"models"`
	Differences []Difference   `json:"differences"`
	Claims      []SummaryClaim `json:"claims"`
	Power       []Power        `json:"power"`
	// BudgetNote is Result.BudgetNote: what the budget check means for
	// the robustness claims, said once.
	BudgetNote string `json:"budget_note,omitempty"`
}

// SummaryModel is one model's numbers.
type SummaryModel struct {
	Temperature float64                  `json:"temperature"`
	Step        int                      `json:"step"`
	Role        string                   `json:"role"`
	Epochs      int                      `json:"epochs,omitempty"`
	N           int                      `json:"n"`        // evaluated test images
	Accuracy    stats.Estimate           `json:"accuracy"` // Wilson 95% interval
	Attacks     map[string]AttackSummary `json:"attacks"`
}

// AttackSummary is one model's minimal perturbations under one attack.
type AttackSummary struct {
	N         int            `json:"n"`         // attacked images
	Successes int            `json:"successes"` // images the attack fooled
	Success   stats.Estimate `json:"success"`   // success rate, Wilson 95% interval
	Mean      stats.Estimate `json:"mean"`      // mean over successes, bootstrap 95% interval
}

// Difference is a paired difference B − A of two models of the same
// chain (student − assistant, assistant − teacher, student − teacher) in
// an attack's distance or in accuracy, on the same images and goals.
type Difference struct {
	Temperature float64        `json:"temperature"`
	Quantity    string         `json:"quantity"` // an attack, or "accuracy"
	A           string         `json:"a"`        // a role: "teacher"
	B           string         `json:"b"`        // a role: "student"
	N           int            `json:"n"`        // pairs
	Mean        stats.Estimate `json:"mean"`     // mean of B − A, bootstrap 95% interval
	P           float64        `json:"p"`        // Wilcoxon signed-rank (accuracy: McNemar), two-sided
	Censored    int            `json:"censored"` // pairs with a failed attack, counted at the budget
	MDE         stats.Number   `json:"mde"`      // the smallest mean difference detected at 95% with 80% power (stats.MinDetectable)
	Confound    string         `json:"confound,omitempty"`
}

// SummaryClaim is one of the paper's claims and its verdict.
type SummaryClaim struct {
	Claim   string          `json:"claim"`
	Verdict stats.Verdict   `json:"verdict"`
	Effects []SummaryEffect `json:"effects"`
	Note    string          `json:"note,omitempty"`
}

// SummaryEffect is one pooled comparison behind a verdict.
type SummaryEffect struct {
	Label    string         `json:"label"`
	Quantity string         `json:"quantity"`
	N        int            `json:"n"`
	Mean     stats.Estimate `json:"mean"` // mean paired difference, bootstrap 95% interval
	P        float64        `json:"p"`
	Censored int            `json:"censored"`
	MDE      stats.Number   `json:"mde"` // the smallest mean difference detected at 95% with 80% power
	Verdict  stats.Verdict  `json:"verdict"`
	// Excluded says why the effect decides nothing whatever its verdict
	// (Effect.Excluded); "" when it decides.
	Excluded string `json:"excluded,omitempty"`
}

// chainPairs are the paired differences a summary keeps for each chain:
// (A step, B step).
var chainPairs = [][2]int{{1, 2}, {0, 1}, {0, 2}}

// NewSummary condenses an analysis and how its run was made.
func NewSummary(r Result, run Run) Summary {
	s := Summary{Version: SummaryVersion, Run: run, Models: []SummaryModel{}, Differences: []Difference{}, Claims: []SummaryClaim{}, Power: r.Power, BudgetNote: r.BudgetNote}
	if s.Power == nil {
		s.Power = []Power{}
	}
	attacked := map[Key]map[string]AttackSummary{}
	for _, st := range r.Stats {
		k := Key{st.Temperature, st.Step}
		if attacked[k] == nil {
			attacked[k] = map[string]AttackSummary{}
		}
		attacked[k][st.Attack] = AttackSummary{N: st.Summary.N, Successes: st.Summary.Successes, Success: st.Summary.Success, Mean: st.Summary.Mean}
	}
	role := map[Key]string{}
	for _, m := range r.Models {
		k := Key{m.Temperature, m.Step}
		role[k] = m.Role
		as := attacked[k]
		if as == nil {
			as = map[string]AttackSummary{}
		}
		s.Models = append(s.Models, SummaryModel{Temperature: m.Temperature, Step: m.Step, Role: m.Role, Epochs: m.Epochs, N: m.N, Accuracy: m.Accuracy, Attacks: as})
	}
	seen := map[string]bool{}
	for _, c := range r.Claims {
		for _, p := range c.Detail {
			if p.KeyA.Temperature != p.KeyB.Temperature || !slices.Contains(chainPairs, [2]int{p.KeyA.Step, p.KeyB.Step}) ||
				(p.Quantity != "accuracy" && !slices.Contains(run.Attacks, p.Quantity)) {
				continue
			}
			id := fmt.Sprintf("%g %s %d %d", p.KeyA.Temperature, p.Quantity, p.KeyA.Step, p.KeyB.Step)
			if seen[id] {
				continue
			}
			seen[id] = true
			d := Difference{Temperature: p.KeyA.Temperature, Quantity: p.Quantity, A: role[p.KeyA], B: role[p.KeyB], N: p.N, Mean: p.MeanDiff,
				P: p.P, Censored: p.Censored, MDE: p.MDE, Confound: p.Confound}
			if p.McNemarP != nil {
				d.P = *p.McNemarP
			}
			s.Differences = append(s.Differences, d)
		}
		sc := SummaryClaim{Claim: c.Claim, Verdict: c.Verdict, Note: c.Note, Effects: []SummaryEffect{}}
		for _, e := range c.Effects {
			sc.Effects = append(sc.Effects, SummaryEffect{Label: e.Label, Quantity: e.Quantity, N: e.N, Mean: e.MeanDiff, P: e.P, Censored: e.Censored, MDE: e.MDE, Verdict: e.Verdict, Excluded: e.Excluded})
		}
		s.Claims = append(s.Claims, sc)
	}
	slices.SortStableFunc(s.Differences, func(x, y Difference) int {
		if x.Temperature != y.Temperature {
			return cmp.Compare(x.Temperature, y.Temperature)
		}
		return cmp.Compare(x.Quantity, y.Quantity)
	})
	return s
}

// MaxSummarySize bounds a summary file: that of 49 models with two
// attacks takes about 100 kB, indented.
const MaxSummarySize = 4 << 20

// ReadSummary decodes a summary and checks it: its version, and numbers a
// reader relies on (finite temperatures, non-negative steps and counts,
// no more untimed models than models, known verdicts).
func ReadSummary(b []byte) (Summary, error) {
	var s Summary
	if len(b) > MaxSummarySize {
		return s, fmt.Errorf("summary: %d bytes, more than %d", len(b), MaxSummarySize)
	}
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return s, fmt.Errorf("summary: %w", err)
	}
	if v.Version == nil {
		return s, errors.New("summary: no version")
	}
	if *v.Version != SummaryVersion {
		return s, fmt.Errorf("summary: version %d, this tadd reads version %d", *v.Version, SummaryVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("summary: %w", err)
	}
	if s.Run.Untimed < 0 || s.Run.WallSeconds < 0 {
		return s, fmt.Errorf("summary: run: %g wall seconds, %d untimed models", s.Run.WallSeconds, s.Run.Untimed)
	}
	if s.Run.Untimed > len(s.Models) {
		return s, fmt.Errorf("summary: run: %d untimed models of %d", s.Run.Untimed, len(s.Models))
	}
	for i, m := range s.Models {
		if math.IsNaN(m.Temperature) || math.IsInf(m.Temperature, 0) || m.Temperature <= 0 || m.Step < 0 || m.N < 0 {
			return s, fmt.Errorf("summary: model %d: T=%g step %d, n = %d", i, m.Temperature, m.Step, m.N)
		}
		for a, as := range m.Attacks {
			if as.N < 0 || as.Successes < 0 || as.Successes > as.N {
				return s, fmt.Errorf("summary: model %d, %s: %d successes of %d", i, a, as.Successes, as.N)
			}
		}
	}
	for i, p := range s.Power {
		if p.N < 0 {
			return s, fmt.Errorf("summary: power %d (%s): n = %d", i, p.Attack, p.N)
		}
		for _, at := range p.PerT {
			if at.N < 0 {
				return s, fmt.Errorf("summary: power %d (%s) at T=%g: n = %d", i, p.Attack, at.Temperature, at.N)
			}
		}
	}
	for i, c := range s.Claims {
		if !knownVerdict(c.Verdict) {
			return s, fmt.Errorf("summary: claim %d: verdict %q", i, c.Verdict)
		}
		for _, e := range c.Effects {
			if !knownVerdict(e.Verdict) {
				return s, fmt.Errorf("summary: claim %d: effect %q: verdict %q", i, e.Label, e.Verdict)
			}
		}
	}
	return s, nil
}

func knownVerdict(v stats.Verdict) bool {
	return v == stats.Supported || v == stats.Contradicted || v == stats.NotResolved
}

// Model returns the summary of the model at temperature t and step.
func (s Summary) Model(t float64, step int) (SummaryModel, bool) {
	for _, m := range s.Models {
		if m.Temperature == t && m.Step == step {
			return m, true
		}
	}
	return SummaryModel{}, false
}

// Temperatures lists the summary's temperatures in increasing order.
func (s Summary) Temperatures() []float64 {
	var ts []float64
	for _, m := range s.Models {
		if !slices.Contains(ts, m.Temperature) {
			ts = append(ts, m.Temperature)
		}
	}
	slices.Sort(ts)
	return ts
}

// Text writes one effect: "L2: step 2 − step 1, all T pooled: +0.12
// [+0.05, +0.20], n = 1400, p = 0.0010, detects ≥ 0.05: supported" (the
// interval is the mean paired difference's; accuracy in percentage points).
func (e SummaryEffect) Text() string {
	v, lo, hi, unit := e.Mean.Value, e.Mean.CI.Lo, e.Mean.CI.Hi, ""
	if e.Quantity == "accuracy" {
		v, lo, hi, unit = 100*v, 100*lo, 100*hi, " pp"
	}
	if math.IsNaN(v) {
		return fmt.Sprintf("%s: no pairs", e.Label)
	}
	s := fmt.Sprintf("%s: %+.3g%s [%+.3g, %+.3g], n = %d, %s", e.Label, v, unit, lo, hi, e.N, PText(e.P))
	if e.Censored > 0 {
		s += fmt.Sprintf(", %d censored", e.Censored)
	}
	if m := float64(e.MDE); !math.IsNaN(m) {
		if e.Quantity == "accuracy" {
			m *= 100
		}
		s += fmt.Sprintf(", detects ≥ %.3g%s", m, unit)
	}
	if e.Verdict != "" {
		s += ": " + string(e.Verdict)
	}
	if e.Excluded != "" {
		s += ", but " + e.Excluded
	}
	return s
}
