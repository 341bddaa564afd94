// Package demo is the state and behaviour of the interactive demo (the web
// page and the desktop playground both drive it), in plain Go so
// that it is tested natively: the drawing and its MNIST-style input, the
// chosen model (temperature and chain step, fetched on demand and cached),
// its predictions, and the attacks, which run in a goroutine and report live.
// The vugu components in package main only draw this state and forward
// input to it.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// Fetcher gets a file of the site by path (over HTTP in the browser).
type Fetcher func(path string) ([]byte, error)

// FetchModel returns the model file (a manifest entry's File) from
// models, fetching it through fetch and loading it with kern if it is not
// loaded: the page's and each Web Worker's cache.
func FetchModel(models *catalog.Cache[*nn.Model], fetch Fetcher, file string, kern kernel.Kernels) (*nn.Model, error) {
	if err := catalog.CheckFileName(file); err != nil {
		return nil, err
	}
	return models.Get(file, func() (*nn.Model, int64, error) {
		b, err := fetch("pretrained/" + file)
		if err != nil {
			return nil, 0, fmt.Errorf("loading %s: %w", file, err)
		}
		m, _, err := weights.Load(b, kern)
		if err != nil {
			return nil, 0, fmt.Errorf("loading %s: %w", file, err)
		}
		return m, int64(len(b)), nil
	})
}

// Budgets are the attack parameters of the browser: attack.QuickConfigs,
// the real algorithms (binary search over c, Adam, early abort, L0's pixel
// removal, L∞'s τ schedule) with smaller budgets than the paper's, so that
// an attack finishes in seconds in WebAssembly.
func Budgets() attack.Configs { return attack.QuickConfigs() }

// BudgetText describes Budgets for the page.
const BudgetText = "Browser budgets (the paper's in brackets): " + attack.QuickText

// Live is the state of a running attack, as last reported.
type Live struct {
	Model      string // role of the model attacked
	Target     int    // the goal's class, or attack.Untargeted
	Attack     string
	Iteration  int
	Const      float64
	BinaryStep int
	Tau        float64
	Allowed    int
	Distance   float64 // of the best adversarial so far (in the attack's norm); +Inf if none
	// Image is the best adversarial example so far when Best is set, else
	// the search's current image (not adversarial); Probs are Image's.
	Image   []float32
	Probs   []float32
	Best    bool
	Margin  Margin // Image's logit margin
	Elapsed time.Duration
	// Goal is the index of the reported goal among its job's goals (a job
	// attacks several goals on one network in one batch).
	Goal int
	// Finished says the goal's attack has ended; Result is then its
	// result (the same as the job's), so that a stopped job keeps the
	// goals that had finished.
	Finished bool
	Result   *attack.Result
}

// GradientSign names the baseline attack of the kind defensive distillation
// was designed against (attack.GradientSign: one step along the sign of the
// input gradient), run beside a C&W attack to show why distillation seemed
// to work.
const GradientSign = "fgsm"

// AttackLabel is an attack's name as the page writes it: L2, L0, L∞.
func AttackLabel(name string) string {
	if name == GradientSign {
		return "gradient sign"
	}
	if a, err := attack.Defaults().Attack(name); err == nil {
		return a.Norm().String()
	}
	return name
}

// FormatDistance writes a distance in the attack's own norm: a count of
// pixels for L0, three decimals otherwise.
func FormatDistance(name string, d float64) string {
	if math.IsInf(d, 1) {
		return "none"
	}
	if a, err := attack.Defaults().Attack(name); err == nil && a.Norm() == attack.NormL0 {
		return fmt.Sprintf("%d pixels", int(math.Round(d)))
	}
	return fmt.Sprintf("%.3f", d)
}

