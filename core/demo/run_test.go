package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
)

// heldRunner reports once, then holds each job until it is released or
// cancelled, so that a test can act while an attack runs.
type heldRunner struct {
	started   chan struct{}
	release   chan struct{}
	cancelled chan struct{}
}

func newHeldRunner() *heldRunner {
	return &heldRunner{started: make(chan struct{}, 16), release: make(chan struct{}), cancelled: make(chan struct{}, 16)}
}

func (r *heldRunner) Parallel() int { return 4 }

func (r *heldRunner) Run(ctx context.Context, job Job, progress func(Live)) ([]attack.Result, error) {
	progress(Live{Model: job.Model.DisplayName(), Attack: job.Attack, Iteration: 1, Distance: math.Inf(1), Image: job.Input, Probs: make([]float32, 10)})
	r.started <- struct{}{}
	select {
	case <-r.release:
		var rs []attack.Result
		for _, g := range job.Goals {
			adv := append([]float32(nil), job.Input...)
			rs = append(rs, attack.Result{Goal: g, Success: true, Adversarial: adv, Logits: make([]float32, 10), L2: 1, Iterations: 5})
		}
		return rs, nil
	case <-ctx.Done():
		r.cancelled <- struct{}{}
		return nil, ctx.Err()
	}
}

// TestChangeDuringRunDiscardsIt: a result is shown only with the input,
// model and settings it was computed for. Changing the input cancels a
// running attack, and its late result is dropped; changing the model or a
// setting afterwards removes the shown result.
func TestChangeDuringRunDiscardsIt(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(a *App)
	}{
		{"gallery", func(a *App) { a.UseGallery(2) }},
		{"clear", func(a *App) { a.Clear() }},
		{"draw", func(a *App) { a.SetDrawing([]data.Stroke{{{X: 10, Y: 10}, {X: 200, Y: 200}}}, 280, 280, 20) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := ready(t)
			r := newHeldRunner()
			a.Runner = r
			a.UseGallery(0)
			a.Lock()
			a.Start(false)
			a.Unlock()
			<-r.started
			a.Lock()
			c.change(a)
			a.Unlock()
			select {
			case <-r.cancelled:
			case <-time.After(10 * time.Second):
				t.Fatal("the attack on the old input was not cancelled")
			}
			close(r.release)
			time.Sleep(50 * time.Millisecond)
			a.Lock()
			defer a.Unlock()
			if a.Running || a.Ran != nil || a.Live != nil || len(a.Outcomes) != 0 || a.Stopped {
				t.Fatalf("after the change: running %v, ran %v, live %v, %d outcomes, stopped %v", a.Running, a.Ran, a.Live, len(a.Outcomes), a.Stopped)
			}
		})
	}
	for _, c := range []struct {
		name   string
		change func(a *App)
	}{
		{"network", func(a *App) { a.Choose(1, 1) }},
		{"temperature", func(a *App) { a.Choose(20, 0) }},
		{"attack", func(a *App) { a.Lock(); a.SetAttack("l0"); a.Unlock() }},
		{"target", func(a *App) { a.Lock(); a.SetTarget("4"); a.Unlock() }},
	} {
		t.Run("after/"+c.name, func(t *testing.T) {
			a := ready(t)
			a.UseGallery(0)
			a.Lock()
			a.Target = "3"
			a.Start(false)
			a.Unlock()
			wait(t, a)
			if len(a.Outcomes) != 1 || a.Ran == nil {
				t.Fatalf("%d outcomes (%q)", len(a.Outcomes), a.Error)
			}
			c.change(a)
			if a.Ran != nil || a.Live != nil || len(a.Outcomes) != 0 {
				t.Fatalf("after a %s change the result is still shown", c.name)
			}
		})
	}
}

