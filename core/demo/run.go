package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/nn"
)

// ComparedModels are the networks Compare chain attacks: the chain at the
// current T from the teacher up to the chosen network, and at least to the
// student. Call with the lock held.
func (a *App) ComparedModels() []catalog.Entry {
	var models []catalog.Entry
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
	models := []catalog.Entry{cur}
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
	a.start([]catalog.Entry{cur}, []string{GradientSign, a.Attack}, false, true)
}

func (a *App) start(models []catalog.Entry, attacks []string, compare, baseline bool) {
	if a.Running || a.Blank() || len(a.Probs) == 0 {
		return
	}
	label := a.Predicted()
	goals, err := attack.Goals(a.Target, label, len(a.Logits), a.Logits, 1, 0)
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
	// Each network's goals run as batches sharing its forward and backward
	// passes, split so that every worker has one: networks cannot share a
	// pass, so the workers take the networks (or parts of one network's
	// goals) side by side.
	parallel := max(1, a.runner().Parallel())
	per := max(1, parallel/(len(models)*len(attacks)))
	var jobs []Job
	tasks := 0
	for _, m := range models {
		for _, name := range attacks {
			for _, part := range splitGoals(goals, per) {
				jobs = append(jobs, Job{Model: m, Attack: name, Input: x, Goals: part})
				tasks += len(part)
			}
		}
	}
	a.Ran = &Run{Input: x, T: a.T, Step: a.Step, Attack: a.Attack, Target: a.Target, Models: models, Baseline: baseline,
		Parallel: min(len(jobs), parallel), Batches: len(jobs)}
	a.jobLive, a.jobDone, a.watch = make([]*Live, tasks), make([]bool, tasks), -1
	a.Live = &Live{Model: models[0].DisplayName(), Target: goals[0].Target, Attack: jobs[0].Attack, Distance: math.Inf(1), Image: x, Probs: a.Probs}
	go a.runJobs(ctx, a.run, jobs)
}

// splitGoals cuts goals into k parts (at most one per goal) of sizes that
// differ by at most one, in order.
func splitGoals(goals []attack.Goal, k int) [][]attack.Goal {
	k = min(max(k, 1), len(goals))
	parts := make([][]attack.Goal, k)
	for i := range k {
		parts[i] = goals[i*len(goals)/k : (i+1)*len(goals)/k]
	}
	return parts
}

// Job is one attack on one model for one or more goals, run as one batch:
// everything a Runner (in this goroutine or in a Web Worker) needs.
type Job struct {
	Model  catalog.Entry `json:"model"`
	Attack string        `json:"attack"`
	Input  []float32     `json:"input"`
	Goals  []attack.Goal `json:"goals"`
}