// Describe puts the run's state into words for a status line: who is
// attacked (the model and the attack), then details — while running the
// iteration, the time so far, the constant c and the attack's own search
// state (binary-search step, τ or the allowed-set size) and the best
// distance yet; afterwards how it ended. Each front end joins the details
// in its own style.
func (l *Live) Describe(running, stopped bool) (who string, details []string) {
	who = AttackLabel(l.Attack)
	if l.Model != "" {
		who = l.Model + " " + who
	}
	elapsed := fmt.Sprintf("%.1fs", l.Elapsed.Seconds())
	if !running {
		verb := "finished"
		if stopped {
			verb = "stopped"
		}
		return who, []string{fmt.Sprintf("%s after %d iterations", verb, l.Iteration), elapsed}
	}
	details = []string{fmt.Sprintf("iteration %d", l.Iteration), elapsed}
	if l.Const > 0 {
		details = append(details, fmt.Sprintf("c = %.3g", l.Const))
	}
	switch l.Attack {
	case "l2":
		details = append(details, fmt.Sprintf("binary-search step %d", l.BinaryStep+1))
	case "linf":
		details = append(details, fmt.Sprintf("τ = %.3f", l.Tau))
	case "l0":
		details = append(details, fmt.Sprintf("%d pixels allowed", l.Allowed))
	}
	if !math.IsInf(l.Distance, 1) && l.Distance > 0 {
		details = append(details, "best distance "+FormatDistance(l.Attack, l.Distance))
	}
	return who, details
}

// Outcome is a finished attack on one model.
type Outcome struct {
	Model   catalog.Entry
	Attack  string
	Result  attack.Result
	Probs   []float32
	Elapsed time.Duration
}

// Unfinished is an attack that a Stop ended before it finished: its
// network, attack and goal, and the iterations it had reported.
type Unfinished struct {
	Model     catalog.Entry
	Attack    string
	Goal      attack.Goal
	Iteration int
}

// Run is what a run of attacks was computed for: the input, the networks
// and the settings. The page shows a run's results only while all of them
// are still the page's.
type Run struct {
	Input  []float32
	T      float64
	Step   int // the chosen network
	Attack string
	Target string
	Models []catalog.Entry // the networks attacked, in chain order
	// Baseline says the run put the gradient-sign baseline beside Attack
	// on one network.
	Baseline bool
	Parallel int // how many batches ran at once
	Batches  int // how many batches the attacks ran in
	Elapsed  time.Duration
}

// App is the whole demo state.
type App struct {
	fetch   Fetcher
	Models  []catalog.Entry // MNIST models of the manifest, by T then step
	models  *catalog.Cache[*nn.Model]
	T       float64
	Step    int
	Loading bool
	Error   string
	Gallery *data.Set
	// Pictures draws the page's images, each once.
	Pictures *Pictures
	// Picked is the gallery digit drawn on (-1: none); Base is its image,
	// under the strokes.
	Picked  int
	Base    []float32
	Strokes []data.Stroke
	// Shape is the input the models take (28×28×1 for MNIST: the
	// gallery's images), known after Init.
	Shape nn.Shape
	Input []float32 // Shape.Size() values, what the model sees
	// Logits and Probs are the chosen model's answer for the input at T = 1.
	Logits, Probs []float32
	// Sensitivity is the input gradient's size for the chosen model at
	// T = 1 (see sensitivity): what a gradient-following attack follows.
	Sensitivity float64
	// Log10Sensitivity is log10 of it, measured beyond float64's range
	// (where Sensitivity is 0).
	Log10Sensitivity float64
	// Margin is the chosen model's logit margin for the input.
	Margin  Margin
	Attack  string // l2, l0, linf
	Target  string // a class "0".."9", "untargeted", "least", "all" (every other class)
	Running bool
	// Live is what the Watch panel shows: the watched attack while a run
	// goes on, then the opened row's result.
	Live *Live
	// Outcomes are the run's finished attacks, in chain order then by
	// target: one attack, a comparison or every target.
	Outcomes []Outcome
	// Unfinished are the attacks of a stopped run that had not ended, in
	// the order of Outcomes.
	Unfinished []Unfinished
	// Ran says what the shown Live and Outcomes were computed for; nil
	// when nothing is shown.
	Ran *Run
	// Opened is the row of Outcomes shown in the Watch panel (-1: none).
	Opened int
	// Stopped says the visitor stopped the shown run.
	Stopped bool
	cancel  context.CancelFunc
	// run counts runs and discards: a report of an older run is dropped.
	run     int
	jobLive []*Live // the run's jobs' last reports
	watch   int     // the job the Watch panel follows (-1: none yet)
	jobDone []bool
	// Transfer's last rows, for transferFor with transferLoaded networks.
	transferFor    *Live
	transferLoaded int
	transfer       []TransferRow
	// ink is EncodeInk(inkFor), the last input Query wrote.
	inkFor []float32
	ink    string

	// Compared and AllTargets say how the last run was started: on the
	// chain up to the chosen network, and against every other class.
	Compared, AllTargets bool
	// Runner runs the attacks: Web Workers in the browser when it has
	// them; nil runs them in the App's own goroutines.
	Runner Runner
	// Kernels runs the models' arithmetic: the browser's SIMD kernels when
	// the page loaded them, else (nil) the build's default.
	Kernels kernel.Kernels
	// Engine describes the kernels and where attacks run, for the page.
	Engine string
	// Lock and Unlock guard the state against the renderer; Notify asks
	// for a re-render. In the browser they are vugu's EventEnv; in tests,
	// a mutex.
	Lock, Unlock, Notify func()
	// Yield gives the host a chance to paint and handle input while an
	// attack runs. In the browser it must return to JavaScript's event loop
	// (a short time.Sleep does not: the Go scheduler stays busy).
	Yield func()
}