func TestComparedModels(t *testing.T) {
	a := New(nil)
	for step := range 7 {
		a.Models = append(a.Models, catalog.Entry{Identity: catalog.Identity{Temperature: 20, Step: step, Role: catalog.Role(step)}})
		a.Models = append(a.Models, catalog.Entry{Identity: catalog.Identity{Temperature: 1, Step: step}})
	}
	a.T = 20
	for _, c := range []struct{ step, want int }{{0, 3}, {2, 3}, {4, 5}, {6, 7}} {
		a.Step = c.step
		got := a.ComparedModels()
		if len(got) != c.want {
			t.Errorf("at step %d: %d networks, want %d", c.step, len(got), c.want)
		}
		for i, m := range got {
			if m.Step != i || m.Temperature != 20 {
				t.Errorf("at step %d: network %d is step %d at T=%g", c.step, i, m.Step, m.Temperature)
			}
		}
	}
	a.Target = "all"
	if a.CanCompare() {
		t.Error("Compare chain offered for every other class (nine goals)")
	}
}

func TestMarkedTies(t *testing.T) {
	ok := func(l2 float64) Outcome { return Outcome{Result: attack.Result{Success: true, L2: l2}} }
	failed := Outcome{Result: attack.Result{Success: false, L2: 0}}
	for _, c := range []struct {
		name     string
		outcomes []Outcome
		all      bool
		want     []bool
	}{
		{"largest", []Outcome{ok(1), ok(3), ok(2)}, false, []bool{false, true, false}},
		{"tie", []Outcome{ok(2), ok(1), ok(2)}, false, []bool{true, false, true}},
		{"failed is most robust", []Outcome{ok(5), failed, ok(2)}, false, []bool{false, true, false}},
		{"two failed tie", []Outcome{failed, ok(1), failed}, false, []bool{true, false, true}},
		{"nearest target", []Outcome{ok(2), ok(1), failed}, true, []bool{false, true, false}},
		{"nearest tie", []Outcome{ok(1), ok(1), ok(3)}, true, []bool{true, true, false}},
	} {
		a := &App{Ran: &Run{Attack: "l2"}, Outcomes: c.outcomes, Compared: !c.all, AllTargets: c.all}
		if got := a.Marked(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: marked %v, want %v", c.name, got, c.want)
		}
	}
}

// TestGalleryDigitIsEditable: strokes add to a gallery digit, and undoing
// them gives the digit back.
func TestGalleryDigitIsEditable(t *testing.T) {
	a := ready(t)
	a.UseGallery(0)
	base := append([]float32(nil), a.Input...)
	if a.Picked != 0 {
		t.Fatalf("picked %d", a.Picked)
	}
	a.SetDrawing([]data.Stroke{{{X: 10, Y: 270}, {X: 100, Y: 270}}}, 280, 280, 20)
	more := false
	for i, v := range a.Input {
		if v < base[i] {
			t.Fatalf("pixel %d: %.2f under the digit's %.2f", i, v, base[i])
		}
		more = more || v > base[i]
	}
	if !more {
		t.Fatal("the stroke added no ink")
	}
	a.SetDrawing(nil, 280, 280, 20)
	if !reflect.DeepEqual(a.Input, base) {
		t.Fatal("undoing the stroke does not give the gallery digit back")
	}
	a.Clear()
	if a.Picked != -1 || a.Base != nil || !a.Blank() {
		t.Fatal("clear keeps the gallery digit")
	}
}

// TestLiveShowsOneImage: every report's probabilities are those of its
// image, and an image reported as the best adversarial is adversarial.
func TestLiveShowsOneImage(t *testing.T) {
	a, m, label, _ := readyDigit(t, 0)
	check := m.Replica()
	job := Job{Attack: "l2", Input: a.Input, Goals: []attack.Goal{{Label: label, Target: attack.Untargeted}}}
	best, reports := 0, 0
	cfgs := Budgets()
	_, err := RunJob(context.Background(), m.Replica(), job, cfgs, func(l Live) {
		if l.Finished { // the goal's end, without an image
			return
		}
		reports++
		p := make([]float32, 10)
		nn.SoftmaxT(p, check.Forward(l.Image, 1, false), 1)
		for i := range p {
			if math.Abs(float64(p[i]-l.Probs[i])) > 1e-5 {
				t.Fatalf("report %d: probabilities %v are not its image's %v", reports, l.Probs, p)
			}
		}
		if l.Best {
			best++
			if nn.Argmax(p) == label {
				t.Fatalf("report %d: the best adversarial is classified %d, the original label", reports, label)
			}
		}
	}, func() { time.Sleep(2 * time.Millisecond) })
	if err != nil {
		t.Fatal(err)
	}
	if best == 0 {
		t.Fatalf("none of %d reports had a best adversarial", reports)
	}
}

