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
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/findings"
	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/core/stats"
)

// Model is one evaluated model: its file and identity (Epochs 0: unknown),
// and what was measured.
type Model struct {
	catalog.Entry
	Summary eval.Summary `json:"summary"`
	// Samples are the per-sample results the summary was computed from
	// (kept in the samples files, not in results.json): the paired
	// comparisons of the findings need them.
	Samples []eval.Sample `json:"-"`
	// Compute is what computing the samples took, from the samples files
	// (in summary.json, not results.json: it differs between a run and its
	// shards merged, whose numbers are the same).
	Compute reproduce.Compute `json:"-"`
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

	// AttackCounts, when it names an attack, says that it attacked only the
	// first AttackCounts[attack] of the AttackSamples (reproduce.Settings).
	AttackCounts map[string]int `json:"attack_counts,omitempty"`
	// NotEvaluated names the models of the chains the run left out, and
	// why (reproduce.LeftOut).
	NotEvaluated []string `json:"not_evaluated,omitempty"`
}

// Analysis is the statistical analysis of the per-sample results (package
// findings); ok is false when some model has none.
func (r Results) Analysis() (findings.Result, bool) {
	d := findings.Data{Attacks: r.Attacks, AttackSamples: r.AttackSamples, AttackCounts: r.AttackCounts, Pixels: r.Pixels, Seed: r.Seed}
	if c := r.BudgetCheck; c != nil {
		d.Overstated = map[string]string{}
		for _, q := range c.Over() {
			// The pooled ratio, and below how it compares between models:
			// the run's budget check, shown once beside the claims, gives
			// it model by model.
			d.Overstated[q.Attack] = fmt.Sprintf("×%.3g [%.3g, %.3g] the paper's parameters' (n = %d; the budget check gives it by model)", q.Mean, q.Lo, q.Hi, q.Pairs)
		}
		d.Uneven, d.Alike = map[string]string{}, map[string]string{}
		for _, atk := range r.Attacks {
			switch bias, spread := c.Bias(atk); {
			case bias == reproduce.BiasUneven:
				d.Uneven[atk] = spread
			case bias == reproduce.BiasAlike && d.Overstated[atk] != "":
				d.Alike[atk] = spread
			}
		}
	}
	for _, m := range r.Models {
		if len(m.Samples) == 0 {
			return findings.Result{}, false
		}
		d.Models = append(d.Models, findings.Model{Identity: m.Identity, Samples: m.Samples})
	}
	return findings.Analyze(d), len(d.Models) > 0
}

