// Package demo is the state and behaviour of the web demo, in plain Go so
// that it is tested natively: the drawing and its MNIST-style input, the
// chosen model (temperature and chain step, fetched on demand and cached),
// its predictions, and the attacks, which run in a goroutine and report live.
// The vugu components in package main only draw this state and forward
// input to it.
package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/metrics"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/render"
	"github.com/tadd-project/tadd/core/weights"
)

// Fetcher gets a file of the site by path (over HTTP in the browser).
type Fetcher func(path string) ([]byte, error)

// ModelInfo is what the demo needs of a manifest entry.
type ModelInfo struct {
	File         string  `json:"file"`
	Dataset      string  `json:"dataset"`
	Temperature  float64 `json:"temperature"`
	Step         int     `json:"step"`
	Role         string  `json:"role"`
	TestAccuracy float64 `json:"test_accuracy"`
	Epochs       int     `json:"epochs"`
}

// Name is the model's place in its chain in words: teacher, assistant,
// student, then "step 3" to "step 6".
func (m ModelInfo) Name() string {
	if m.Step <= 2 {
		return m.Role
	}
	return fmt.Sprintf("step %d", m.Step)
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
}

// GradientSign names the baseline attack of the kind defensive distillation
// was designed against (attack.GradientSign: one step along the sign of the
// input gradient), run beside a C&W attack to show why distillation seemed
// to work.
const GradientSign = "fgsm"

// AttackLabel is an attack's name as the page writes it: L2, L0, L∞.
func AttackLabel(name string) string {
	switch name {
	case "l2":
		return "L2"
	case "l0":
		return "L0"
	case "linf":
		return "L∞"
	case GradientSign:
		return "gradient sign"
	}
	return name
}