func TestStopNote(t *testing.T) {
	a := ready(t)
	a.UseGallery(0)
	r := newHeldRunner()
	a.Runner = r
	a.Lock()
	a.Start(false)
	a.Unlock()
	<-r.started
	a.Lock()
	a.Stop()
	a.Unlock()
	wait(t, a)
	a.Lock()
	note, caption := a.StopNote(), a.ImageCaption()
	a.Unlock()
	if !a.Stopped || a.Error != "" || !strings.Contains(note, "not adversarial") || !strings.Contains(caption, "not adversarial") {
		t.Fatalf("stopped %v, error %q, note %q, caption %q", a.Stopped, a.Error, note, caption)
	}
	a.UseGallery(1)
	if a.Stopped || a.StopNote() != "" {
		t.Fatal("the stop note survives a new digit")
	}
}

// TestAnnouncement checks what the live region says: nothing before a
// run, one line while it runs (not a progress report), then the result.
func TestAnnouncement(t *testing.T) {
	a := ready(t)
	a.UseGallery(0)
	if s := a.Announcement(); s != "" {
		t.Fatalf("before any run: %q", s)
	}
	r := newHeldRunner()
	a.Runner = r
	a.Lock()
	a.Start(false)
	a.Unlock()
	<-r.started
	a.Lock()
	running := a.Announcement()
	a.Stop()
	a.Unlock()
	wait(t, a)
	if running != "L2 attack running on teacher at T=1." {
		t.Errorf("while running: %q", running)
	}
	a.Lock()
	stopped, note := a.Announcement(), a.StopNote()
	a.Unlock()
	if stopped != note || note == "" {
		t.Errorf("after Stop: %q, want the stop note %q", stopped, note)
	}
	a = ready(t)
	a.UseGallery(0)
	a.Lock()
	a.Target = "3"
	a.Start(false)
	a.Unlock()
	wait(t, a)
	a.Lock()
	done := a.Announcement()
	a.Unlock()
	if !regexp.MustCompile(`^Adversarial example found: classified 3 · L0 \d+ pixels · L2 \d+\.\d{3} · L∞ \d\.\d{3}\.$`).MatchString(done) {
		t.Errorf("after the attack: %q", done)
	}
}

// shipped serves the shipped models and gallery from disk.
func shipped(t *testing.T) *App {
	t.Helper()
	a := New(func(path string) ([]byte, error) {
		return os.ReadFile(filepath.Join("../..", path))
	})
	if err := a.Init(); err != nil {
		t.Skipf("shipped models: %v", err)
	}
	return a
}

// TestGradientSignFailsWhereCWSucceeds is the lesson's first minute: on the
// shipped network distilled at T = 40 the input gradient of a gallery digit
// has vanished and the gradient-sign baseline fails, while C&W L2, working
// on the logits, succeeds; on the T = 1 teacher the gradient is there and
// the baseline succeeds too.
func TestGradientSignFailsWhereCWSucceeds(t *testing.T) {
	if testing.Short() {
		t.Skip("attacks on the shipped networks")
	}
	a := shipped(t)
	for _, c := range []struct {
		temp         float64
		baselineWins bool
	}{{40, false}, {1, true}} {
		a.Choose(c.temp, 0)
		if a.Error != "" {
			t.Fatal(a.Error)
		}
		a.Lock()
		a.UseGallery(0)
		sens, logSens := a.Sensitivity, a.Log10Sensitivity
		a.Attack, a.Target = "l2", "untargeted"
		a.StartBaseline()
		a.Unlock()
		wait(t, a)
		if len(a.Outcomes) != 2 || a.Outcomes[0].Attack != GradientSign || a.Outcomes[1].Attack != "l2" {
			t.Fatalf("T=%g: outcomes %+v (%q)", c.temp, a.Outcomes, a.Error)
		}
		t.Logf("T=%g: sensitivity %.3g; gradient sign success %v (ε %.3f), L2 success %v (%.3f)", c.temp, sens,
			a.Outcomes[0].Result.Success, a.Outcomes[0].Result.LInf, a.Outcomes[1].Result.Success, a.Outcomes[1].Result.L2)
		if got := a.Outcomes[0].Result.Success; got != c.baselineWins {
			t.Errorf("T=%g: gradient sign success %v, want %v", c.temp, got, c.baselineWins)
		}
		if !a.Outcomes[1].Result.Success {
			t.Errorf("T=%g: C&W L2 failed", c.temp)
		}
		if (sens == 0) == c.baselineWins {
			t.Errorf("T=%g: sensitivity %g", c.temp, sens)
		}
		// Measured beyond float64 where the amplitude is 0, and agreeing
		// with it where it is not.
		if math.IsInf(logSens, 0) || math.IsNaN(logSens) || (sens > 0 && math.Abs(logSens-math.Log10(sens)) > 1e-6) || (sens == 0 && logSens > -300) {
			t.Errorf("T=%g: log10 sensitivity %g, sensitivity %g", c.temp, logSens, sens)
		}
		if a.Live == nil || a.Live.Attack != "l2" || a.Marked() != nil {
			t.Errorf("T=%g: the panel shows %+v after the baseline run; marked %v", c.temp, a.Live, a.Marked())
		}
	}
}