// New returns an App that reads the site through fetch.
func New(fetch Fetcher) *App {
	var mu sync.Mutex
	return &App{fetch: fetch, models: catalog.NewCache[*nn.Model](0), Attack: "l2", Target: "untargeted", T: 1, Picked: -1, Opened: -1, Pictures: &Pictures{},
		Lock: mu.Lock, Unlock: mu.Unlock, Notify: func() {}, Yield: runtime.Gosched}
}

// Init reads the manifest and the gallery. Call it before anything else.
func (a *App) Init() error {
	b, err := a.fetch("pretrained/manifest.json")
	if err != nil {
		return fmt.Errorf("model list: %w", err)
	}
	man, err := catalog.Parse(b)
	if err != nil {
		return fmt.Errorf("model list: %w", err)
	}
	a.Models = man.Dataset("mnist")
	if len(a.Models) == 0 {
		return fmt.Errorf("model list: no MNIST models")
	}
	a.T, a.Step = a.Models[0].Temperature, a.Models[0].Step
	imgs, err := a.fetch("pretrained/gallery-images.idx")
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	labels, err := a.fetch("pretrained/gallery-labels.idx")
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	a.Gallery, err = data.ReadMNIST("gallery", bytes.NewReader(imgs), bytes.NewReader(labels))
	if err != nil {
		return err
	}
	// The gallery's images are what a drawing becomes; a model that takes
	// another shape is refused when it loads.
	a.Shape = nn.Shape{H: a.Gallery.H, W: a.Gallery.W, C: a.Gallery.C}
	a.Input = make([]float32, a.Shape.Size())
	return nil
}

// Temperatures lists the temperatures that have models.
func (a *App) Temperatures() []float64 {
	var ts []float64
	for _, m := range a.Models {
		if len(ts) == 0 || ts[len(ts)-1] != m.Temperature {
			ts = append(ts, m.Temperature)
		}
	}
	return ts
}

// Steps lists the models at the current temperature.
func (a *App) Steps() []catalog.Entry {
	var out []catalog.Entry
	for _, m := range a.Models {
		if m.Temperature == a.T {
			out = append(out, m)
		}
	}
	return out
}

// Current is the chosen model's entry.
func (a *App) Current() (catalog.Entry, bool) {
	for _, m := range a.Models {
		if m.Temperature == a.T && m.Step == a.Step {
			return m, true
		}
	}
	return catalog.Entry{}, false
}

// model returns a cached model or fetches it (without holding the lock).
func (a *App) model(info catalog.Entry) (*nn.Model, error) {
	a.Lock()
	kern := a.Kernels
	a.Unlock()
	m, err := FetchModel(a.models, a.fetch, info.File, kern)
	if err == nil && m.InputSize() != a.Shape.Size() {
		return nil, fmt.Errorf("%s takes %d input values, the drawing has %d×%d×%d", info.File, m.InputSize(), a.Shape.H, a.Shape.W, a.Shape.C)
	}
	return m, err
}

// loaded returns the model of file if it is loaded and takes the
// drawing's shape.
func (a *App) loaded(file string) (*nn.Model, bool) {
	m, ok := a.models.Loaded(file)
	if !ok || m.InputSize() != a.Shape.Size() {
		return nil, false
	}
	return m, true
}