// FormatDistance writes a distance in the attack's own norm: a count of
// pixels for L0, three decimals otherwise.
func FormatDistance(name string, d float64) string {
	if math.IsInf(d, 1) {
		return "none"
	}
	if name == "l0" {
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
	Model   ModelInfo
	Attack  string
	Result  attack.Result
	Probs   []float32
	Elapsed time.Duration
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
	Models []ModelInfo // the networks attacked, in chain order
	// Baseline says the run put the gradient-sign baseline beside Attack
	// on one network.
	Baseline bool
	Parallel int // how many attacks ran at once
	Elapsed  time.Duration
}

// App is the whole demo state.
type App struct {
	fetch   Fetcher
	Models  []ModelInfo // MNIST models of the manifest, by T then step
	cache   map[string]*nn.Model
	T       float64
	Step    int
	Loading bool
	Error   string
	Gallery *data.Set
	// Picked is the gallery digit drawn on (-1: none); Base is its image,
	// under the strokes.
	Picked  int
	Base    []float32
	Strokes []data.Stroke
	Input   []float32 // 28×28, what the model sees
	Probs   []float32
	// Sensitivity is the input gradient's size for the chosen model at
	// T = 1 (see sensitivity): what a gradient-following attack follows.
	Sensitivity float64
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
	jobDone []bool
	// Transfer's last rows, for transferFor with transferLoaded networks.
	transferFor    *Live
	transferLoaded int
	transfer       []TransferRow

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
	return &App{fetch: fetch, cache: map[string]*nn.Model{}, Attack: "l2", Target: "untargeted", T: 1, Picked: -1, Opened: -1,
		Input: make([]float32, 784), Lock: mu.Lock, Unlock: mu.Unlock, Notify: func() {}, Yield: runtime.Gosched}
}

// Init reads the manifest and the gallery. Call it before anything else.
func (a *App) Init() error {
	b, err := a.fetch("pretrained/manifest.json")
	if err != nil {
		return fmt.Errorf("model list: %w", err)
	}
	var man struct {
		Models []ModelInfo `json:"models"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return fmt.Errorf("model list: %w", err)
	}
	for _, m := range man.Models {
		if m.Dataset == "mnist" {
			a.Models = append(a.Models, m)
		}
	}
	if len(a.Models) == 0 {
		return fmt.Errorf("model list: no MNIST models")
	}
	sort.Slice(a.Models, func(i, j int) bool {
		if a.Models[i].Temperature != a.Models[j].Temperature {
			return a.Models[i].Temperature < a.Models[j].Temperature
		}
		return a.Models[i].Step < a.Models[j].Step
	})
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
	return err
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
func (a *App) Steps() []ModelInfo {
	var out []ModelInfo
	for _, m := range a.Models {
		if m.Temperature == a.T {
			out = append(out, m)
		}
	}
	return out
}

// Current is the chosen model's entry.
func (a *App) Current() (ModelInfo, bool) {
	for _, m := range a.Models {
		if m.Temperature == a.T && m.Step == a.Step {
			return m, true
		}
	}
	return ModelInfo{}, false
}

// model returns a cached model or fetches it (without holding the lock).
func (a *App) model(info ModelInfo) (*nn.Model, error) {
	a.Lock()
	m, ok := a.cache[info.File]
	a.Unlock()
	if ok {
		return m, nil
	}
	b, err := a.fetch("pretrained/" + info.File)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", info.File, err)
	}
	m, _, err = weights.Load(b, a.Kernels)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", info.File, err)
	}
	a.Lock()
	a.cache[info.File] = m
	a.Unlock()
	return m, nil
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
	_, cached := a.cache[best.File]
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
	a.Probs = probabilities(m, a.Input)
	a.Margin = MarginOf(m.Forward(a.Input, 1, false))
	a.Sensitivity = sensitivity(m, a.Input, nn.Argmax(a.Probs))
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
// mean |∂F_y/∂x_i| of the probability F_y of class y at T = 1, in float32
// as the attacker computes it, so that it is 0 when the gradient vanished.
func sensitivity(m *nn.Model, x []float32, y int) float64 {
	one := &data.Set{H: 28, W: 28, C: 1, Images: x, Labels: []uint8{uint8(y)}}
	return metrics.MeasureSensitivity(attack.NewModel(m, 1), one).MeanAmplitude
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
	return a.cache[cur.File]
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

// Logits returns the chosen model's logits for the current input, or nil
// when the model is not loaded. Call with the lock held.
func (a *App) Logits() []float32 {
	cur, ok := a.Current()
	if !ok {
		return nil
	}
	m, ok := a.cache[cur.File]
	if !ok {
		return nil
	}
	return append([]float32(nil), m.Forward(a.Input, 1, false)...)
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

// Clear empties the drawing. Call with the lock held.
func (a *App) Clear() {
	a.Strokes, a.Base, a.Picked = nil, nil, -1
	a.setInput(make([]float32, 784))
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
	a.Live, a.Outcomes, a.Ran, a.Opened, a.Stopped = nil, nil, nil, -1, false
	a.jobLive, a.jobDone = nil, nil
	a.Error = ""
}

func (a *App) setInput(x []float32) {
	a.Input = x
	a.discard()
	if cur, ok := a.Current(); ok {
		if m, ok := a.cache[cur.File]; ok {
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

// ComparedModels are the networks Compare chain attacks: the chain at the
// current T from the teacher up to the chosen network, and at least to the
// student. Call with the lock held.
func (a *App) ComparedModels() []ModelInfo {
	var models []ModelInfo
	for _, s := range a.Steps() {
		if s.Step <= max(a.Step, 2) {
			models = append(models, s)
		}
	}
	return models
}

// CanCompare says whether Compare chain can run now: a comparison needs
// one goal for every network, and "every other class" is nine.
func (a *App) CanCompare() bool { return a.Target != "all" }

// Start runs the chosen attack on the chosen model, or with compare on
// ComparedModels, in goroutines. Updates arrive through Notify at most
// every 50 ms per attack, each followed by Yield. Call with the lock held.
func (a *App) Start(compare bool) {
	if compare && !a.CanCompare() {
		return
	}
	cur, ok := a.Current()
	if !ok {
		return
	}
	models := []ModelInfo{cur}
	if compare {
		models = a.ComparedModels()
	}
	a.start(models, []string{a.Attack}, compare, false)
}

// StartBaseline runs the gradient-sign baseline and the chosen C&W attack
// on the chosen network, with the same goal: on a network distilled at a
// high T the first has no gradient to follow and fails, the second works
// on the logits and succeeds. Call with the lock held.
func (a *App) StartBaseline() {
	cur, ok := a.Current()
	if !ok || !a.CanCompare() {
		return
	}
	a.start([]ModelInfo{cur}, []string{GradientSign, a.Attack}, false, true)
}

func (a *App) start(models []ModelInfo, attacks []string, compare, baseline bool) {
	if a.Running || a.Blank() || len(a.Probs) == 0 {
		return
	}
	label := a.Predicted()
	goals, err := attack.Goals(a.Target, label, 10, logitsOf(a.Probs), nil)
	if err != nil {
		a.Error = err.Error()
		return
	}
	a.discard()
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.Running = true
	a.Compared, a.AllTargets = compare, a.Target == "all"
	x := append([]float32(nil), a.Input...)
	var jobs []Job
	for _, m := range models {
		for _, name := range attacks {
			for _, g := range goals {
				jobs = append(jobs, Job{Model: m, Attack: name, Input: x, Goal: g})
			}
		}
	}
	a.Ran = &Run{Input: x, T: a.T, Step: a.Step, Attack: a.Attack, Target: a.Target, Models: models, Baseline: baseline,
		Parallel: min(len(jobs), max(1, a.runner().Parallel()))}
	a.jobLive, a.jobDone = make([]*Live, len(jobs)), make([]bool, len(jobs))
	a.Live = &Live{Model: models[0].Name(), Target: goals[0].Target, Attack: jobs[0].Attack, Distance: math.Inf(1), Image: x, Probs: a.Probs}
	go a.runJobs(ctx, a.run, jobs)
}

// logitsOf recovers logits (up to a constant) from probabilities, for the
// least-likely target.
func logitsOf(p []float32) []float32 {
	z := make([]float32, len(p))
	for i, v := range p {
		z[i] = float32(math.Log(math.Max(float64(v), 1e-30)))
	}
	return z
}

// Job is one attack on one model: everything a Runner (in this goroutine or
// in a Web Worker) needs.
type Job struct {
	Model  ModelInfo   `json:"model"`
	Attack string      `json:"attack"`
	Input  []float32   `json:"input"`
	Goal   attack.Goal `json:"goal"`
}

// Runner runs attack jobs. Run blocks until the job ends (or ctx is
// cancelled) and calls progress with snapshots while it runs. Runs may
// overlap: the App runs a comparison's three jobs at once.
type Runner interface {
	Run(ctx context.Context, job Job, progress func(Live)) (attack.Result, error)
	// Parallel says how many jobs run at the same time.
	Parallel() int
}

// localRunner runs jobs in the App's own goroutines, with its model cache.
type localRunner struct {
	a        *App
	parallel int
}

// LocalRunner runs a's jobs in this process, up to parallel at once (one
// core each): the desktop playground's runner.
func LocalRunner(a *App, parallel int) Runner { return localRunner{a, max(parallel, 1)} }

func (r localRunner) Parallel() int { return max(r.parallel, 1) }

func (r localRunner) Run(ctx context.Context, job Job, progress func(Live)) (attack.Result, error) {
	m, err := r.a.model(job.Model)
	if err != nil {
		return attack.Result{}, err
	}
	// Jobs may run at once on the same model (every target, or the page
	// predicting meanwhile): each gets a replica with its own buffers.
	return RunJob(ctx, m.Replica(), job, Budgets(), progress, r.a.Yield)
}

// RunJob runs job's attack on m with the browser budgets, reporting a Live
// snapshot at most every 50 ms, each followed by yield (the host paints and
// handles Stop then).
func RunJob(ctx context.Context, m *nn.Model, job Job, cfgs attack.Configs, progress func(Live), yield func()) (attack.Result, error) {
	if len(job.Input) != m.InputSize() {
		return attack.Result{}, fmt.Errorf("input has %d values, the model takes %d", len(job.Input), m.InputSize())
	}
	clf := attack.NewModel(m, 1)
	if job.Attack == GradientSign {
		return attack.GradientSign(ctx, clf, job.Input, job.Goal)
	}
	start := time.Now()
	last := time.Time{}
	probs := make([]float32, 10)
	// The report shows one image and its own probabilities: the best
	// adversarial so far, classified on a replica (the attack's buffers
	// are in use), or before there is one the search's current image.
	view := m.Replica()
	var best, bestZ []float32
	obs := func(s attack.Step) {
		if time.Since(last) < 50*time.Millisecond {
			return
		}
		last = time.Now()
		img, z := s.Image, s.Logits
		if s.Best != nil {
			// Classify the best only when it changed.
			if !slices.Equal(s.Best, best) {
				best, bestZ = append(best[:0], s.Best...), append(bestZ[:0], view.Forward(s.Best, 1, false)...)
			}
			img, z = s.Best, bestZ
		}
		nn.SoftmaxT(probs, z, 1)
		progress(Live{Model: job.Model.Name(), Target: job.Goal.Target, Attack: job.Attack, Iteration: s.Iteration, Const: s.Const, BinaryStep: s.BinaryStep, Tau: s.Tau,
			Allowed: s.Allowed, Distance: s.BestDist, Image: append([]float32(nil), img...),
			Probs: append([]float32(nil), probs...), Best: s.Best != nil, Margin: MarginOf(z), Elapsed: time.Since(start)})
		if yield != nil {
			yield()
		}
	}
	return cfgs.Run(ctx, job.Attack, clf, job.Input, job.Goal, obs)
}

func (a *App) runner() Runner {
	if a.Runner != nil {
		return a.Runner
	}
	return localRunner{a, 1}
}

// runJobs runs the jobs of run number run, as many at once as the runner
// allows, and records each outcome as it finishes, unless the run was
// discarded meanwhile.
func (a *App) runJobs(ctx context.Context, run int, jobs []Job) {
	began := time.Now()
	r := a.runner()
	slots := make(chan struct{}, max(1, r.Parallel()))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			start := time.Now()
			res, err := r.Run(ctx, job, func(l Live) {
				a.Lock()
				if a.run == run {
					a.jobLive[i] = &l
					a.Live = a.watched()
				}
				a.Unlock()
				a.Notify()
			})
			a.Lock()
			defer func() { a.Unlock(); a.Notify() }()
			if a.run != run {
				return
			}
			if err != nil {
				if ctx.Err() == nil {
					a.Error = err.Error()
				}
				return
			}
			p := make([]float32, 10)
			nn.SoftmaxT(p, res.Logits, 1)
			a.jobDone[i] = true
			a.Outcomes = append(a.Outcomes, Outcome{Model: job.Model, Attack: job.Attack, Result: res, Probs: p, Elapsed: time.Since(start)})
			sort.Slice(a.Outcomes, func(i, j int) bool {
				oi, oj := a.Outcomes[i], a.Outcomes[j]
				if oi.Model.Step != oj.Model.Step {
					return oi.Model.Step < oj.Model.Step
				}
				if oi.Attack != oj.Attack {
					return oi.Attack == GradientSign // the baseline first
				}
				return oi.Result.Goal.Target < oj.Result.Goal.Target
			})
			if w := a.watched(); w != nil {
				a.Live = w
			} else {
				a.Live = outcomeLive(a.Outcomes[len(a.Outcomes)-1])
			}
		}()
	}
	wg.Wait()
	a.Lock()
	defer func() { a.Unlock(); a.Notify() }()
	if a.run != run {
		return
	}
	a.Running, a.cancel = false, nil
	a.Ran.Elapsed = time.Since(began)
	if ctx.Err() != nil {
		a.Stopped = true
		return
	}
	if len(a.Outcomes) > 0 {
		a.Open(a.defaultRow())
		go a.loadTransferModels(run)
	}
}

// transferModels are the networks Transfer classifies with: the chain at
// the run's T, and the T = 1 teacher. Call with the lock held.
func (a *App) transferModels() []ModelInfo {
	if a.Ran == nil {
		return nil
	}
	var out []ModelInfo
	for _, m := range a.Models {
		if m.Temperature == a.Ran.T || (m.Temperature == 1 && m.Step == 0) {
			out = append(out, m)
		}
	}
	return out
}

// loadTransferModels fetches the networks Transfer needs that the page has
// not loaded yet (attacks ran in Web Workers, with their own copies).
func (a *App) loadTransferModels(run int) {
	a.Lock()
	models := a.transferModels()
	a.Unlock()
	for _, m := range models {
		a.Lock()
		stale := a.run != run
		a.Unlock()
		if stale {
			return
		}
		if _, err := a.model(m); err != nil {
			a.Lock()
			a.Error = err.Error()
			a.Unlock()
			return
		}
		a.Notify()
	}
}

// TransferRow is how one network classifies the shown adversarial image.
type TransferRow struct {
	Model     ModelInfo
	Loaded    bool
	Predicted int
	Prob      float32
	Fooled    bool // the network does not give the original's class
}

// Transfer classifies the shown adversarial image with every network of
// the chain at the run's T and with the T = 1 teacher: does an example
// found on one network fool the others? Nil while a run goes on or when
// the shown image is not adversarial. Call with the lock held.
func (a *App) Transfer() []TransferRow {
	if a.Running || a.Ran == nil || a.Live == nil || !a.Live.Best || a.Opened < 0 || a.Opened >= len(a.Outcomes) {
		return nil
	}
	models := a.transferModels()
	loaded := 0
	for _, m := range models {
		if _, ok := a.cache[m.File]; ok {
			loaded++
		}
	}
	if a.transferFor == a.Live && a.transferLoaded == loaded {
		return a.transfer // the page renders often; classify once
	}
	label := a.Outcomes[a.Opened].Result.Goal.Label
	var rows []TransferRow
	for _, m := range models {
		r := TransferRow{Model: m}
		if net, ok := a.cache[m.File]; ok {
			p := probabilities(net, a.Live.Image)
			r.Loaded, r.Predicted = true, nn.Argmax(p)
			r.Prob, r.Fooled = p[r.Predicted], r.Predicted != label
		}
		rows = append(rows, r)
	}
	a.transferFor, a.transferLoaded, a.transfer = a.Live, loaded, rows
	return rows
}

// watched is the report the Watch panel follows while a run goes on: the
// first unfinished job that has reported, so that the panel stays on one
// network until it finishes. Call with the lock held.
func (a *App) watched() *Live {
	for i, l := range a.jobLive {
		if l != nil && !a.jobDone[i] {
			return l
		}
	}
	return nil
}

// defaultRow is the row opened when a run ends: the nearest target of
// every target on one network, the chosen network in a comparison.
func (a *App) defaultRow() int {
	if a.AllTargets && !a.Compared {
		for i, m := range a.Marked() {
			if m {
				return i
			}
		}
	}
	for i, o := range a.Outcomes {
		if o.Model.Step == a.Ran.Step && o.Attack == a.Ran.Attack {
			return i
		}
	}
	return 0
}

// Open shows row i of Outcomes in the Watch panel. Call with the lock held.
func (a *App) Open(i int) {
	if a.Running || i < 0 || i >= len(a.Outcomes) || a.Ran == nil {
		return
	}
	a.Opened = i
	a.Live = outcomeLive(a.Outcomes[i])
}

// outcomeLive is a finished attack as the Watch panel shows it.
func outcomeLive(o Outcome) *Live {
	return &Live{Model: o.Model.Name(), Target: o.Result.Goal.Target, Attack: o.Attack, Iteration: o.Result.Iterations,
		Image: o.Result.Adversarial, Probs: o.Probs, Best: o.Result.Success, Margin: MarginOf(o.Result.Logits), Elapsed: o.Elapsed,
		Distance: Distance(o.Attack, o.Result)}
}

// Marked says which rows of Outcomes the comparison highlights: the
// networks that needed the largest perturbation (a failed attack counts
// as infinite), or with every target on one network the nearest targets.
// Ties are all marked.
func (a *App) Marked() []bool {
	if a.Ran == nil || len(a.Outcomes) < 2 || a.Ran.Baseline {
		return nil
	}
	nearest := a.AllTargets && !a.Compared
	d := make([]float64, len(a.Outcomes))
	best := 0
	for i, o := range a.Outcomes {
		d[i] = Distance(a.Ran.Attack, o.Result)
		if (nearest && d[i] < d[best]) || (!nearest && d[i] > d[best]) {
			best = i
		}
	}
	marked := make([]bool, len(d))
	for i := range d {
		marked[i] = sameDistance(d[i], d[best])
	}
	return marked
}

// sameDistance says whether two distances tie: equal to six significant
// digits, or both infinite (two failed attacks).
func sameDistance(x, y float64) bool {
	if math.IsInf(x, 1) || math.IsInf(y, 1) {
		return math.IsInf(x, 1) && math.IsInf(y, 1)
	}
	return math.Abs(x-y) <= 1e-6*math.Max(math.Abs(x), math.Abs(y))
}

// Distance is the result's distance in the attack's own norm (pixels for
// L0), or +Inf when the attack failed.
func Distance(name string, r attack.Result) float64 {
	if !r.Success {
		return math.Inf(1)
	}
	if name == GradientSign {
		return r.LInf // the step ε
	}
	d, _ := metrics.Distance(name, r)
	return d
}

// Stop cancels a running attack; what it found so far stays, marked as
// stopped. Call with the lock held.
func (a *App) Stop() {
	if a.cancel != nil {
		a.cancel()
	}
}

// PNG returns a data URL of a 28×28 image (value 0..1, white on black).
func PNG(x []float32) string {
	if len(x) != 784 {
		x = make([]float32, 784)
	}
	return dataURL(render.Image(x, 28, 28, 1, 1))
}

// HeatPNG returns a data URL of the perturbation adv − x as a diverging map,
// amplified to full contrast: full colour is the largest change
// (LargestChange).
func HeatPNG(adv, x []float32) string {
	if len(adv) != 784 || len(x) != 784 {
		return PNG(nil)
	}
	return dataURL(render.Perturbation(adv, x, 28, 28, 1, 1, 0))
}

func dataURL(img *image.RGBA) string {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// liveJSON is Live on the wire between a Web Worker and the page: JSON has
// no infinity, so a distance without an adversarial example yet is null.
type liveJSON struct {
	Model      string        `json:"model"`
	Target     int           `json:"target"`
	Attack     string        `json:"attack"`
	Iteration  int           `json:"iteration"`
	Const      float64       `json:"const"`
	BinaryStep int           `json:"binary_step"`
	Tau        float64       `json:"tau"`
	Allowed    int           `json:"allowed"`
	Distance   *float64      `json:"distance"`
	Image      []float32     `json:"image"`
	Probs      []float32     `json:"probs"`
	Best       bool          `json:"best"`
	Margin     Margin        `json:"margin"`
	Elapsed    time.Duration `json:"elapsed_ns"`
}

// MarshalJSON encodes l, with an infinite Distance as null.
func (l Live) MarshalJSON() ([]byte, error) {
	w := liveJSON{l.Model, l.Target, l.Attack, l.Iteration, l.Const, l.BinaryStep, l.Tau, l.Allowed, nil, l.Image, l.Probs, l.Best, l.Margin, l.Elapsed}
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
	*l = Live{w.Model, w.Target, w.Attack, w.Iteration, w.Const, w.BinaryStep, w.Tau, w.Allowed, math.Inf(1), w.Image, w.Probs, w.Best, w.Margin, w.Elapsed}
	if w.Distance != nil {
		l.Distance = *w.Distance
	}
	return nil
}

// GoalText puts a target setting into words.
func GoalText(target string) string {
	switch target {
	case "untargeted":
		return "any other class"
	case "least":
		return "the least likely class"
	case "all":
		return "every other class"
	}
	return "class " + target
}

// StatusLine puts the shown run into words for the Watch panel: one
// attack's own state, or for several the run as a whole (how many are
// done, which one the panel watches, and the total time: attacks that ran
// at once shared the cores, so there are no honest times of each). Call
// with the lock held.
func (a *App) StatusLine() string {
	if a.Ran == nil || a.Live == nil {
		return ""
	}
	n := len(a.jobLive)
	if n <= 1 {
		who, details := a.Live.Describe(a.Running, a.Stopped)
		return who + " · " + strings.Join(details, " · ")
	}
	done := 0
	for _, d := range a.jobDone {
		if d {
			done++
		}
	}
	what := fmt.Sprintf("%s on %d networks at T=%g", AttackLabel(a.Ran.Attack), len(a.Ran.Models), a.Ran.T)
	switch {
	case a.Ran.Baseline:
		what = fmt.Sprintf("gradient sign and %s on %s at T=%g", AttackLabel(a.Ran.Attack), a.Ran.Models[0].Name(), a.Ran.T)
	case !a.Compared:
		what = fmt.Sprintf("%s against %d target classes on %s", AttackLabel(a.Ran.Attack), n, a.Ran.Models[0].Name())
	}
	if a.Running {
		s := fmt.Sprintf("%s · %d of %d done", what, done, n)
		if w := a.watched(); w != nil {
			_, details := w.Describe(true, false)
			s += " · watching " + w.Model + ": " + strings.Join(details, " · ")
		}
		return s
	}
	verb := "finished"
	if a.Stopped {
		verb = "stopped"
	}
	return fmt.Sprintf("%s · %s: %d of %d attacks done in %.1fs, %d at a time", what, verb, done, n, a.Ran.Elapsed.Seconds(), a.Ran.Parallel)
}

// WatchTitle says what the Watch panel's images show. Call with the lock
// held.
func (a *App) WatchTitle() string {
	if a.Ran == nil || a.Live == nil {
		return ""
	}
	goal := GoalText(a.Ran.Target)
	if a.Live.Target >= 0 {
		goal = fmt.Sprintf("class %d", a.Live.Target)
	}
	verb := "Showing"
	if a.Running {
		verb = "Watching"
	}
	return fmt.Sprintf("%s: %s at T=%g · %s · goal %s", verb, a.Live.Model, a.Ran.T, AttackLabel(a.Live.Attack), goal)
}

// ImageCaption says what the Watch panel's second image is. Call with the
// lock held.
func (a *App) ImageCaption() string {
	switch l := a.Live; {
	case l == nil:
		return "adversarial (run an attack)"
	case a.Running && l.Best:
		return "best adversarial so far"
	case a.Running:
		return "the search's current image (not adversarial yet)"
	case l.Best && a.Stopped:
		return "best adversarial found before the stop"
	case l.Best:
		return "adversarial example"
	case a.Stopped:
		return "the search's last image (not adversarial)"
	}
	return "no adversarial example found (the original)"
}

// StopNote explains a stopped run: what the image shown is. Call with the
// lock held.
func (a *App) StopNote() string {
	if !a.Stopped || a.Live == nil {
		return ""
	}
	l := a.Live
	s := fmt.Sprintf("Stopped after %d iterations", l.Iteration)
	if n := len(a.jobLive); n > 1 {
		s = fmt.Sprintf("Stopped with %d of %d attacks done; %s at iteration %d", len(a.Outcomes), n, l.Model, l.Iteration)
	}
	if l.Best {
		return s + ". The image is the best adversarial example found before the stop (" + AttackLabel(l.Attack) + " " +
			FormatDistance(l.Attack, l.Distance) + "); the whole search might have found a smaller change."
	}
	return s + ", before any adversarial example was found: the image is the search's last step, and it is not adversarial."
}

// SensitivityText writes a sensitivity for the page: in powers of ten, or
// for 0 that the gradient vanished (every component rounded to 0 in float32).
func SensitivityText(v float64) string {
	if v == 0 {
		return "0: the gradient has vanished"
	}
	e := int(math.Floor(math.Log10(v)))
	m := v / math.Pow(10, float64(e))
	sup := map[rune]rune{'-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹'}
	var exp []rune
	for _, r := range fmt.Sprint(e) {
		exp = append(exp, sup[r])
	}
	return fmt.Sprintf("%.1f×10%s", m, string(exp))
}

// StripPNG returns a data URL of the original, the adversarial image and
// the perturbation (amplified to full contrast) side by side, each 28×28
// pixels times scale: the download of the Watch panel.
func StripPNG(orig, adv []float32, scale int) string {
	if len(orig) != 784 || len(adv) != 784 {
		return ""
	}
	scale = max(scale, 1)
	return dataURL(render.Row(0, render.Image(orig, 28, 28, 1, scale), render.Image(adv, 28, 28, 1, scale),
		render.Perturbation(adv, orig, 28, 28, 1, scale, 0)))
}

// LargestChange is the largest |adv − x| of any pixel: the colour scale's
// end in the perturbation map.
func LargestChange(adv, x []float32) float64 {
	m := 0.0
	for i := range min(len(adv), len(x)) {
		m = math.Max(m, math.Abs(float64(adv[i]-x[i])))
	}
	return m
}

// Query is the page's state as URL parameters, for a link that restores
// it: temperature, network, attack, target and the gallery digit.
func (a *App) Query() url.Values {
	q := url.Values{}
	q.Set("T", fmt.Sprint(a.T))
	q.Set("net", fmt.Sprint(a.Step))
	q.Set("attack", a.Attack)
	q.Set("target", a.Target)
	if a.Picked >= 0 && len(a.Strokes) == 0 {
		q.Set("digit", fmt.Sprint(a.Picked))
	}
	return q
}

// ApplyQuery restores what Query wrote (values that do not parse or do not
// exist are ignored) and returns the temperature and step to Choose. Call
// with the lock held, after Init.
func (a *App) ApplyQuery(q url.Values) (t float64, step int) {
	t, step = a.T, a.Step
	if v, err := strconv.ParseFloat(q.Get("T"), 64); err == nil {
		for _, have := range a.Temperatures() {
			if have == v {
				t = v
			}
		}
	}
	if v, err := strconv.Atoi(q.Get("net")); err == nil && v >= 0 && v <= 6 {
		step = v
	}
	switch v := q.Get("attack"); v {
	case "l2", "l0", "linf":
		a.Attack = v
	}
	switch v := q.Get("target"); v {
	case "untargeted", "least", "all", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9":
		a.Target = v
	}
	if v, err := strconv.Atoi(q.Get("digit")); err == nil && a.Gallery != nil && v >= 0 && v < a.Gallery.Len() {
		a.UseGallery(v)
	}
	return t, step
}