func TestSensitivityText(t *testing.T) {
	for _, c := range []struct {
		v, log10 float64
		want     string
	}{
		{0, math.Inf(-1), "0: the gradient has vanished"},
		{0, -352.6, "about 10⁻³⁵³: the gradient has vanished (below the smallest float64, 10⁻³⁰⁸; an attack that follows it sees 0)"},
		{5.94e-14, math.Log10(5.94e-14), "5.9×10⁻¹⁴"}, {1e-3, -3, "1.0×10⁻³"}, {0.25, math.Log10(0.25), "2.5×10⁻¹"}, {3, math.Log10(3), "3.0×10⁰"},
	} {
		if got := SensitivityText(c.v, c.log10); got != c.want {
			t.Errorf("%g (log10 %g): %q, want %q", c.v, c.log10, got, c.want)
		}
	}
}

func TestMarginOf(t *testing.T) {
	m := MarginOf([]float32{1, 9, 3, 8.5})
	if m.Top != 1 || m.Second != 3 || math.Abs(m.By-0.5) > 1e-6 || m.String() != "1 leads 3 by 0.50" {
		t.Fatalf("%+v %q", m, m)
	}
}

// TestTransfer: after an attack, every network of the chain at that T
// (and the T = 1 teacher) classifies the adversarial image.
func TestTransfer(t *testing.T) {
	a := ready(t)
	a.Choose(20, 0)
	a.UseGallery(0)
	a.Lock()
	a.Target = "3"
	a.Start(false)
	a.Unlock()
	wait(t, a)
	deadline := time.Now().Add(time.Minute)
	for {
		a.Lock()
		rows := a.Transfer()
		a.Unlock()
		loaded := 0
		for _, r := range rows {
			if r.Loaded {
				loaded++
			}
		}
		if len(rows) == 4 && loaded == 4 {
			for _, r := range rows {
				// Every network is the same file: all are fooled into a 3.
				if r.Predicted != 3 || !r.Fooled {
					t.Fatalf("%s at T=%g: %+v", r.Model.DisplayName(), r.Model.Temperature, r)
				}
			}
			if rows[0].Model.Temperature != 1 {
				t.Fatalf("first row %+v, want the T=1 teacher", rows[0].Model)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("transfer rows %+v", rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStripPNG(t *testing.T) {
	x, adv := make([]float32, 784), make([]float32, 784)
	adv[10] = 0.5
	for _, scale := range []int{1, 10} {
		u := StripPNG(x, adv, scale)
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(u, "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 84*scale || cfg.Height != 28*scale {
			t.Fatalf("scale %d: %v, %dx%d", scale, err, cfg.Width, cfg.Height)
		}
	}
	if LargestChange(adv, x) != 0.5 {
		t.Fatal("largest change")
	}
}

// A job of nine goals runs as one batch and gives each goal the result it
// gets alone; every goal is reported finished once, the first goal still
// running is the one reported, and the reports carry their goal's target.
func TestBatchedJobMatchesSingleRuns(t *testing.T) {
	_, m, label, x := readyDigit(t, 1)
	goals, err := attack.Goals("all", label, 10, nil, 1, 0)
	if err != nil || len(goals) != 9 {
		t.Fatalf("goals %v, %v", goals, err)
	}
	cfgs := Budgets().WithMaxIterations(30)
	for _, name := range []string{"l2", "l0", "linf"} {
		t.Run(name, func(t *testing.T) {
			finished := make([]int, len(goals))
			watching := 0
			batch, err := RunJob(context.Background(), m.Replica(), Job{Attack: name, Input: x, Goals: goals}, cfgs, func(l Live) {
				if l.Goal < 0 || l.Goal >= len(goals) || l.Target != goals[l.Goal].Target {
					t.Fatalf("report for goal %d, target %d", l.Goal, l.Target)
				}
				if l.Finished {
					finished[l.Goal]++
					return
				}
				if finished[l.Goal] > 0 || l.Goal < watching {
					t.Fatalf("goal %d reported after it finished (or after goal %d)", l.Goal, watching)
				}
				for i := range l.Goal {
					if finished[i] == 0 {
						t.Fatalf("goal %d reported while goal %d still runs", l.Goal, i)
					}
				}
				watching = l.Goal
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range goals {
				single, err := RunJob(context.Background(), m.Replica(), Job{Attack: name, Input: x, Goals: []attack.Goal{g}}, cfgs, func(Live) {}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(batch[i], single[0]) {
					t.Fatalf("target %d: batched %+v\nalone %+v", g.Target, batch[i], single[0])
				}
				// The last goal to end is reported finished by the job's end,
				// not by a later round.
				if finished[i] > 1 {
					t.Errorf("goal %d reported finished %d times", i, finished[i])
				}
			}
			t.Logf("%s: %d of 9 goals reported finished before the batch ended", name, count(finished))
			if count(finished) == 0 {
				t.Error("no goal was reported finished while the others ran")
			}
		})
	}
}

func count(n []int) int {
	c := 0
	for _, v := range n {
		if v > 0 {
			c++
		}
	}
	return c
}

// Every other class on one network is one batch on one worker, split
// over the workers when there are several; the run's outcomes equal nine
// single runs.
func TestEveryTargetBatched(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			a := ready(t)
			rec := &recordingRunner{local: localRunner{a, workers}}
			a.Runner = rec
			a.UseGallery(1)
			runEveryTarget(t, a)
			a.Lock()
			defer a.Unlock()
			if len(a.Outcomes) != 9 || a.Error != "" {
				t.Fatalf("%d outcomes (%q)", len(a.Outcomes), a.Error)
			}
			if len(rec.sizes) != workers || a.Ran.Batches != workers {
				t.Fatalf("jobs of %v goals (%d batches), want %d", rec.sizes, a.Ran.Batches, workers)
			}
			sameAsAlone(t, a)
		})
	}
}

// recordingRunner runs jobs locally and records how many goals each had.
type recordingRunner struct {
	local Runner
	mu    sync.Mutex
	sizes []int
}

func (r *recordingRunner) Parallel() int { return r.local.Parallel() }

func (r *recordingRunner) Run(ctx context.Context, job Job, progress func(Live)) ([]attack.Result, error) {
	r.mu.Lock()
	r.sizes = append(r.sizes, len(job.Goals))
	r.mu.Unlock()
	return r.local.Run(ctx, job, progress)
}

// stopOnFinish runs jobs locally and stops the app's run as soon as the
// first goal reports its end.
type stopOnFinish struct {
	a       *App
	local   Runner
	stopped sync.Once
}

func (r *stopOnFinish) Parallel() int { return r.local.Parallel() }

func (r *stopOnFinish) Run(ctx context.Context, job Job, progress func(Live)) ([]attack.Result, error) {
	return r.local.Run(ctx, job, func(l Live) {
		progress(l)
		if l.Finished {
			r.stopped.Do(func() { r.a.Lock(); r.a.Stop(); r.a.Unlock() })
		}
	})
}

// TestStopKeepsFinishedTargets: Stop during a batched run against every
// other class keeps the targets that had finished (each the result it gets
// alone) and lists the others as unfinished; nothing is highlighted, since
// the comparison is incomplete.
func TestStopKeepsFinishedTargets(t *testing.T) {
	a := ready(t)
	a.Runner = &stopOnFinish{a: a, local: localRunner{a, 1}}
	a.UseGallery(1)
	a.Lock()
	a.Attack, a.Target = "l2", "all"
	a.Start(false)
	a.Unlock()
	wait(t, a)
	a.Lock()
	defer a.Unlock()
	if !a.Stopped || a.Error != "" {
		t.Fatalf("stopped %v, error %q", a.Stopped, a.Error)
	}
	if len(a.Outcomes) == 0 || len(a.Unfinished) == 0 || len(a.Outcomes)+len(a.Unfinished) != 9 {
		t.Fatalf("%d finished and %d unfinished targets, want some of each, 9 in all", len(a.Outcomes), len(a.Unfinished))
	}
	sameAsAlone(t, a)
	seen := map[int]bool{}
	for _, o := range a.Outcomes {
		seen[o.Result.Goal.Target] = true
	}
	for _, u := range a.Unfinished {
		if seen[u.Goal.Target] || u.Attack != "l2" {
			t.Fatalf("unfinished %+v is also finished, or of another attack", u)
		}
		seen[u.Goal.Target] = true
	}
	if len(seen) != 9 {
		t.Fatalf("targets %v, want the 9 other classes", seen)
	}
	if a.Marked() != nil {
		t.Fatal("a stopped, incomplete comparison highlights a row")
	}
	if note := a.StopNote(); !strings.Contains(note, fmt.Sprintf("%d of 9", len(a.Outcomes))) {
		t.Fatalf("stop note %q does not count the finished targets", note)
	}
}

// lateRunner reports its job's first goal finished, waits for a Stop, and
// then, like a Web Worker that had not yet seen the stop message, reports
// the other goals finished too and returns every result.
type lateRunner struct{ started chan struct{} }

func (r lateRunner) Parallel() int { return 1 }

func (r lateRunner) Run(ctx context.Context, job Job, progress func(Live)) ([]attack.Result, error) {
	var rs []attack.Result
	for _, g := range job.Goals {
		adv := append([]float32(nil), job.Input...)
		rs = append(rs, attack.Result{Goal: g, Success: true, Adversarial: adv, Logits: make([]float32, 10), L2: 1, Iterations: 5})
	}
	report := func(j int) {
		progress(Live{Model: job.Model.DisplayName(), Target: job.Goals[j].Target, Attack: job.Attack, Distance: math.Inf(1),
			Goal: j, Finished: true, Result: &rs[j]})
	}
	report(0)
	r.started <- struct{}{}
	<-ctx.Done()
	for j := 1; j < len(job.Goals); j++ {
		report(j)
	}
	return rs, nil
}

// TestStopKeepsWhatHadFinished: a Stop keeps the targets that had finished
// when it was pressed; reports and results that arrive after it (a worker
// answers a stop message a little later) are not added.
func TestStopKeepsWhatHadFinished(t *testing.T) {
	a := ready(t)
	r := lateRunner{started: make(chan struct{}, 1)}
	a.Runner = r
	a.UseGallery(1)
	a.Lock()
	a.Attack, a.Target = "l2", "all"
	a.Start(false)
	a.Unlock()
	<-r.started
	a.Lock()
	a.Stop()
	a.Unlock()
	wait(t, a)
	a.Lock()
	defer a.Unlock()
	if !a.Stopped || a.Error != "" {
		t.Fatalf("stopped %v, error %q", a.Stopped, a.Error)
	}
	if len(a.Outcomes) != 1 || len(a.Unfinished) != 8 {
		t.Fatalf("%d finished and %d unfinished targets after a Stop with 1 of 9 done, want 1 and 8", len(a.Outcomes), len(a.Unfinished))
	}
	if s := a.StatusLine(); !strings.Contains(s, "stopped: 1 of 9") {
		t.Fatalf("status line %q", s)
	}
}