// Choose selects a temperature and step (the nearest step that exists),
// loads the model if needed and re-classifies. It blocks while fetching;
// call it from a goroutine in the browser.
func (a *App) Choose(t float64, step int) {
	a.Lock()
	a.T = t
	steps := a.Steps()
	if len(steps) == 0 {
		a.Error = fmt.Sprintf("no model at T=%g", t)
		a.Unlock()
		a.Notify()
		return
	}
	best := steps[0]
	for _, s := range steps {
		if math.Abs(float64(s.Step-step)) < math.Abs(float64(best.Step-step)) {
			best = s
		}
	}
	a.Step = best.Step
	if a.Ran != nil && (a.Ran.T != a.T || a.Ran.Step != a.Step) {
		a.discard()
	}
	_, cached := a.loaded(best.File)
	a.Loading = !cached
	a.Error = ""
	a.Unlock()
	a.Notify()
	m, err := a.model(best)
	a.Lock()
	a.Loading = false
	if err != nil {
		a.Error = err.Error()
	} else if cur, _ := a.Current(); cur.File == best.File {
		a.classify(m)
	}
	a.Unlock()
	a.Notify()
}

// classify computes the chosen model's probabilities and sensitivity for
// the input. Call with the lock held.
func (a *App) classify(m *nn.Model) {
	a.Logits = append([]float32(nil), m.Forward(a.Input, 1, false)...)
	a.Probs = make([]float32, len(a.Logits))
	nn.SoftmaxT(a.Probs, a.Logits, 1)
	a.Margin = MarginOf(a.Logits)
	a.Sensitivity, a.Log10Sensitivity = sensitivity(m, a.Input, nn.Argmax(a.Probs))
}

// Margin is how far the top logit leads the runner-up: the distance from
// the decision boundary in the network's own units. Softmax at T = 1 turns
// any margin over about 17 into 100.0%; the logits still tell them apart.
type Margin struct {
	Top, Second int
	By          float64
}

// MarginOf finds the top two logits of z.
func MarginOf(z []float32) Margin {
	if len(z) < 2 {
		return Margin{}
	}
	top := nn.Argmax(z)
	second := -1
	for i, v := range z {
		if i != top && (second < 0 || v > z[second]) {
			second = i
		}
	}
	return Margin{top, second, float64(z[top] - z[second])}
}

// String puts the margin into words.
func (m Margin) String() string {
	return fmt.Sprintf("%d leads %d by %.2f", m.Top, m.Second, m.By)
}

// sensitivity is the seed paper's sensitivity (Fig. 4) of one input: the
// mean |∂F_y/∂x_i| of the probability F_y of class y at T = 1 (0 below
// float64's range), and log10 of it measured beyond that range.
func sensitivity(m *nn.Model, x []float32, y int) (amp, log10 float64) {
	one := &data.Set{H: 28, W: 28, C: 1, Images: x, Labels: []uint8{uint8(y)}}
	a, l := eval.AmplitudesAndLog10(attack.NewClassifier(m, 1), one)
	return a[0], l[0]
}

// probabilities is softmax(Z) of one input at T = 1.
func probabilities(m *nn.Model, x []float32) []float32 {
	z := m.Forward(x, 1, false)
	p := make([]float32, len(z))
	nn.SoftmaxT(p, z, 1)
	return p
}

// Model returns the chosen model, or nil when it is not loaded. Call with
// the lock held.
func (a *App) Model() *nn.Model {
	cur, ok := a.Current()
	if !ok {
		return nil
	}
	m, _ := a.loaded(cur.File)
	return m
}

// TimeIteration returns the mean time of one attack iteration of m (a
// forward pass and an input gradient) on a batch of random images, over n
// iterations after one warm-up.
func TimeIteration(m *nn.Model, n, batch int) time.Duration {
	n, batch = max(n, 1), max(batch, 1)
	x := make([]float32, batch*m.InputSize())
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	dz := make([]float32, batch*m.Classes())
	for i := 0; i < len(dz); i += m.Classes() {
		dz[i] = 1
	}
	m.Forward(x, batch, false)
	m.InputGradient(dz, batch)
	start := time.Now()
	for range n {
		m.Forward(x, batch, false)
		m.InputGradient(dz, batch)
	}
	return time.Since(start) / time.Duration(n)
}

// Predicted is the class with the highest probability (-1 before any).
func (a *App) Predicted() int {
	if len(a.Probs) == 0 {
		return -1
	}
	return nn.Argmax(a.Probs)
}

// SetDrawing replaces the drawing (strokes on a w×h canvas with the given
// pen, over the picked gallery digit if any) and re-classifies. A running
// attack is cancelled: its input is gone. Call with the lock held.
func (a *App) SetDrawing(strokes []data.Stroke, w, h, pen float64) {
	a.Strokes = strokes
	x := data.Rasterize(strokes, w, h, pen)
	for i := range min(len(x), len(a.Base)) {
		x[i] = max(x[i], a.Base[i])
	}
	a.setInput(x)
}

