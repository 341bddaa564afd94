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
	"runtime"
	"sort"
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
	Image      []float32
	Probs      []float32
	Elapsed    time.Duration
}

// Describe puts the run's state into words for a status line: who is
// attacked (the model and the attack), then details — while running the
// iteration, the time so far, the constant c and the attack's own search
// state (binary-search step, τ or the allowed-set size) and the best
// distance yet; afterwards how it ended. Each front end joins the details
// in its own style.
func (l *Live) Describe(running, stopped bool) (who string, details []string) {
	who = l.Attack
	if l.Model != "" {
		who = l.Model + " " + l.Attack
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
		details = append(details, fmt.Sprintf("best distance %.3f", l.Distance))
	}
	return who, details
}

// Outcome is a finished attack on one model.
type Outcome struct {
	Model   ModelInfo
	Result  attack.Result
	Probs   []float32
	Elapsed time.Duration
}

// App is the whole demo state.
type App struct {
	fetch    Fetcher
	Models   []ModelInfo // MNIST models of the manifest, by T then step
	cache    map[string]*nn.Model
	T        float64
	Step     int
	Loading  bool
	Error    string
	Gallery  *data.Set
	Strokes  []data.Stroke
	Input    []float32 // 28×28, what the model sees
	Probs    []float32
	Attack   string // l2, l0, linf
	Target   string // a class "0".."9", "untargeted", "least", "all" (every other class)
	Running  bool
	Live     *Live
	Outcomes []Outcome // last attack (one), comparison (teacher, assistant, student) or every target
	cancel   context.CancelFunc

	// Compared and AllTargets say how the last run was started: on the
	// chain's first three models, and against every other class.
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
	return &App{fetch: fetch, cache: map[string]*nn.Model{}, Attack: "l2", Target: "untargeted", T: 1,
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
		a.Probs = probabilities(m, a.Input)
	}
	a.Unlock()
	a.Notify()
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
// pen) and re-classifies. Call with the lock held.
func (a *App) SetDrawing(strokes []data.Stroke, w, h, pen float64) {
	a.Strokes = strokes
	a.setInput(data.Rasterize(strokes, w, h, pen))
}

// UseGallery shows gallery digit i. Call with the lock held.
func (a *App) UseGallery(i int) {
	if a.Gallery == nil || i < 0 || i >= a.Gallery.Len() {
		return
	}
	a.Strokes = nil
	a.setInput(append([]float32(nil), a.Gallery.Image(i)...))
}

// Clear empties the drawing. Call with the lock held.
func (a *App) Clear() {
	a.Strokes = nil
	a.setInput(make([]float32, 784))
}

func (a *App) setInput(x []float32) {
	a.Input = x
	a.Outcomes, a.Live = nil, nil
	if cur, ok := a.Current(); ok {
		if m, ok := a.cache[cur.File]; ok {
			a.Probs = probabilities(m, x)
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

// Start runs the chosen attack on the chosen model, or with compare on the
// teacher, assistant and student at the current T one after the other, in a
// goroutine. Updates arrive through Notify at most every 50 ms, each
// followed by Yield. Call with the lock held.
func (a *App) Start(compare bool) {
	if a.Running || a.Blank() || len(a.Probs) == 0 {
		return
	}
	cur, ok := a.Current()
	if !ok {
		return
	}
	models := []ModelInfo{cur}
	if compare {
		models = nil
		for _, s := range a.Steps() {
			if s.Step <= 2 {
				models = append(models, s)
			}
		}
	}
	label := a.Predicted()
	goals, err := attack.Goals(a.Target, label, 10, logitsOf(a.Probs), 1, 0)
	if err != nil {
		a.Error = err.Error()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.Running, a.Error, a.Outcomes = true, "", nil
	a.Compared, a.AllTargets = compare, a.Target == "all"
	name, x := a.Attack, append([]float32(nil), a.Input...)
	var jobs []Job
	for _, m := range models {
		for _, g := range goals {
			jobs = append(jobs, Job{Model: m, Attack: name, Input: x, Goal: g})
		}
	}
	a.Live = &Live{Model: cur.Name(), Target: goals[0].Target, Attack: name, Distance: math.Inf(1), Image: x, Probs: a.Probs}
	go a.run(ctx, jobs)
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
	start := time.Now()
	last := time.Time{}
	probs := make([]float32, 10)
	obs := func(s attack.Step) {
		if time.Since(last) < 50*time.Millisecond {
			return
		}
		last = time.Now()
		nn.SoftmaxT(probs, s.Logits, 1)
		img := s.Image
		if s.Best != nil {
			img = s.Best
		}
		progress(Live{Model: job.Model.Name(), Target: job.Goal.Target, Attack: job.Attack, Iteration: s.Iteration, Const: s.Const, BinaryStep: s.BinaryStep, Tau: s.Tau,
			Allowed: s.Allowed, Distance: s.BestDist, Image: append([]float32(nil), img...),
			Probs: append([]float32(nil), probs...), Elapsed: time.Since(start)})
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

// run runs the jobs, as many at once as the runner allows, and records
// each outcome as it finishes.
func (a *App) run(ctx context.Context, jobs []Job) {
	defer func() {
		a.Lock()
		a.Running, a.cancel = false, nil
		a.Unlock()
		a.Notify()
	}()
	r := a.runner()
	slots := make(chan struct{}, max(1, r.Parallel()))
	var wg sync.WaitGroup
	for _, job := range jobs {
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
				a.Live = &l
				a.Unlock()
				a.Notify()
			})
			if err != nil {
				if ctx.Err() == nil {
					a.fail(err)
				}
				return
			}
			p := make([]float32, 10)
			nn.SoftmaxT(p, res.Logits, 1)
			a.Lock()
			a.Outcomes = append(a.Outcomes, Outcome{Model: job.Model, Result: res, Probs: p, Elapsed: time.Since(start)})
			sort.Slice(a.Outcomes, func(i, j int) bool {
				oi, oj := a.Outcomes[i], a.Outcomes[j]
				if oi.Model.Step != oj.Model.Step {
					return oi.Model.Step < oj.Model.Step
				}
				return oi.Result.Goal.Target < oj.Result.Goal.Target
			})
			a.Live = &Live{Model: job.Model.Name(), Target: job.Goal.Target, Attack: job.Attack, Iteration: res.Iterations, Image: res.Adversarial, Probs: p,
				Elapsed: time.Since(start), Distance: Distance(job.Attack, res)}
			a.Unlock()
			a.Notify()
		}()
	}
	wg.Wait()
	a.Lock()
	defer a.Unlock()
	if ctx.Err() != nil {
		a.Error = "stopped"
		return
	}
	if a.AllTargets && !a.Compared && len(a.Outcomes) > 0 {
		// Show the nearest adversarial example: the class the network is
		// closest to.
		best := a.Outcomes[0]
		for _, o := range a.Outcomes[1:] {
			if Distance(jobs[0].Attack, o.Result) < Distance(jobs[0].Attack, best.Result) {
				best = o
			}
		}
		a.Live = &Live{Model: best.Model.Name(), Target: best.Result.Goal.Target, Attack: jobs[0].Attack, Iteration: best.Result.Iterations,
			Image: best.Result.Adversarial, Probs: best.Probs, Elapsed: best.Elapsed, Distance: Distance(jobs[0].Attack, best.Result)}
	}
}

// Distance is the result's distance in the attack's own norm (pixels for
// L0), or +Inf when the attack failed.
func Distance(name string, r attack.Result) float64 {
	if !r.Success {
		return math.Inf(1)
	}
	d, _ := metrics.Distance(name, r)
	return d
}

func (a *App) fail(err error) {
	a.Lock()
	a.Error = err.Error()
	a.Unlock()
	a.Notify()
}

// Stop cancels a running attack. Call with the lock held.
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

// HeatPNG returns a data URL of the perturbation adv − x as a diverging map.
func HeatPNG(adv, x []float32) string {
	if len(adv) != 784 || len(x) != 784 {
		return PNG(nil)
	}
	return dataURL(render.Perturbation(adv, x, 28, 28, 1, 1, 1))
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
	Elapsed    time.Duration `json:"elapsed_ns"`
}

// MarshalJSON encodes l, with an infinite Distance as null.
func (l Live) MarshalJSON() ([]byte, error) {
	w := liveJSON{l.Model, l.Target, l.Attack, l.Iteration, l.Const, l.BinaryStep, l.Tau, l.Allowed, nil, l.Image, l.Probs, l.Elapsed}
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
	*l = Live{w.Model, w.Target, w.Attack, w.Iteration, w.Const, w.BinaryStep, w.Tau, w.Allowed, math.Inf(1), w.Image, w.Probs, w.Elapsed}
	if w.Distance != nil {
		l.Distance = *w.Distance
	}
	return nil
}