// Runner runs attack jobs. Run blocks until the job ends (or ctx is
// cancelled), calls progress with snapshots of its goals while it runs,
// and returns one result per goal. Runs may overlap: the App runs a
// comparison's networks at once.
type Runner interface {
	Run(ctx context.Context, job Job, progress func(Live)) ([]attack.Result, error)
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

func (r localRunner) Run(ctx context.Context, job Job, progress func(Live)) ([]attack.Result, error) {
	m, err := r.a.model(job.Model)
	if err != nil {
		return nil, err
	}
	// Jobs may run at once on the same model (parts of every target, or
	// the page predicting meanwhile): each gets a replica with its own
	// buffers.
	return RunJob(ctx, m.Replica(), job, Budgets(), progress, r.a.Yield)
}

// RunJob runs job's attack on m with the budgets cfgs for all of the job's
// goals in one batch (the Attack's Run: each goal's attack is the one it
// gets alone, sharing the forward and backward passes), and returns one result per goal. It reports the first goal
// still running at most every 50 ms, each report followed by yield (the
// host paints and handles Stop then), and each goal once more, marked
// Finished, soon after its attack ends.
func RunJob(ctx context.Context, m *nn.Model, job Job, cfgs attack.Configs, progress func(Live), yield func()) ([]attack.Result, error) {
	if len(job.Input) != m.InputSize() {
		return nil, fmt.Errorf("input has %d values, the model takes %d", len(job.Input), m.InputSize())
	}
	n := len(job.Goals)
	if n == 0 {
		return nil, errors.New("a job without goals")
	}
	if job.Attack == GradientSign {
		clf := attack.NewClassifier(m, 1)
		results := make([]attack.Result, n)
		for i, g := range job.Goals {
			r, err := attack.GradientSign(ctx, clf, job.Input, g)
			if err != nil {
				return nil, err
			}
			results[i] = r
		}
		return results, nil
	}
	atk, err := cfgs.Attack(job.Attack)
	if err != nil {
		return nil, fmt.Errorf("%w (or %s)", err, GradientSign)
	}
	x := make([]float32, 0, n*len(job.Input))
	for range n {
		x = append(x, job.Input...)
	}
	start := time.Now()
	last := time.Time{}
	probs := make([]float32, m.Classes())
	// The report shows one image and its own probabilities: the best
	// adversarial so far, classified on a replica (the attack's buffers
	// are in use), or before there is one the search's current image.
	view := m.Replica()
	var best, bestZ []float32
	ended := make([]bool, n)
	watch := 0 // the first goal still running: the one reported
	finished := func(j int, r attack.Result) {
		if j < 0 || j >= n || ended[j] {
			return
		}
		ended[j] = true
		progress(Live{Model: job.Model.DisplayName(), Target: job.Goals[j].Target, Attack: job.Attack, Distance: math.Inf(1),
			Goal: j, Finished: true, Result: &r, Elapsed: time.Since(start)})
		for watch < n && ended[watch] {
			watch++
		}
	}
	// A goal's first adversarial is reported at once: on a fast machine a
	// whole attack can end within one reporting interval, and the live view
	// should still switch to the best so far.
	shownBest := make([]bool, n)
	obs := func(s attack.Step) {
		if s.Index != watch || s.Index >= n {
			return
		}
		first := s.Best != nil && !shownBest[s.Index]
		if !first && time.Since(last) < 50*time.Millisecond {
			return
		}
		shownBest[s.Index] = shownBest[s.Index] || s.Best != nil
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
		live := Live{Model: job.Model.DisplayName(), Target: job.Goals[s.Index].Target, Attack: job.Attack, Iteration: s.Iteration, Const: s.Const,
			Distance: s.BestDist, Image: append([]float32(nil), img...), Probs: append([]float32(nil), probs...), Best: s.Best != nil,
			Margin: MarginOf(z), Elapsed: time.Since(start), Goal: s.Index}
		switch st := s.Search.(type) {
		case attack.L2Search:
			live.BinaryStep = st.BinaryStep
		case attack.L0Search:
			live.Allowed = st.Allowed
		case attack.LInfSearch:
			live.Tau = st.Tau
		}
		progress(live)
		if yield != nil {
			yield()
		}
	}
	results, err := atk.Run(ctx, attack.NewClassifier(m, 1), x, job.Goals, n, obs, finished)
	if err != nil {
		return nil, err
	}
	if len(results) != n {
		return nil, fmt.Errorf("%d results for %d goals", len(results), n)
	}
	return results, nil
}

func (a *App) runner() Runner {
	if a.Runner != nil {
		return a.Runner
	}
	return localRunner{a, 1}
}

// runJobs runs the jobs of run number run, as many at once as the runner
// allows, and records each job's outcomes as it finishes, unless the run
// was discarded meanwhile. A Stop (ctx cancelled) keeps what had finished
// when it was pressed: reports and results that arrive after it (a Web
// Worker sees the stop message a little later) are not recorded.
func (a *App) runJobs(ctx context.Context, run int, jobs []Job) {
	began := time.Now()
	r := a.runner()
	slots := make(chan struct{}, max(1, r.Parallel()))
	var wg sync.WaitGroup
	first := 0 // the job's first goal among the run's (jobLive, jobDone)
	for _, job := range jobs {
		wg.Add(1)
		go func(first int) {
			defer wg.Done()
			// kept are the job's goals that have finished, from their
			// reports: what a Stop keeps of the job.
			kept := make([]*Live, len(job.Goals))
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				a.Lock()
				defer func() { a.Unlock(); a.Notify() }()
				a.stopped(run, job, first, kept)
				return
			}
			defer func() { <-slots }()
			start := time.Now()
			res, err := r.Run(ctx, job, func(l Live) {
				a.Lock()
				if a.run == run && ctx.Err() == nil && l.Goal >= 0 && l.Goal < len(job.Goals) {
					if l.Finished {
						a.jobDone[first+l.Goal] = true
						if l.Result != nil {
							kept[l.Goal] = &l
						}
					} else {
						a.jobLive[first+l.Goal] = &l
					}
					if w := a.watched(); w != nil {
						a.Live = w
					}
				}
				a.Unlock()
				a.Notify()
			})
			a.Lock()
			defer func() { a.Unlock(); a.Notify() }()
			if a.run != run {
				return
			}
			if ctx.Err() != nil {
				a.stopped(run, job, first, kept)
				return
			}
			if err != nil {
				a.Error = err.Error()
				return
			}
			for i, res := range res {
				a.jobDone[first+i] = true
				a.addOutcome(job, res, time.Since(start))
			}
			a.sortOutcomes()
			if w := a.watched(); w != nil {
				a.Live = w
			} else {
				a.Live = outcomeLive(a.Outcomes[len(a.Outcomes)-1])
			}
		}(first)
		first += len(job.Goals)
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

// addOutcome records one goal's result. Call with the lock held.
func (a *App) addOutcome(job Job, res attack.Result, elapsed time.Duration) {
	p := make([]float32, len(res.Logits))
	nn.SoftmaxT(p, res.Logits, 1)
	a.Outcomes = append(a.Outcomes, Outcome{Model: job.Model, Attack: job.Attack, Result: res, Probs: p, Elapsed: elapsed})
}

// stopped records what a Stop left of job (of run number run, whose goals
// start at first among the run's): the goals that had finished, from
// their Finished reports (kept), as outcomes, and the others as unfinished. Call
// with the lock held.
func (a *App) stopped(run int, job Job, first int, kept []*Live) {
	if a.run != run {
		return
	}
	for i, g := range job.Goals {
		if kept[i] != nil {
			a.jobDone[first+i] = true
			a.addOutcome(job, *kept[i].Result, kept[i].Elapsed)
			continue
		}
		u := Unfinished{Model: job.Model, Attack: job.Attack, Goal: g}
		if l := a.jobLive[first+i]; l != nil {
			u.Iteration = l.Iteration
		}
		a.Unfinished = append(a.Unfinished, u)
	}
	a.sortOutcomes()
}

// sortOutcomes puts Outcomes and Unfinished in chain order, the baseline
// first, then by target. Call with the lock held.
func (a *App) sortOutcomes() {
	less := func(mi, mj catalog.Entry, ai, aj string, ti, tj int) bool {
		if mi.Step != mj.Step {
			return mi.Step < mj.Step
		}
		if ai != aj {
			return ai == GradientSign // the baseline first
		}
		return ti < tj
	}
	sort.SliceStable(a.Outcomes, func(i, j int) bool {
		oi, oj := a.Outcomes[i], a.Outcomes[j]
		return less(oi.Model, oj.Model, oi.Attack, oj.Attack, oi.Result.Goal.Target, oj.Result.Goal.Target)
	})
	sort.SliceStable(a.Unfinished, func(i, j int) bool {
		ui, uj := a.Unfinished[i], a.Unfinished[j]
		return less(ui.Model, uj.Model, ui.Attack, uj.Attack, ui.Goal.Target, uj.Goal.Target)
	})
}

// transferModels are the networks Transfer classifies with: the chain at
// the run's T, and the T = 1 teacher. Call with the lock held.
func (a *App) transferModels() []catalog.Entry {
	if a.Ran == nil {
		return nil
	}
	var out []catalog.Entry
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
	Model     catalog.Entry
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
		if _, ok := a.loaded(m.File); ok {
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
		if net, ok := a.loaded(m.File); ok {
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
// job it followed until that job finishes, then the first unfinished job
// that has reported, so that the panel stays on one network until it
// finishes (a job that reports later does not take the panel over). Call
// with the lock held.
func (a *App) watched() *Live {
	if a.watch >= 0 && a.watch < len(a.jobLive) && !a.jobDone[a.watch] {
		return a.jobLive[a.watch]
	}
	for i, l := range a.jobLive {
		if l != nil && !a.jobDone[i] {
			a.watch = i
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
	return &Live{Model: o.Model.DisplayName(), Target: o.Result.Goal.Target, Attack: o.Attack, Iteration: o.Result.Iterations,
		Image: o.Result.Adversarial, Probs: o.Probs, Best: o.Result.Success, Margin: MarginOf(o.Result.Logits), Elapsed: o.Elapsed,
		Distance: Distance(o.Attack, o.Result)}
}

// Marked says which rows of Outcomes the comparison highlights: the
// networks that needed the largest perturbation (a failed attack counts
// as infinite), or with every target on one network the nearest targets.
// Ties are all marked. Nothing is marked while some attacks of a stopped
// run are unfinished: the comparison is incomplete.
func (a *App) Marked() []bool {
	if a.Ran == nil || len(a.Outcomes) < 2 || a.Ran.Baseline || len(a.Unfinished) > 0 {
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
	d, _ := eval.Distance(name, r)
	return d
}

// Stop cancels a running attack; what it found so far stays, marked as
// stopped. Call with the lock held.
func (a *App) Stop() {
	if a.cancel != nil {
		a.cancel()
	}
}
