package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"strings"

	"github.com/tadd-project/tadd/core/findings"
	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/core/stats"
	"github.com/tadd-project/tadd/native/safefile"
)

// ShippedDir is the results folder shipped beside the models, relative to
// the repository root: the standard-preset reproduction of the paper on
// the shipped MNIST models (pretrained/results/README.md describes it).
const ShippedDir = "pretrained/results/mnist-standard"

// Run is how r was computed, as a summary records it: the settings, and
// the machines and compute time its models' samples files record.
func (r Results) Run() findings.Run {
	var cs []reproduce.Compute
	for _, m := range r.Models {
		cs = append(cs, m.Compute)
	}
	secs, untimed, machines := reproduce.Provenance(cs)
	return findings.Run{Dataset: r.Dataset, Preset: r.Preset, Budget: r.Budget, MaxIterations: r.MaxIterations, Samples: r.Samples,
		AttackSamples: r.AttackSamples, Attacks: r.Attacks, Seed: r.Seed, Machine: machines, WallSeconds: secs, Untimed: untimed, AttackCounts: r.AttackCounts, NotEvaluated: r.NotEvaluated}
}

// ErrNoSummary says that a folder has no summary.json.
var ErrNoSummary = errors.New("no " + findings.SummaryFile)

// ReadSummary reads the summary.json of a results folder (as Write leaves
// it); a folder without one gives an error that wraps ErrNoSummary.
func ReadSummary(dir string) (findings.Summary, error) {
	path := filepath.Join(dir, findings.SummaryFile)
	b, err := safefile.Read(path, findings.MaxSummarySize)
	if errors.Is(err, fs.ErrNotExist) {
		return findings.Summary{}, fmt.Errorf("%s: %w (a folder written by tadd reproduce or tadd merge has one)", dir, ErrNoSummary)
	}
	if err != nil {
		return findings.Summary{}, err
	}
	s, err := findings.ReadSummary(b)
	if err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// est writes an estimate as "1.23 [1.10, 1.37]" (— when undefined).
func est(e stats.Estimate) string {
	if math.IsNaN(e.Value) {
		return "—"
	}
	return e.String()
}

// pct writes a share with its interval in percent.
func pct(e stats.Estimate) string {
	if math.IsNaN(e.Value) {
		return "—"
	}
	return fmt.Sprintf("%.2f%% [%.2f, %.2f]", 100*e.Value, 100*e.CI.Lo, 100*e.CI.Hi)
}

// runLine describes a run in one sentence.
func runLine(r findings.Run) string {
	s := fmt.Sprintf("%s, preset %s: %d test images per model, attacks (%s) on the correctly classified of the first %d", r.Dataset, r.Preset, r.Samples,
		strings.Join(r.Attacks, ", "), r.AttackSamples)
	s += fewerText(r.Attacks, r.AttackSamples, r.AttackCounts)
	if r.Budget != "" {
		s += " with " + r.Budget
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s + notEvaluatedText(r.NotEvaluated)
}

// notEvaluatedText says which models of the chains a run left out: each by
// name when there are few, else how many (summary.json and the report name
// them all).
func notEvaluatedText(names []string) string {
	switch n := len(names); {
	case n == 0:
		return ""
	case n <= 3:
		return " Not in these results yet: " + strings.Join(names, "; ") + "."
	default:
		return fmt.Sprintf(" %d models of the chains are not in these results yet (summary.json and the report name them, and why).", n)
	}
}

// WriteSummary prints a summary for a reader: the run, per temperature
// the accuracy and mean minimal perturbations of teacher, assistant and
// student with 95% intervals and n, the paired differences along each
// chain, and every claim's verdict with its effects.
func WriteSummary(w io.Writer, s findings.Summary) {
	fmt.Fprintln(w, runLine(s.Run))
	fmt.Fprintln(w, s.Run.Provenance(len(s.Models)))
	fmt.Fprintln(w, "\nPer model (95% intervals: Wilson for accuracy, bootstrap for the mean over successful attacks; n = successful / attacked):")
	for _, m := range s.Models {
		fmt.Fprintf(w, "  T=%-3g %-9s accuracy %s (n = %d)", m.Temperature, m.Role, pct(m.Accuracy), m.N)
		for _, a := range s.Run.Attacks {
			as, ok := m.Attacks[a]
			if !ok {
				continue
			}
			fmt.Fprintf(w, "; %s %s (n = %d/%d)", a, est(as.Mean), as.Successes, as.N)
		}
		fmt.Fprintln(w)
	}
	if len(s.Differences) > 0 {
		fmt.Fprintln(w, "\nPaired differences on the same images and goals (mean B − A, bootstrap 95% interval, Wilcoxon p; accuracy: McNemar p; detects ≥: the smallest difference found at 95% with 80% power):")
		for _, d := range s.Differences {
			v, lo, hi := d.Mean.Value, d.Mean.CI.Lo, d.Mean.CI.Hi
			if d.Quantity == "accuracy" {
				v, lo, hi = 100*v, 100*lo, 100*hi
			}
			line := fmt.Sprintf("  T=%-3g %-8s %s − %s: %+.3g [%+.3g, %+.3g], n = %d, %s", d.Temperature, d.Quantity, d.B, d.A, v, lo, hi, d.N, findings.PText(d.P))
			if d.Quantity == "accuracy" {
				line += " (percentage points)"
			}
			if d.Censored > 0 {
				line += fmt.Sprintf(", %d censored", d.Censored)
			}
			if m := float64(d.MDE); !math.IsNaN(m) {
				if d.Quantity == "accuracy" {
					m *= 100
				}
				line += fmt.Sprintf(", detects ≥ %.3g", m)
			}
			if d.Confound != "" {
				line += "; " + d.Confound
			}
			fmt.Fprintln(w, line)
		}
	}
	if lines := findings.PowerText(s.Power); len(lines) > 0 {
		fmt.Fprintln(w, "\nPower (\"detects ≥\": the smallest mean paired difference found at 95% with 80% power):")
		for _, l := range lines {
			fmt.Fprintln(w, "  "+l)
		}
	}
	fmt.Fprintln(w, "\nThe paper's claims:")
	for _, c := range s.Claims {
		fmt.Fprintf(w, "- %s: %s.\n", c.Claim, c.Verdict)
		for _, e := range c.Effects {
			fmt.Fprintf(w, "    %s\n", e.Text())
		}
		if c.Note != "" {
			fmt.Fprintf(w, "    %s\n", c.Note)
		}
	}
	if s.BudgetNote != "" {
		fmt.Fprintf(w, "  %s\n", s.BudgetNote)
	}
}

// NoShippedResults is what the README's findings table says while no
// results are shipped.
const NoShippedResults = "No summary is shipped yet: the standard-preset run over the shipped models has not finished (its per-model samples files are committed in `pretrained/results/mnist-standard/samples/` as they land), so this README states no measured answer to the paper's claims. `tadd reproduce` with `--quick` gives a quick look, which is not a result.\n"

// WriteFindingsTable writes the README's "What we found" table from a
// shipped summary: each of the paper's claims, our verdict at 95% and the
// pooled effects behind it, after a line saying what was run. With no
// summary (nil) it says that no results are shipped.
func WriteFindingsTable(w io.Writer, s *findings.Summary) {
	if s == nil {
		// The claims still stand in the table (Analyze states them even
		// without data), with nothing measured against them.
		fmt.Fprint(w, NoShippedResults+"\n")
		fmt.Fprintln(w, "| The paper claims | We find (95%) |")
		fmt.Fprintln(w, "|---|---|")
		for _, c := range findings.Analyze(findings.Data{}).Claims {
			fmt.Fprintf(w, "| %s | not measured yet |\n", strings.ReplaceAll(c.Claim, "|", "\\|"))
		}
		return
	}
	fmt.Fprintf(w, "Measured: %s %s Effects are mean paired differences (later − earlier model) with 95%% bootstrap intervals; p is Wilcoxon's (accuracy: McNemar's); \"detects ≥\" is the smallest difference the run detects at 95%% with 80%% power ((z₀.₉₇₅ + z₀.₈₀)·sd/√n).\n\n", runLine(s.Run), s.Run.Provenance(len(s.Models)))
	fmt.Fprintln(w, "| The paper claims | We find (95%) | Effect [95% interval], n, p |")
	fmt.Fprintln(w, "|---|---|---|")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	for _, c := range s.Claims {
		var es []string
		for _, e := range c.Effects {
			es = append(es, cell(e.Text()))
		}
		if len(es) == 0 {
			es = append(es, cell(c.Note))
		} else if len(es) > 3 {
			// Accuracy: one effect per distilled model; the table keeps
			// the lowest and says how many there are.
			worst := c.Effects[0]
			for _, e := range c.Effects {
				if e.Mean.Value < worst.Mean.Value {
					worst = e
				}
			}
			es = []string{cell(fmt.Sprintf("%d models compared; lowest %s", len(c.Effects), worst.Text()))}
		}
		if len(c.Effects) > 0 && c.Note != "" {
			es = append(es, "*"+cell(c.Note)+"*")
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", cell(c.Claim), c.Verdict, strings.Join(es, "<br>"))
	}
	if s.BudgetNote != "" {
		fmt.Fprintf(w, "\n**Budgets.** %s\n", s.BudgetNote)
	}
}