func (r *Results) sort() {
	slices.SortStableFunc(r.Models, func(a, b Model) int { return catalog.Compare(a.Identity, b.Identity) })
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
// report.html into dir, and, when every model has its per-sample results,
// findings.json (the whole analysis) and summary.json (its small,
// versioned summary: package findings).
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
	var sum *findings.Summary
	if ok {
		b, err := json.MarshalIndent(an, "", "  ")
		if err != nil {
			return fmt.Errorf("findings.json: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "findings.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
		s := findings.NewSummary(an, r.Run())
		sum = &s
		b, err = json.MarshalIndent(s, "", "  ")
		if err != nil {
			return fmt.Errorf("%s: %w", findings.SummaryFile, err)
		}
		if err := os.WriteFile(filepath.Join(dir, findings.SummaryFile), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	figs, err := figures(dir, r, an, ok)
	if err != nil {
		return err
	}
	return writeHTML(dir, r, an, ok, figs, sum)
}

// CSVHeader is the first row of results.csv.
func CSVHeader(attacks []string) []string {
	h := []string{"dataset", "temperature", "step", "role", "file", "epochs", "samples", "accuracy", "confidence", "mean_gradient_amplitude", "near_zero_fraction"}
	for _, a := range attacks {
		h = append(h, a+"_attempts", a+"_success_rate", a+"_mean", a+"_max")
	}
	return h
}

// formatNumber writes v in the shortest form that reads back exactly.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func writeCSV(dir string, r Results) error {
	rows := [][]string{CSVHeader(r.Attacks)}
	for _, m := range r.Models {
		s := m.Summary
		row := []string{r.Dataset, formatNumber(m.Temperature), strconv.Itoa(m.Step), m.Role, m.File, strconv.Itoa(m.Epochs), strconv.Itoa(s.Samples),
			formatNumber(s.Accuracy), formatNumber(s.Confidence), formatNumber(s.MeanAmplitude), formatNumber(s.NearZero)}
		for _, a := range r.Attacks {
			ar := s.Robustness[a]
			row = append(row, strconv.Itoa(ar.Attempts), formatNumber(ar.SuccessRate), formatNumber(ar.Mean), formatNumber(ar.Max))
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
			trows = append(trows, []string{formatNumber(m.Temperature), strconv.Itoa(m.Step), strconv.Itoa(k), formatNumber(m.Summary.TransferRate[k])})
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
	dotted bool
	color  color.Color
}

// roleColors colour the steps of a chain, in the paper's convention for
// the first three: teacher red (drawn dotted), assistant orange, student
// blue; then steps 3 to 6.
var roleColors = []color.Color{
	color.RGBA{200, 30, 30, 255}, color.RGBA{240, 140, 20, 255}, color.RGBA{40, 80, 210, 255},
	color.RGBA{31, 143, 78, 255}, color.RGBA{142, 68, 173, 255}, color.RGBA{120, 80, 40, 255}, color.RGBA{22, 160, 170, 255},
}

// tempColors colour one line per temperature (Fig. 7), on a sequential
// scale (viridis, its light yellow end darkened to read on white) from the
// lowest T to the highest.
var tempColors = []color.Color{
	color.RGBA{68, 1, 84, 255}, color.RGBA{68, 57, 131, 255}, color.RGBA{49, 104, 142, 255}, color.RGBA{33, 145, 140, 255},
	color.RGBA{40, 170, 120, 255}, color.RGBA{90, 180, 60, 255}, color.RGBA{150, 170, 20, 255},
}

// tempColor is the colour of the i-th of n temperatures.
func tempColor(i, n int) color.Color {
	if n <= 1 {
		return tempColors[0]
	}
	return tempColors[i*(len(tempColors)-1)/(n-1)]
}

// chart is a figure before it is drawn.
type chart struct {
	name           string // file base name
	title          string // one line: what is drawn
	xlabel, ylabel string
	series         []series
	logY           bool
	xticks         []float64 // labelled x ticks (none: automatic)
	n              string    // the sample count, as "n = 300 test images per model"
	interval       string    // what the error bars are ("" for none)
}

// figure is a written figure: its base name and caption.
type figure struct{ name, caption string }

// subtitle is the chart's second line: n and the intervals.
func (c chart) subtitle() string {
	if c.interval == "" {
		return c.n
	}
	return c.n + "; " + c.interval
}

// figure size, and the room between the plot and the legend beside it.
const (
	figWidth, figHeight = 7.5 * vg.Inch, 4 * vg.Inch
	legendGap           = 0.15 * vg.Inch
)

// write draws the chart as PNG and SVG into dir/figures, with the lines
// (the preset, the budget check) under its title and the legend beside the
// plot, outside the data.
func (c chart) write(dir string, lines []string) (figure, error) {
	p := plot.New()
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text, p.Y.Label.Text = c.xlabel, c.ylabel
	logY := c.logY
	if logY {
		// A log axis needs a positive, non-degenerate range: set it from
		// the data and the positive interval bounds (gonum/plot panics
		// otherwise); with no positive value, stay linear.
		lo, hi := math.Inf(1), 0.0
		for _, s := range c.series {
			for k, q := range s.pts {
				if q.Y > 0 {
					lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
					if k < len(s.ci) && s.ci[k].Lo > 0 {
						lo = math.Min(lo, s.ci[k].Lo)
					}
					if k < len(s.ci) && s.ci[k].Hi > 0 {
						hi = math.Max(hi, s.ci[k].Hi)
					}
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
	if len(c.xticks) > 0 {
		var ticks []plot.Tick
		for _, x := range c.xticks {
			ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	// Series with intervals at the same x are spread a little sideways
	// (1% of the x range apart) so that their bars do not hide each other.
	var dodge float64
	withCI := 0
	for _, s := range c.series {
		if len(s.ci) > 0 && len(s.pts) > 0 {
			withCI++
		}
	}
	if withCI > 1 && len(c.xticks) > 1 {
		dodge = 0.01 * (c.xticks[len(c.xticks)-1] - c.xticks[0])
	}
	leg := plot.NewLegend()
	entries := 0
	var zeros []string // points a log axis cannot show
	for i, s := range c.series {
		var pts plotter.XYs
		var ci []stats.Interval
		for k, q := range s.pts {
			if logY && !(q.Y > 0) {
				if !math.IsNaN(q.Y) {
					at := fmt.Sprintf("step %g", q.X)
					if strings.Contains(c.xlabel, "temperature") {
						at = fmt.Sprintf("T=%g", q.X)
					}
					zeros = append(zeros, s.name+" at "+at)
				}
				continue
			}
			pts = append(pts, plotter.XY{X: q.X + dodge*(float64(i)-float64(len(c.series)-1)/2), Y: q.Y})
			if k < len(s.ci) {
				ci = append(ci, s.ci[k])
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return figure{}, fmt.Errorf("figure %s: %w", c.name, err)
		}
		col := s.color
		if col == nil {
			col = roleColors[i%len(roleColors)]
		}
		l.Color, sc.Color = col, col
		l.Width = vg.Points(1.5)
		sc.Shape = draw.CircleGlyph{}
		if s.dotted {
			l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
		}
		p.Add(l, sc)
		if len(ci) == len(pts) {
			p.Add(intervalBars{pts: pts, ci: ci, color: col, logY: logY})
		}
		leg.Add(s.name, l, sc)
		entries++
	}
	head := append([]string{c.title, c.subtitle()}, lines...)
	if len(zeros) > 0 {
		head = append(head, "exactly 0, not drawn on the log axis: "+strings.Join(zeros, ", "))
	}
	var drawn []string
	for _, h := range head {
		drawn = append(drawn, wrap(h, titleWidth)...)
	}
	p.Title.Text = strings.Join(drawn, "\n")
	p.Title.Padding = vg.Points(8)
	for _, ext := range []string{".png", ".svg"} {
		if err := save(p, leg, entries, filepath.Join(dir, "figures", c.name+ext)); err != nil {
			return figure{}, fmt.Errorf("figure %s: %w", c.name, err)
		}
	}
	return figure{name: c.name, caption: strings.Join(head, ". ") + "."}, nil
}

// intervalBars draws each point's interval as a vertical bar with caps,
// from its bounds themselves: plotter.YErrorBars works with y − low, which
// rounds to 0 when a bound lies many decades below its point on a log
// axis.
type intervalBars struct {
	pts   plotter.XYs
	ci    []stats.Interval
	color color.Color
	logY  bool // bounds ≤ 0 are drawn from the axis' minimum
}

// shown reports whether bound v can be drawn.
func (b intervalBars) shown(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && (!b.logY || v > 0)
}

// Plot implements plot.Plotter.
func (b intervalBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := draw.LineStyle{Color: b.color, Width: vg.Points(1)}
	capW := vg.Points(3)
	for k, q := range b.pts {
		lo, hi := b.ci[k].Lo, b.ci[k].Hi
		if math.IsNaN(lo) || math.IsNaN(hi) {
			continue
		}
		lo, hi = math.Max(lo, p.Y.Min), math.Min(hi, p.Y.Max)
		if !b.shown(lo) || !b.shown(hi) || hi < lo {
			continue
		}
		x, y0, y1 := trX(q.X), trY(lo), trY(hi)
		c.StrokeLine2(sty, x, y0, x, y1)
		c.StrokeLine2(sty, x-capW, y0, x+capW, y0)
		c.StrokeLine2(sty, x-capW, y1, x+capW, y1)
	}
}

// DataRange implements plot.DataRanger: the points and the drawable
// bounds.
func (b intervalBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for k, q := range b.pts {
		xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
		for _, v := range []float64{q.Y, b.ci[k].Lo, b.ci[k].Hi} {
			if b.shown(v) {
				ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
			}
		}
	}
	return xmin, xmax, ymin, ymax
}

// titleWidth is how many characters of the title fit on one line.
const titleWidth = 84

// wrap breaks a title line longer than width characters at its "; "
// separators, and a part still longer than width between words.
func wrap(line string, width int) []string {
	var parts []string
	for _, part := range strings.Split(line, "; ") {
		cur := ""
		for _, w := range strings.Fields(part) {
			if cur != "" && len([]rune(cur))+1+len([]rune(w)) > width {
				parts = append(parts, cur)
				cur = w
			} else if cur == "" {
				cur = w
			} else {
				cur += " " + w
			}
		}
		parts = append(parts, cur)
	}
	var out []string
	cur := ""
	for _, part := range parts {
		switch {
		case cur == "":
			cur = part
		case len([]rune(cur))+2+len([]rune(part)) <= width:
			cur += "; " + part
		default:
			out = append(out, cur)
			cur = part
		}
	}
	return append(out, cur)
}

// save writes the plot with its legend (when it has more than one entry)
// to the right of it, its top level
// with the top of the data area, in the format the path's extension names.
func save(p *plot.Plot, leg plot.Legend, entries int, path string) error {
	cw, err := draw.NewFormattedCanvas(figWidth, figHeight, strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return err
	}
	dc := draw.New(cw)
	var legW vg.Length
	if entries > 1 {
		legW = leg.Rectangle(dc).Size().X + 2*legendGap
	}
	plotC := draw.Crop(dc, 0, -legW, 0, 0)
	p.Draw(plotC)
	if entries > 1 {
		legC := draw.Crop(dc, figWidth-legW+legendGap, 0, 0, 0)
		legC.Max.Y = p.DataCanvas(plotC).Max.Y
		leg.Top, leg.Left = true, true
		leg.Draw(legC)
	}
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := cw.WriteTo(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// decadeTicks marks the powers of ten of a log axis and labels them (every
// k-th one when the axis spans more than 8 decades), as 1e-5 rather than
// with float noise.
type decadeTicks struct{}

// Ticks implements plot.Ticker.
func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || math.IsInf(max, 0) || !(max >= min) {
		return nil // not a log axis' range: no decades to mark
	}
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

// presetLine says on every figure which preset made it, naming its
// budgets (the report spells them out); a quick run says that it is a
// look, not a result.
func (r *Results) presetLine() string {
	var s string
	switch r.Preset {
	case reproduce.Quick:
		s = fmt.Sprintf("preset quick: a look, not a result; %d test images, %d attacked; demo attack budgets", r.Samples, r.AttackSamples)
	case reproduce.Standard:
		s = "preset standard: cut attack budgets"
	case reproduce.Full:
		s = "preset full: the paper's attack parameters"
	default:
		s = "preset " + r.Preset
	}
	if r.MaxIterations > 0 {
		s += fmt.Sprintf(", ≤ %d iterations/c", r.MaxIterations)
	}
	return s
}

// budgetLine says on every figure what the run's budget check found: the
// attacks whose preset distances are more than reproduce.BudgetSlack
// above the paper's parameters', or that all are within it ("" without a
// check).
func (r *Results) budgetLine() string {
	c := r.BudgetCheck
	if c == nil {
		return ""
	}
	over := c.Over()
	if len(over) == 0 {
		var rs []string
		for _, q := range c.Ratios {
			if q.Pairs > 0 {
				rs = append(rs, fmt.Sprintf("%s ×%.3g", q.Attack, q.Mean))
			}
		}
		return fmt.Sprintf("budget check: distances within %.0f%% of the paper's parameters' (%s)", 100*reproduce.BudgetSlack, strings.Join(rs, ", "))
	}
	var parts []string
	for _, q := range over {
		parts = append(parts, fmt.Sprintf("%s ×%.3g [%.3g, %.3g]", q.Attack, q.Mean, q.Lo, q.Hi))
	}
	return fmt.Sprintf("over budget: the preset finds distances of %s those with the paper's parameters, more than %.0f%% above: overstated",
		strings.Join(parts, ", "), 100*reproduce.BudgetSlack)
}

// figureLines are the lines under every figure's title: the preset, and
// the budget check's finding when there is one.
func (r *Results) figureLines() []string {
	lines := []string{r.presetLine()}
	if b := r.budgetLine(); b != "" {
		lines = append(lines, b)
	}
	return lines
}

// count writes "n = 300 test images per model", or a range "n = 290–300 …"
// when the models differ.
func count(ns []int, what string) string {
	if len(ns) == 0 {
		return "n = 0 " + what
	}
	lo, hi := slices.Min(ns), slices.Max(ns)
	if lo == hi {
		return fmt.Sprintf("n = %d %s", lo, what)
	}
	return fmt.Sprintf("n = %d–%d %s", lo, hi, what)
}

// modelKey names a model by temperature and step.
type modelKey struct {
	t    float64
	step int
}

// charts lays out every figure of the paper from r and its analysis: the
// intervals come from package findings (Wilson for shares, bootstrap for
// means), computed from the per-sample data; without them the figures
// have no error bars and say so.
func charts(r Results, an findings.Result, hasCI bool) []chart {
	ts := r.temperatures()
	mstat := map[modelKey]findings.ModelStat{}
	for _, m := range an.Models {
		mstat[modelKey{m.Temperature, m.Step}] = m
	}
	astat := map[modelKey]map[string]stats.Summary{}
	for _, s := range an.Stats {
		k := modelKey{s.Temperature, s.Step}
		if astat[k] == nil {
			astat[k] = map[string]stats.Summary{}
		}
		astat[k][s.Attack] = s.Summary
	}
	none := stats.Interval{Lo: math.NaN(), Hi: math.NaN()}
	interval := func(kind string) string {
		if !hasCI {
			return "no intervals (no per-sample data)"
		}
		return "bars: 95% " + kind
	}
	// point is one model's value and interval; ok is false where the
	// model has nothing to show.
	type point func(m Model) (v float64, ci stats.Interval, ok bool)
	// vsT has one series per chain step 0..steps of a quantity against T.
	vsT := func(steps int, q point) []series {
		var ss []series
		for step := 0; step <= steps; step++ {
			s := series{name: catalog.DisplayName(step), dotted: step == 0, color: roleColors[step]}
			for _, t := range ts {
				if m, ok := r.find(t, step); ok {
					if v, ci, ok := q(m); ok {
						s.pts = append(s.pts, plotter.XY{X: t, Y: v})
						s.ci = append(s.ci, ci)
					}
				}
			}
			ss = append(ss, s)
		}
		return ss
	}
	// The sample counts of the models a figure draws.
	shown := func(steps int, n func(Model) (int, bool)) []int {
		var ns []int
		for _, m := range r.Models {
			if m.Step <= steps {
				if k, ok := n(m); ok {
					ns = append(ns, k)
				}
			}
		}
		return ns
	}
	tested := func(m Model) (int, bool) { return m.Summary.Samples, true }
	share := func(pick func(findings.ModelStat) stats.Estimate, raw func(Model) float64) point {
		return func(m Model) (float64, stats.Interval, bool) {
			if ms, ok := mstat[modelKey{m.Temperature, m.Step}]; ok {
				e := pick(ms)
				return 100 * e.Value, stats.Interval{Lo: 100 * e.CI.Lo, Hi: 100 * e.CI.Hi}, true
			}
			return 100 * raw(m), none, true
		}
	}
	mean := func(pick func(findings.ModelStat) stats.Estimate, raw func(Model) float64) point {
		return func(m Model) (float64, stats.Interval, bool) {
			if ms, ok := mstat[modelKey{m.Temperature, m.Step}]; ok {
				e := pick(ms)
				return e.Value, e.CI, true
			}
			return raw(m), none, true
		}
	}
	tas := min(2, r.maxStep())
	acc := share(func(ms findings.ModelStat) stats.Estimate { return ms.Accuracy }, func(m Model) float64 { return m.Summary.Accuracy })
	cs := []chart{
		{name: "fig3-accuracy", title: "Fig. 3: test accuracy against training temperature", xlabel: "training temperature T", ylabel: "accuracy at T = 1 (%)",
			series: vsT(tas, acc), xticks: ts, n: count(shown(tas, tested), "test images per model"), interval: interval("Wilson intervals")},
		{name: "fig4-near-zero-gradients", title: "Fig. 4: share of vanished input gradients (amplitude < 1e-10)", xlabel: "training temperature T", ylabel: "share of test images (%)",
			series: vsT(tas, share(func(ms findings.ModelStat) stats.Estimate { return ms.NearZero }, func(m Model) float64 { return m.Summary.NearZero })),
			xticks: ts, n: count(shown(tas, tested), "test images per model"), interval: interval("Wilson intervals")},
		{name: "fig4-gradient-amplitude", title: "Fig. 4: mean input-gradient amplitude", xlabel: "training temperature T", ylabel: "mean |dF_y/dx|",
			series: vsT(tas, mean(func(ms findings.ModelStat) stats.Estimate { return ms.Amplitude }, func(m Model) float64 { return m.Summary.MeanAmplitude })),
			xticks: ts, logY: true, n: count(shown(tas, tested), "test images per model"), interval: interval("bootstrap intervals of the mean (log axis)")},
	}
	// The successful attacks behind a model's mean distance.
	successes := func(a string) func(Model) (int, bool) {
		return func(m Model) (int, bool) {
			ar := m.Summary.Robustness[a]
			return ar.Successes, ar.Successes > 0
		}
	}
	meanDist := func(a string) point {
		return func(m Model) (float64, stats.Interval, bool) {
			ar := m.Summary.Robustness[a]
			if ar.Successes == 0 {
				return math.NaN(), none, false
			}
			if s, ok := astat[modelKey{m.Temperature, m.Step}][a]; ok {
				return s.Mean.Value, s.Mean.CI, true
			}
			return ar.Mean, none, true
		}
	}
	for _, a := range r.Attacks {
		maxDist := func(m Model) (float64, stats.Interval, bool) {
			ar := m.Summary.Robustness[a]
			return ar.Max, none, ar.Successes > 0
		}
		cs = append(cs,
			chart{name: "fig5-" + a + "-mean", title: "Fig. 5: mean minimal perturbation, " + unit(a), xlabel: "training temperature T", ylabel: "mean " + unit(a),
				series: vsT(tas, meanDist(a)), xticks: ts, n: count(shown(tas, successes(a)), "successful attacks per model"), interval: interval("bootstrap intervals of the mean")},
			chart{name: "fig5-" + a + "-max", title: "Fig. 5: largest minimal perturbation, " + unit(a), xlabel: "training temperature T", ylabel: "maximum " + unit(a),
				series: vsT(tas, maxDist), xticks: ts, n: count(shown(tas, successes(a)), "successful attacks per model")})
	}
	cs = append(cs, chart{name: "fig6-confidence", title: "Fig. 6: confidence (eq. 14) against training temperature", xlabel: "training temperature T", ylabel: "mean confidence",
		series: vsT(tas, mean(func(ms findings.ModelStat) stats.Estimate { return ms.Confidence }, func(m Model) float64 { return m.Summary.Confidence })),
		xticks: ts, n: count(shown(tas, tested), "test images per model"), interval: interval("bootstrap intervals of the mean")})
	// Fig. 7: accuracy against the distillation step, one line per T.
	var steps []float64
	for s := 0; s <= r.maxStep(); s++ {
		steps = append(steps, float64(s))
	}
	var ss7 []series
	for i, t := range ts {
		s := series{name: "T=" + strconv.FormatFloat(t, 'g', -1, 64), color: tempColor(i, len(ts))}
		for st := 0; st <= r.maxStep(); st++ {
			if m, ok := r.find(t, st); ok {
				v, ci, _ := acc(m)
				s.pts = append(s.pts, plotter.XY{X: float64(st), Y: v})
				s.ci = append(s.ci, ci)
			}
		}
		ss7 = append(ss7, s)
	}
	cs = append(cs, chart{name: "fig7-accuracy-by-step", title: "Fig. 7: test accuracy by distillation step", xlabel: "distillation step (0 = teacher)", ylabel: "accuracy at T = 1 (%)",
		series: ss7, xticks: steps, n: count(shown(r.maxStep(), tested), "test images per model"), interval: interval("Wilson intervals")})
	// Fig. 8: robustness against T for the chain's first three steps (as
	// in the paper), for all steps, and averaged over T by step.
	for _, a := range r.Attacks {
		cs = append(cs, chart{name: "fig8-" + a + "-by-T", title: "Fig. 8: mean minimal perturbation, teacher to student, " + unit(a), xlabel: "training temperature T", ylabel: "mean " + unit(a),
			series: vsT(tas, meanDist(a)), xticks: ts, n: count(shown(tas, successes(a)), "successful attacks per model"), interval: interval("bootstrap intervals of the mean")})
		if r.maxStep() > 2 {
			cs = append(cs, chart{name: "fig8-" + a + "-by-T-all-steps", title: fmt.Sprintf("Fig. 8, all %d steps: mean minimal perturbation, %s", r.maxStep()+1, unit(a)),
				xlabel: "training temperature T", ylabel: "mean " + unit(a), series: vsT(r.maxStep(), meanDist(a)), xticks: ts,
				n: count(shown(r.maxStep(), successes(a)), "successful attacks per model"), interval: interval("bootstrap intervals of the mean")})
		}
		avg := series{name: "mean over T", color: color.RGBA{40, 40, 40, 255}}
		var ns []int
		temps := 0
		if hasCI {
			for _, sm := range an.StepMeans {
				if sm.Attack == a {
					avg.pts = append(avg.pts, plotter.XY{X: float64(sm.Step), Y: sm.Mean.Value})
					avg.ci = append(avg.ci, sm.Mean.CI)
					ns = append(ns, sm.N)
					temps = max(temps, sm.Temperatures)
				}
			}
		} else {
			for st := 0; st <= r.maxStep(); st++ {
				var sum float64
				var n, k int
				for _, t := range ts {
					if m, ok := r.find(t, st); ok {
						if v, _, ok := meanDist(a)(m); ok {
							sum += v
							k++
							n += m.Summary.Robustness[a].Successes
						}
					}
				}
				if k > 0 {
					avg.pts = append(avg.pts, plotter.XY{X: float64(st), Y: sum / float64(k)})
					ns = append(ns, n)
					temps = max(temps, k)
				}
			}
		}
		cs = append(cs, chart{name: "fig8-" + a + "-average", title: "Fig. 8: mean minimal perturbation by step, averaged over T, " + unit(a),
			xlabel: "distillation step (0 = teacher)", ylabel: "mean " + unit(a), series: []series{avg}, xticks: steps,
			n: count(ns, fmt.Sprintf("successful attacks per step, over %d temperatures", temps)), interval: interval("stratified bootstrap intervals")})
	}
	// Robustness curves at the largest T: the share of attacked images whose
	// minimal perturbation exceeds ε.
	if hasCI && len(ts) > 0 {
		tmax := ts[len(ts)-1]
		for _, a := range r.Attacks {
			var ss []series
			var ns []int
			for _, cv := range an.Curves {
				if cv.Temperature != tmax || cv.Attack != a || cv.Step > tas {
					continue
				}
				s := series{name: catalog.DisplayName(cv.Step), dotted: cv.Step == 0, color: roleColors[cv.Step]}
				for k, e := range cv.Eps {
					s.pts = append(s.pts, plotter.XY{X: e, Y: 100 * cv.Above[k]})
				}
				ss = append(ss, s)
				ns = append(ns, cv.N)
			}
			cs = append(cs, chart{name: "curve-" + a, title: fmt.Sprintf("Robustness curve at T = %g: share needing more than ε, %s", tmax, unit(a)),
				xlabel: "ε (" + unit(a) + ")", ylabel: "share of attacked images (%)", series: ss,
				n: count(ns, "attacked images per model") + "; a failed attack counts above every ε"})
		}
	}
	return cs
}

func figures(dir string, r Results, an findings.Result, hasCI bool) ([]figure, error) {
	lines := r.figureLines()
	var figs []figure
	for _, c := range charts(r, an, hasCI) {
		fig, err := c.write(dir, lines)
		if err != nil {
			return nil, err
		}
		figs = append(figs, fig)
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
	atk, err := attack.Defaults().Attack(a)
	if err != nil {
		return a + " distance"
	}
	if n := atk.Norm(); n != attack.NormL0 {
		return n.String() + " distance"
	}
	return "L0 (pixels)"
}

// Findings states, from the data, what they say about each of the paper's
// claims (package findings: paired comparisons with intervals and tests),
// then the training lengths and attack success rates the reader needs to
// weigh them.
func Findings(r Results) []string {
	r.sort()
	an, ok := r.Analysis()
	return findingsText(r, an, ok)
}

// findingsText is Findings from an analysis already made (ok false: none).
func findingsText(r Results, an findings.Result, ok bool) []string {
	var out []string
	if ok {
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
		if an.BudgetNote != "" {
			out = append(out, an.BudgetNote)
		}
		out = append(out, findings.PowerText(an.Power)...)
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

func writeHTML(dir string, r Results, an findings.Result, ok bool, figs []figure, sum *findings.Summary) error {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TADD reproduction</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#1d2330}
figure{display:inline-block;margin:8px;vertical-align:top}figure svg{width:520px;height:auto;border:1px solid #e3e6ee}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #d5d9e2;padding:3px 6px;text-align:right}
th{background:#f3f4f7}.note{color:#5b6478}table.claims td,table.claims th{text-align:left;vertical-align:top}.verdict{white-space:nowrap;font-weight:600}</style></head><body>`)
	fmt.Fprintf(&b, "<h1>Improving defensive distillation with a teacher assistant: reproduction on %s</h1>", html.EscapeString(r.Dataset))
	fmt.Fprintf(&b, `<p class="note">Preset %s: accuracy, sensitivity and confidence over %d test images; attacks (%s) on %s, each with a random target; %s. Every model is evaluated at T = 1.</p>`,
		html.EscapeString(r.Preset), r.Samples, html.EscapeString(strings.Join(r.Attacks, ", ")), html.EscapeString(r.attackedText()), html.EscapeString(r.Budget))
	fmt.Fprintf(&b, `<p class="note">%s</p>`, html.EscapeString(r.Run().Provenance(len(r.Models))))
	b.WriteString(notEvaluatedHTML(r.NotEvaluated))
	if r.BudgetCheck != nil && len(r.BudgetCheck.Over()) > 0 {
		line := r.budgetLine()
		fmt.Fprintf(&b, `<p class="note"><strong>%s.</strong></p>`, html.EscapeString(strings.ToUpper(line[:1])+line[1:]))
	}
	b.WriteString("<h2>Findings</h2>")
	lines := findingsText(r, an, ok)
	if sum != nil {
		// The claims as a table (each pooled effect on a line of its own,
		// the per-model comparisons folded away), then the other findings.
		b.WriteString(`<table class="claims"><tr><th>The paper claims</th><th>We find (95%)</th><th>Effect [95% interval], n, p</th></tr>`)
		for _, c := range sum.Claims {
			fmt.Fprintf(&b, `<tr><td>%s</td><td class="verdict">%s</td><td>`, html.EscapeString(c.Claim), html.EscapeString(string(c.Verdict)))
			if len(c.Effects) > 3 {
				fmt.Fprintf(&b, "<details><summary>%d comparisons</summary>", len(c.Effects))
			}
			for _, e := range c.Effects {
				fmt.Fprintf(&b, "<div>%s</div>", html.EscapeString(e.Text()))
			}
			if len(c.Effects) > 3 {
				b.WriteString("</details>")
			}
			if c.Note != "" {
				fmt.Fprintf(&b, `<div class="note">%s</div>`, html.EscapeString(c.Note))
			}
			b.WriteString("</td></tr>")
		}
		b.WriteString("</table>")
		lines = lines[len(sum.Claims):]
	}
	b.WriteString("<ul>")
	for _, s := range lines {
		fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(s))
	}
	b.WriteString("</ul>")
	if sum != nil {
		b.WriteString(`<h2>Per model, with 95% intervals</h2><p class="note">Accuracy with its Wilson interval over the evaluated test images; for each attack the mean minimal perturbation over the successful attacks with its bootstrap interval, and n = successful / attacked.</p><table><tr><th>T</th><th>model</th><th>accuracy</th>`)
		for _, a := range r.Attacks {
			fmt.Fprintf(&b, "<th>%s mean</th><th>n</th>", html.EscapeString(a))
		}
		b.WriteString("</tr>")
		for _, m := range sum.Models {
			fmt.Fprintf(&b, "<tr><td>%g</td><td>%s</td><td>%s</td>", m.Temperature, html.EscapeString(m.Role), html.EscapeString(pct(m.Accuracy)))
			for _, a := range r.Attacks {
				as := m.Attacks[a]
				fmt.Fprintf(&b, "<td>%s</td><td>%d/%d</td>", html.EscapeString(est(as.Mean)), as.Successes, as.N)
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</table>")
	}
	b.WriteString("<h2>Figures</h2>")
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
			fmt.Fprintf(&b, "<th>%s</th>", catalog.DisplayName(st))
		}
		b.WriteString("</tr>")
		for st := 0; st <= r.maxStep(); st++ {
			m, ok := r.find(t, st)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "<tr><th>%s</th>", catalog.DisplayName(st))
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
	b.WriteString("<p class=\"note\">Raw numbers: results.csv, results.json, transfer.csv; the analysis: findings.json, summary.json; per-sample results: samples/.</p></body></html>\n")
	return os.WriteFile(filepath.Join(dir, "report.html"), []byte(b.String()), 0o644)
}

// SetBudgetCheck records the run's budget check: in the results, and in
// words in the budget's description.
func (r *Results) SetBudgetCheck(c reproduce.BudgetCheck) {
	r.Budget += ". " + c.Text()
	r.BudgetCheck = &c
}
