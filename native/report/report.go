// Package report writes the results of `tadd reproduce`: every figure of
// the seed paper as PNG and SVG (gonum.org/v1/plot), the raw numbers as CSV
// and JSON, an attack-transferability table, and one self-contained HTML
// report with a short text of the findings, computed from the data.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/findings"
	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/core/stats"
)

// Model is one evaluated model.
type Model struct {
	File        string       `json:"file"`
	Temperature float64      `json:"temperature"`
	Step        int          `json:"step"`
	Role        string       `json:"role"`
	Epochs      int          `json:"epochs"` // epochs the model was trained (0: unknown)
	Summary     eval.Summary `json:"summary"`
	// Samples are the per-sample results the summary was computed from
	// (kept in the samples files, not in results.json): the paired
	// comparisons of the findings need them.
	Samples []eval.Sample `json:"-"`
}

// Results is everything a reproduction measured.
type Results struct {
	Dataset       string   `json:"dataset"`
	Preset        string   `json:"preset"` // "quick" or "full"
	Samples       int      `json:"samples"`
	AttackSamples int      `json:"attack_samples"`
	Attacks       []string `json:"attacks"`
	Budget        string   `json:"budget"`         // the attack budget, in words
	MaxIterations int      `json:"max_iterations"` // the cap on iterations per constant (0: none)
	Pixels        int      `json:"pixels"`         // values per image: where failed attacks are censored
	Seed          uint64   `json:"seed"`           // of the attacks' random targets and of the bootstrap
	Models        []Model  `json:"models"`
	// BudgetCheck, when the run made one, compares the preset's distances
	// with the paper's parameters' (also in words in Budget).
	BudgetCheck *reproduce.BudgetCheck `json:"budget_check,omitempty"`
}

// Analysis is the statistical analysis of the per-sample results (package
// findings); ok is false when some model has none.
func (r Results) Analysis() (findings.Result, bool) {
	d := findings.Data{Attacks: r.Attacks, AttackSamples: r.AttackSamples, Pixels: r.Pixels, Seed: r.Seed}
	for _, m := range r.Models {
		if len(m.Samples) == 0 {
			return findings.Result{}, false
		}
		d.Models = append(d.Models, findings.Model{Temperature: m.Temperature, Step: m.Step, Role: m.Role, Epochs: m.Epochs, Samples: m.Samples})
	}
	return findings.Analyze(d), len(d.Models) > 0
}

func (r *Results) sort() {
	sort.Slice(r.Models, func(i, j int) bool {
		a, b := r.Models[i], r.Models[j]
		if a.Temperature != b.Temperature {
			return a.Temperature < b.Temperature
		}
		return a.Step < b.Step
	})
}

func (r *Results) temperatures() []float64 {
	var ts []float64
	for _, m := range r.Models {
		if len(ts) == 0 || ts[len(ts)-1] != m.Temperature {
			ts = append(ts, m.Temperature)
		}
	}
	return ts
}

func (r *Results) maxStep() int {
	s := 0
	for _, m := range r.Models {
		s = max(s, m.Step)
	}
	return s
}

func (r *Results) find(t float64, step int) (Model, bool) {
	for _, m := range r.Models {
		if m.Temperature == t && m.Step == step {
			return m, true
		}
	}
	return Model{}, false
}