// UseGallery shows gallery digit i, to draw on. Call with the lock held.
func (a *App) UseGallery(i int) {
	if a.Gallery == nil || i < 0 || i >= a.Gallery.Len() {
		return
	}
	a.Strokes, a.Picked = nil, i
	a.Base = append([]float32(nil), a.Gallery.Image(i)...)
	a.setInput(append([]float32(nil), a.Base...))
}

// UseImage shows a 28×28 image (a shared link's drawing) as the digit to
// draw on. Call with the lock held.
func (a *App) UseImage(x []float32) {
	if len(x) != a.Shape.Size() {
		return
	}
	a.Strokes, a.Picked = nil, -1
	a.Base = append([]float32(nil), x...)
	a.setInput(append([]float32(nil), x...))
}

// Clear empties the drawing. Call with the lock held.
func (a *App) Clear() {
	a.Strokes, a.Base, a.Picked = nil, nil, -1
	a.setInput(make([]float32, a.Shape.Size()))
}

// SetAttack chooses the attack; the shown results, of another attack, go.
// Refused while a run goes on. Call with the lock held.
func (a *App) SetAttack(name string) {
	if a.Running || name == a.Attack {
		return
	}
	a.Attack = name
	a.discard()
}

// SetTarget chooses the goal ("untargeted", "least", "all" or a class);
// the shown results, of another goal, go. Refused while a run goes on.
// Call with the lock held.
func (a *App) SetTarget(target string) {
	if a.Running || target == a.Target {
		return
	}
	a.Target = target
	a.discard()
}

// discard cancels a running attack and forgets the shown results: the
// input, the model or a setting changed, so they no longer belong to what
// the page shows. Reports of the old run that arrive later are dropped.
func (a *App) discard() {
	if a.cancel != nil {
		a.cancel()
	}
	a.run++
	a.cancel, a.Running = nil, false
	a.Live, a.Outcomes, a.Unfinished, a.Ran, a.Opened, a.Stopped = nil, nil, nil, nil, -1, false
	a.jobLive, a.jobDone, a.watch = nil, nil, -1
	a.Error = ""
}

func (a *App) setInput(x []float32) {
	a.Input = x
	a.discard()
	if cur, ok := a.Current(); ok {
		if m, ok := a.loaded(cur.File); ok {
			a.classify(m)
		}
	}
}

// Blank reports whether the input has no ink.
func (a *App) Blank() bool {
	for _, v := range a.Input {
		if v > 0 {
			return false
		}
	}
	return true
}

// liveJSON is Live on the wire between a Web Worker and the page: JSON has
// no infinity, so a distance without an adversarial example yet is null.
type liveJSON struct {
	Model      string         `json:"model"`
	Target     int            `json:"target"`
	Attack     string         `json:"attack"`
	Iteration  int            `json:"iteration"`
	Const      float64        `json:"const"`
	BinaryStep int            `json:"binary_step"`
	Tau        float64        `json:"tau"`
	Allowed    int            `json:"allowed"`
	Distance   *float64       `json:"distance"`
	Image      []float32      `json:"image"`
	Probs      []float32      `json:"probs"`
	Best       bool           `json:"best"`
	Margin     Margin         `json:"margin"`
	Elapsed    time.Duration  `json:"elapsed_ns"`
	Goal       int            `json:"goal"`
	Finished   bool           `json:"finished"`
	Result     *attack.Result `json:"result,omitempty"`
}

// MarshalJSON encodes l, with an infinite Distance as null.
func (l Live) MarshalJSON() ([]byte, error) {
	w := liveJSON{l.Model, l.Target, l.Attack, l.Iteration, l.Const, l.BinaryStep, l.Tau, l.Allowed, nil, l.Image, l.Probs, l.Best, l.Margin, l.Elapsed, l.Goal, l.Finished, l.Result}
	if !math.IsInf(l.Distance, 0) && !math.IsNaN(l.Distance) {
		w.Distance = &l.Distance
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (l *Live) UnmarshalJSON(b []byte) error {
	var w liveJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*l = Live{w.Model, w.Target, w.Attack, w.Iteration, w.Const, w.BinaryStep, w.Tau, w.Allowed, math.Inf(1), w.Image, w.Probs, w.Best, w.Margin, w.Elapsed, w.Goal, w.Finished, w.Result}
	if w.Distance != nil {
		l.Distance = *w.Distance
	}
	return nil
}