// Write writes results.json, results.csv, transfer.csv, figures/ and
// report.html into dir.
func Write(dir string, r Results) error {
	r.sort()
	if err := os.MkdirAll(filepath.Join(dir, "figures"), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeCSV(dir, r); err != nil {
		return err
	}
	an, ok := r.Analysis()
	if ok {
		b, err := json.MarshalIndent(an, "", "  ")
		if err != nil {
			return fmt.Errorf("findings.json: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "findings.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	figs, err := figures(dir, r)
	if err != nil {
		return err
	}
	return writeHTML(dir, r, figs)
}

// CSVHeader is the first row of results.csv.
func CSVHeader(attacks []string) []string {
	h := []string{"dataset", "temperature", "step", "role", "file", "epochs", "samples", "accuracy", "confidence", "mean_gradient_amplitude", "near_zero_fraction"}
	for _, a := range attacks {
		h = append(h, a+"_attempts", a+"_success_rate", a+"_mean", a+"_max")
	}
	return h
}

func f(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func writeCSV(dir string, r Results) error {
	rows := [][]string{CSVHeader(r.Attacks)}
	for _, m := range r.Models {
		s := m.Summary
		row := []string{r.Dataset, f(m.Temperature), strconv.Itoa(m.Step), m.Role, m.File, strconv.Itoa(m.Epochs), strconv.Itoa(s.Samples),
			f(s.Accuracy), f(s.Confidence), f(s.MeanAmplitude), f(s.NearZero)}
		for _, a := range r.Attacks {
			ar := s.Robustness[a]
			row = append(row, strconv.Itoa(ar.Attempts), f(ar.SuccessRate), f(ar.Mean), f(ar.Max))
		}
		rows = append(rows, row)
	}
	if err := writeRows(filepath.Join(dir, "results.csv"), rows); err != nil {
		return err
	}
	trows := [][]string{{"temperature", "source_step", "target_step", "l2_transfer_rate"}}
	for _, m := range r.Models {
		var steps []int
		for k := range m.Summary.TransferRate {
			steps = append(steps, k)
		}
		sort.Ints(steps)
		for _, k := range steps {
			trows = append(trows, []string{f(m.Temperature), strconv.Itoa(m.Step), strconv.Itoa(k), f(m.Summary.TransferRate[k])})
		}
	}
	return writeRows(filepath.Join(dir, "transfer.csv"), trows)
}

func writeRows(path string, rows [][]string) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(fh)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// series is one line of a figure.
type series struct {
	name   string
	pts    plotter.XYs
	ci     []stats.Interval // when set, one 95% interval per point, drawn as error bars
	dashed bool
	color  color.Color
}

// palette colours lines in order; the first three follow the paper's
// convention for the chain: teacher red (dotted), assistant orange, student blue.
var palette = []color.Color{
	color.RGBA{192, 57, 43, 255}, color.RGBA{230, 126, 34, 255}, color.RGBA{47, 91, 211, 255},
	color.RGBA{31, 143, 78, 255}, color.RGBA{142, 68, 173, 255}, color.RGBA{211, 132, 0, 255}, color.RGBA{22, 160, 170, 255},
}

// decadeTicks marks the powers of ten of a log axis and labels them (every
// k-th one when the axis spans more than 8 decades), as 1e-5 rather than
// with float noise.
type decadeTicks struct{}

// Ticks implements plot.Ticker.
func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	// (The tolerance keeps log10(1e-4) = -3.9999999999999996 a decade.)
	lo, hi := math.Ceil(math.Log10(min)-1e-9), math.Floor(math.Log10(max)+1e-9)
	k := math.Max(1, math.Ceil((hi-lo+1)/8))
	var ts []plot.Tick
	for e := lo; e <= hi; e++ {
		t := plot.Tick{Value: math.Pow(10, e)}
		if math.Mod(e, k) == 0 {
			t.Label = pow10Label(int(e))
		}
		ts = append(ts, t)
	}
	return ts
}

// pow10Label writes 10^e as a decimal between 0.001 and 1000, else as 1eE.
func pow10Label(e int) string {
	if e >= -3 && e <= 3 {
		return strconv.FormatFloat(math.Pow(10, float64(e)), 'f', max(0, -e), 64)
	}
	return fmt.Sprintf("1e%d", e)
}

// placeLegend puts the legend in the corner of the plot that the lines
// cross least; when they cross every corner it goes top right, above
// headroom added for it (about one text line of the plot's height per
// entry), so that it never hides a line.
func placeLegend(p *plot.Plot, ss []series, entries int, logY bool) {
	if entries == 0 || !(p.Y.Max > p.Y.Min) || !(p.X.Max > p.X.Min) {
		return
	}
	ny := func(y float64) float64 {
		if logY {
			return math.Log(y/p.Y.Min) / math.Log(p.Y.Max/p.Y.Min)
		}
		return (y - p.Y.Min) / (p.Y.Max - p.Y.Min)
	}
	nx := func(x float64) float64 { return (x - p.X.Min) / (p.X.Max - p.X.Min) }
	w, h := 0.35, 0.075*float64(entries+1)
	type corner struct{ top, left bool }
	corners := []corner{{true, false}, {true, true}, {false, false}, {false, true}}
	hits := make([]int, len(corners))
	for _, s := range ss {
		for k := range s.pts { // segments, and the first point alone
			a, b := s.pts[max(k-1, 0)], s.pts[k]
			if math.IsNaN(a.Y) || math.IsNaN(b.Y) || (logY && (a.Y <= 0 || b.Y <= 0)) {
				continue
			}
			for q := range 21 { // points along the segment, in plot coordinates
				f := float64(q) / 20
				x := nx(a.X) + f*(nx(b.X)-nx(a.X))
				y := ny(a.Y) + f*(ny(b.Y)-ny(a.Y))
				for c, cn := range corners {
					inX := (cn.left && x <= w) || (!cn.left && x >= 1-w)
					inY := (cn.top && y >= 1-h) || (!cn.top && y <= h)
					if inX && inY {
						hits[c]++
					}
				}
			}
		}
	}
	best := 0
	for c := range corners {
		if hits[c] < hits[best] {
			best = c
		}
	}
	p.Legend.Top, p.Legend.Left = corners[best].top, corners[best].left
	if hits[best] == 0 {
		return
	}
	p.Legend.Top, p.Legend.Left = true, false
	frac := h / (1 - h)
	if logY {
		p.Y.Max *= math.Pow(p.Y.Max/p.Y.Min, frac)
	} else {
		p.Y.Max += (p.Y.Max - p.Y.Min) * frac
	}
}

// figure is a written figure: its base name and caption.
type figure struct{ name, caption string }

func lines(dir, name, title, xlabel, ylabel string, ss []series, logY bool, xs []float64, note string) (figure, error) {
	p := plot.New()
	p.Title.Text = title
	if note != "" {
		p.Title.Text += "\n" + note
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	if logY {
		// A log axis needs a positive, non-degenerate range: set it from
		// the data (gonum/plot panics otherwise); with no positive value,
		// stay linear.
		lo, hi := math.Inf(1), 0.0
		for _, s := range ss {
			for _, q := range s.pts {
				if q.Y > 0 {
					lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
				}
			}
		}
		if hi > 0 {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = decadeTicks{}
			p.Y.Min, p.Y.Max = lo/2, hi*2
		} else {
			logY = false
		}
	}
	if len(xs) > 0 {
		var ticks []plot.Tick
		for _, x := range xs {
			ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	p.Legend.Top = true
	entries := 0
	var zeros []string // points a log axis cannot show
	for i, s := range ss {
		pts := s.pts
		if logY {
			var keep plotter.XYs
			for _, q := range pts {
				if q.Y > 0 {
					keep = append(keep, q)
				} else if !math.IsNaN(q.Y) {
					at := fmt.Sprintf("step %g", q.X)
					if strings.Contains(xlabel, "temperature") {
						at = fmt.Sprintf("T=%g", q.X)
					}
					zeros = append(zeros, s.name+" at "+at)
				}
			}
			pts = keep
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return figure{}, err
		}
		c := s.color
		if c == nil {
			c = palette[i%len(palette)]
		}
		l.Color, sc.Color = c, c
		l.Width = vg.Points(1.5)
		sc.Shape = draw.CircleGlyph{}
		if s.dashed {
			l.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
		}
		p.Add(l, sc)
		if len(s.ci) == len(pts) && !logY {
			errs := make(plotter.YErrors, len(pts))
			for k, q := range pts {
				errs[k].Low, errs[k].High = q.Y-s.ci[k].Lo, s.ci[k].Hi-q.Y
			}
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{pts, errs})
			if err != nil {
				return figure{}, fmt.Errorf("figure %s: %w", name, err)
			}
			eb.LineStyle.Color = c
			p.Add(eb)
		}
		p.Legend.Add(s.name, l, sc)
		entries++
	}
	if len(zeros) > 0 {
		p.Title.Text += "\nexactly 0, not drawn on the log axis: " + strings.Join(zeros, ", ")
	}
	placeLegend(p, ss, entries, logY)
	for _, ext := range []string{".png", ".svg"} {
		if err := p.Save(6*vg.Inch, 4*vg.Inch, filepath.Join(dir, "figures", name+ext)); err != nil {
			return figure{}, fmt.Errorf("figure %s: %w", name, err)
		}
	}
	return figure{name: name, caption: title}, nil
}

var roleName = []string{"teacher", "assistant", "student", "step 3", "step 4", "step 5", "step 6"}

func figures(dir string, r Results) ([]figure, error) {
	ts := r.temperatures()
	note := ""
	if r.Preset == "quick" {
		note = fmt.Sprintf("quick look, not a result: %d samples, %d attacked, demo budgets", r.Samples, r.AttackSamples)
		if r.MaxIterations > 0 {
			note += fmt.Sprintf(", ≤ %d iterations/c", r.MaxIterations)
		}
	}
	var figs []figure
	add := func(fig figure, err error) error {
		if err == nil {
			figs = append(figs, fig)
		}
		return err
	}
	// vsT builds one series per chain step 0..2 of a per-model quantity
	// against T; the teacher is dotted, as in the paper.
	vsT := func(steps int, q func(Model) float64) []series {
		var ss []series
		for step := 0; step <= steps; step++ {
			s := series{name: roleName[step], dashed: step == 0}
			for _, t := range ts {
				if m, ok := r.find(t, step); ok {
					s.pts = append(s.pts, plotter.XY{X: t, Y: q(m)})
				}
			}
			ss = append(ss, s)
		}
		return ss
	}
	tas := min(2, r.maxStep())
	acc := func(m Model) float64 { return 100 * m.Summary.Accuracy }
	if err := add(lines(dir, "fig3-accuracy", "Fig. 3: test accuracy at T = 1", "training temperature T", "accuracy (%)", vsT(tas, acc), false, ts, note)); err != nil {
		return nil, err
	}
	if err := add(lines(dir, "fig4-near-zero-gradients", "Fig. 4: share of samples with gradient amplitude < 1e-10", "training temperature T", "share of samples (%)",
		vsT(tas, func(m Model) float64 { return 100 * m.Summary.NearZero }), false, ts, note)); err != nil {
		return nil, err
	}
	if err := add(lines(dir, "fig4-gradient-amplitude", "Fig. 4: mean input-gradient amplitude", "training temperature T", "mean |dF_y/dx|",
		vsT(tas, func(m Model) float64 { return m.Summary.MeanAmplitude }), true, ts, note)); err != nil {
		return nil, err
	}
	// The intervals of the mean distances, by (T, step, attack).
	type statKey struct {
		t      float64
		step   int
		attack string
	}
	ci := map[statKey]stats.Interval{}
	an, hasCI := r.Analysis()
	for _, s := range an.Stats {
		ci[statKey{s.Temperature, s.Step, s.Attack}] = s.Summary.Mean.CI
	}
	for _, a := range r.Attacks {
		for _, stat := range []string{"mean", "max"} {
			q := func(m Model) float64 {
				ar := m.Summary.Robustness[a]
				if ar.Successes == 0 {
					return math.NaN()
				}
				if stat == "max" {
					return ar.Max
				}
				return ar.Mean
			}
			ss := vsT(tas, q)
			for i := range ss {
				ss[i].pts = dropNaN(ss[i].pts)
			}
			title := fmt.Sprintf("Fig. 5: %s minimal perturbation, %s", stat, unit(a))
			if stat == "mean" && hasCI {
				// Bootstrap 95% intervals of the means, over the successful attacks.
				for i := range ss {
					for _, q := range ss[i].pts {
						ss[i].ci = append(ss[i].ci, ci[statKey{q.X, i, a}])
					}
				}
				title += fmt.Sprintf("\n95%% bootstrap intervals; n ≤ %d attacked images per model", r.AttackSamples)
			}
			if err := add(lines(dir, "fig5-"+a+"-"+stat, title,
				"training temperature T", stat+" "+unit(a), ss, false, ts, note)); err != nil {
				return nil, err
			}
		}
	}
	if err := add(lines(dir, "fig6-confidence", "Fig. 6: confidence (eq. 14)", "training temperature T", "confidence",
		vsT(tas, func(m Model) float64 { return m.Summary.Confidence }), false, ts, note)); err != nil {
		return nil, err
	}
	// Fig. 7: accuracy against the distillation step, one line per T.
	var steps []float64
	for s := 0; s <= r.maxStep(); s++ {
		steps = append(steps, float64(s))
	}
	var ss7 []series
	for i, t := range ts {
		s := series{name: "T=" + strconv.FormatFloat(t, 'g', -1, 64), color: palette[i%len(palette)]}
		for st := 0; st <= r.maxStep(); st++ {
			if m, ok := r.find(t, st); ok {
				s.pts = append(s.pts, plotter.XY{X: float64(st), Y: acc(m)})
			}
		}
		ss7 = append(ss7, s)
	}
	if err := add(lines(dir, "fig7-accuracy-by-step", "Fig. 7: test accuracy by distillation step", "distillation step (0 = teacher)", "accuracy (%)", ss7, false, steps, note)); err != nil {
		return nil, err
	}
	// Fig. 8: robustness against T per step, and averaged over T.
	for _, a := range r.Attacks {
		mean := func(m Model) float64 {
			if ar := m.Summary.Robustness[a]; ar.Successes > 0 {
				return ar.Mean
			}
			return math.NaN()
		}
		ss := vsT(r.maxStep(), mean)
		for i := range ss {
			ss[i].pts = dropNaN(ss[i].pts)
		}
		if err := add(lines(dir, "fig8-"+a+"-by-T", fmt.Sprintf("Fig. 8: mean minimal perturbation per distillation step, %s", unit(a)), "training temperature T", "mean "+unit(a), ss, false, ts, note)); err != nil {
			return nil, err
		}
		avg := series{name: "average over T"}
		for st := 0; st <= r.maxStep(); st++ {
			var sum float64
			var n int
			for _, t := range ts {
				if m, ok := r.find(t, st); ok && !math.IsNaN(mean(m)) {
					sum += mean(m)
					n++
				}
			}
			if n > 0 {
				avg.pts = append(avg.pts, plotter.XY{X: float64(st), Y: sum / float64(n)})
			}
		}
		if err := add(lines(dir, "fig8-"+a+"-average", fmt.Sprintf("Fig. 8: mean minimal perturbation averaged over T, %s", unit(a)), "distillation step (0 = teacher)", "mean "+unit(a), []series{avg}, false, steps, note)); err != nil {
			return nil, err
		}
	}
	// Robustness curves at the largest T: the share of attacked images whose
	// minimal perturbation exceeds ε.
	if hasCI && len(ts) > 0 {
		tmax := ts[len(ts)-1]
		for _, a := range r.Attacks {
			var ss []series
			n := 0
			for _, cv := range an.Curves {
				if cv.Temperature != tmax || cv.Attack != a || cv.Step > tas {
					continue
				}
				s := series{name: roleName[cv.Step], dashed: cv.Step == 0, color: palette[cv.Step]}
				for k, e := range cv.Eps {
					s.pts = append(s.pts, plotter.XY{X: e, Y: 100 * cv.Above[k]})
				}
				ss = append(ss, s)
				n = max(n, cv.N)
			}
			title := fmt.Sprintf("Robustness curve at T = %g: images needing more than ε (%s)\nfailed attacks count as above every ε; n ≤ %d attacked images per model", tmax, unit(a), n)
			if err := add(lines(dir, "curve-"+a, title, "ε ("+unit(a)+")", "share of attacked images (%)", ss, false, nil, note)); err != nil {
				return nil, err
			}
		}
	}
	return figs, nil
}

func dropNaN(pts plotter.XYs) plotter.XYs {
	var out plotter.XYs
	for _, p := range pts {
		if !math.IsNaN(p.Y) {
			out = append(out, p)
		}
	}
	return out
}

func unit(a string) string {
	switch a {
	case "l0":
		return "L0 (pixels)"
	case "linf":
		return "L∞ distance"
	}
	return "L2 distance"
}

// Findings states, from the data, what they say about each of the paper's
// claims (package findings: paired comparisons with intervals and tests),
// then the training lengths and attack success rates the reader needs to
// weigh them.
func Findings(r Results) []string {
	r.sort()
	var out []string
	if an, ok := r.Analysis(); ok {
		for _, c := range an.Claims {
			line := fmt.Sprintf("%s: %s.", c.Claim, strings.ToUpper(string(c.Verdict[:1]))+string(c.Verdict[1:]))
			if len(c.Tests) > 0 {
				line += " " + strings.Join(c.Tests, "; ") + "."
			}
			if c.Note != "" {
				line += " " + c.Note
			}
			out = append(out, line)
		}
	} else {
		out = append(out, "No per-sample results: the paper's claims are not judged.")
	}
	if s := trainingLengths(r); s != "" {
		out = append(out, s)
	}
	var rates []string
	for _, m := range r.Models {
		for _, a := range r.Attacks {
			if ar := m.Summary.Robustness[a]; ar.Attempts > 0 && ar.SuccessRate < 1 {
				rates = append(rates, fmt.Sprintf("%s on the T=%g %s: %.0f%%", a, m.Temperature, m.Role, 100*ar.SuccessRate))
			}
		}
	}
	if len(rates) == 0 {
		out = append(out, "Every attack succeeded on every sample it was run on: distillation changes the size of the perturbation needed, not whether one exists.")
	} else {
		out = append(out, "Attack success rates below 100%: "+strings.Join(rates, "; ")+".")
	}
	return out
}

// trainingLengths says, when the distilled models were not all trained for
// the same number of epochs, how long each step was trained: Fig. 7 and 8
// then mix the effect of a distillation step with that of its training.
func trainingLengths(r Results) string {
	byStep := map[int]map[int]bool{}
	distilled := map[int]bool{}
	for _, m := range r.Models {
		if m.Epochs <= 0 {
			continue
		}
		if byStep[m.Step] == nil {
			byStep[m.Step] = map[int]bool{}
		}
		byStep[m.Step][m.Epochs] = true
		if m.Step > 0 {
			distilled[m.Epochs] = true
		}
	}
	if len(distilled) <= 1 {
		return ""
	}
	var parts []string
	for step := 0; step <= r.maxStep(); step++ {
		var es []int
		for e := range byStep[step] {
			es = append(es, e)
		}
		if len(es) == 0 {
			continue
		}
		sort.Ints(es)
		var ss []string
		for _, e := range es {
			ss = append(ss, strconv.Itoa(e))
		}
		parts = append(parts, fmt.Sprintf("step %d: %s", step, strings.Join(ss, " or ")))
	}
	return "The distilled models were not all trained for the same number of epochs (" + strings.Join(parts, "; ") +
		"), so the accuracy and robustness by step (Fig. 7 and 8) mix the effect of one more distillation with that of a shorter or longer training."
}

func writeHTML(dir string, r Results, figs []figure) error {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TADD reproduction</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#1d2330}
figure{display:inline-block;margin:8px;vertical-align:top}figure svg{width:520px;height:auto;border:1px solid #e3e6ee}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #d5d9e2;padding:3px 6px;text-align:right}
th{background:#f3f4f7}.note{color:#5b6478}</style></head><body>`)
	fmt.Fprintf(&b, "<h1>Improving defensive distillation with a teacher assistant: reproduction on %s</h1>", html.EscapeString(r.Dataset))
	fmt.Fprintf(&b, `<p class="note">Preset %s: accuracy, sensitivity and confidence over %d test images; attacks (%s) on the first %d of them, each with a random target; %s. Every model is evaluated at T = 1.</p>`,
		html.EscapeString(r.Preset), r.Samples, html.EscapeString(strings.Join(r.Attacks, ", ")), r.AttackSamples, html.EscapeString(r.Budget))
	b.WriteString("<h2>Findings</h2><ul>")
	for _, s := range Findings(r) {
		fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(s))
	}
	b.WriteString("</ul><h2>Figures</h2>")
	for _, fg := range figs {
		svg, err := os.ReadFile(filepath.Join(dir, "figures", fg.name+".svg"))
		if err != nil {
			return err
		}
		s := string(svg)
		if i := strings.Index(s, "<svg"); i >= 0 {
			s = s[i:]
		}
		fmt.Fprintf(&b, `<figure id="%s">%s<figcaption>%s (<a href="figures/%s.png">PNG</a>)</figcaption></figure>`, fg.name, s, html.EscapeString(fg.caption), fg.name)
	}
	b.WriteString("<h2>Numbers</h2><table><tr>")
	for _, h := range CSVHeader(r.Attacks) {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
	}
	b.WriteString("</tr>")
	for _, m := range r.Models {
		s := m.Summary
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%g</td><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.3g</td><td>%.3f</td>",
			r.Dataset, m.Temperature, m.Step, m.Role, m.File, m.Epochs, s.Samples, s.Accuracy, s.Confidence, s.MeanAmplitude, s.NearZero)
		for _, a := range r.Attacks {
			ar := s.Robustness[a]
			fmt.Fprintf(&b, "<td>%d</td><td>%.2f</td><td>%.4g</td><td>%.4g</td>", ar.Attempts, ar.SuccessRate, ar.Mean, ar.Max)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table><h2>Transferability (L2)</h2><p class=\"note\">Share of the L2 adversarial examples crafted on the row's model (and classified as their target there) that the column's model, of the same chain, also classifies as the target.</p>")
	for _, t := range r.temperatures() {
		fmt.Fprintf(&b, "<h3>T = %g</h3><table><tr><th>crafted on \\ tested on</th>", t)
		for st := 0; st <= r.maxStep(); st++ {
			fmt.Fprintf(&b, "<th>%s</th>", roleName[st])
		}
		b.WriteString("</tr>")
		for st := 0; st <= r.maxStep(); st++ {
			m, ok := r.find(t, st)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "<tr><th>%s</th>", roleName[st])
			for k := 0; k <= r.maxStep(); k++ {
				if v, ok := m.Summary.TransferRate[k]; ok {
					fmt.Fprintf(&b, "<td>%.0f%%</td>", 100*v)
				} else {
					b.WriteString("<td>–</td>")
				}
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</table>")
	}
	b.WriteString("<p class=\"note\">Raw numbers: results.csv, results.json, transfer.csv.</p></body></html>\n")
	return os.WriteFile(filepath.Join(dir, "report.html"), []byte(b.String()), 0o644)
}
