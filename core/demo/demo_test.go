package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/weights"
)

// site serves the tiny MNIST model as a two-step "chain" at T=1 and T=20,
// and the real gallery, from disk.
func site(t testing.TB) Fetcher {
	t.Helper()
	model, err := os.ReadFile("../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var entries []catalog.Entry
	files := map[string][]byte{}
	for _, temp := range []float64{1, 20} {
		for step, role := range []string{"teacher", "assistant", "student"} {
			name := fmt.Sprintf("%s-T%g.safetensors", role, temp)
			entries = append(entries, catalog.EntryFor(name, catalog.Identity{Dataset: "mnist", Temperature: temp, Step: step, Role: role}, model))
			files["pretrained/"+name] = model
		}
	}
	man, _ := json.Marshal(map[string]any{"models": entries})
	files["pretrained/manifest.json"] = man
	for _, f := range []string{"gallery-images.idx", "gallery-labels.idx"} {
		b, err := os.ReadFile(filepath.Join("../../pretrained", f))
		if err != nil {
			t.Fatal(err)
		}
		files["pretrained/"+f] = b
	}
	return func(path string) ([]byte, error) {
		b, ok := files[path]
		if !ok {
			return nil, os.ErrNotExist
		}
		return b, nil
	}
}

func ready(t *testing.T) *App {
	a := New(site(t))
	if err := a.Init(); err != nil {
		t.Fatal(err)
	}
	a.Choose(1, 0)
	if a.Error != "" {
		t.Fatal(a.Error)
	}
	return a
}

// readyDigit is ready with gallery digit i picked: the app, its model, the
// label the model predicts and a copy of the input.
func readyDigit(t *testing.T, i int) (a *App, m *nn.Model, label int, x []float32) {
	t.Helper()
	a = ready(t)
	a.UseGallery(i)
	a.Lock()
	defer a.Unlock()
	return a, a.Model(), a.Predicted(), append([]float32(nil), a.Input...)
}

// runEveryTarget runs the L2 attack on every other class and waits for it.
func runEveryTarget(t *testing.T, a *App) {
	t.Helper()
	a.Lock()
	a.Attack, a.Target = "l2", "all"
	a.Start(false)
	a.Unlock()
	wait(t, a)
}

// sameAsAlone checks that every outcome is the result its goal gets when
// attacked alone on the run's input.
func sameAsAlone(t *testing.T, a *App) {
	t.Helper()
	m := a.Model()
	for _, o := range a.Outcomes {
		single, err := RunJob(context.Background(), m.Replica(), Job{Attack: "l2", Input: a.Ran.Input, Goals: []attack.Goal{o.Result.Goal}}, Budgets(), func(Live) {}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o.Result, single[0]) {
			t.Fatalf("target %d: in the run %+v\nalone %+v", o.Result.Goal.Target, o.Result, single[0])
		}
	}
}

func wait(t *testing.T, a *App) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		a.Lock()
		running := a.Running
		a.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("attack did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDrawAndClassify(t *testing.T) {
	a := ready(t)
	if got := a.Temperatures(); len(got) != 2 || got[0] != 1 || got[1] != 20 {
		t.Fatalf("temperatures %v", got)
	}
	// A drawn "1": a vertical stroke.
	a.SetDrawing([]data.Stroke{{{X: 200, Y: 40}, {X: 205, Y: 200}, {X: 210, Y: 360}}}, 400, 400, 28)
	if a.Blank() || a.Predicted() != 1 {
		t.Fatalf("drawn 1 predicted as %d (probs %v)", a.Predicted(), a.Probs)
	}
	a.UseGallery(0) // a 7
	if a.Predicted() != 7 || !strings.HasPrefix(PNG(a.Input), "data:image/png;base64,") {
		t.Fatalf("gallery 7 predicted as %d", a.Predicted())
	}
	a.Clear()
	if !a.Blank() {
		t.Fatal("clear left ink")
	}
	a.Choose(20, 5) // nearest existing step is 2
	if a.T != 20 || a.Step != 2 || a.Error != "" {
		t.Fatalf("choose: T %v step %d error %q", a.T, a.Step, a.Error)
	}
}

func TestAttacksRunLiveAndSucceed(t *testing.T) {
	for _, name := range []string{"l2", "l0", "linf"} {
		t.Run(name, func(t *testing.T) {
			a := ready(t)
			a.UseGallery(0)
			var notes atomic.Int32
			a.Notify = func() { notes.Add(1) }
			a.Lock()
			a.Attack, a.Target = name, "3"
			a.Start(false)
			a.Unlock()
			wait(t, a)
			if a.Error != "" || len(a.Outcomes) != 1 {
				t.Fatalf("error %q, %d outcomes", a.Error, len(a.Outcomes))
			}
			r := a.Outcomes[0].Result
			if !r.Success || r.Predicted != 3 {
				t.Fatalf("%s: success %v predicted %d", name, r.Success, r.Predicted)
			}
			if notes.Load() < 2 || a.Live == nil || a.Live.Iteration == 0 {
				t.Fatalf("%d notifications, live %+v", notes.Load(), a.Live)
			}
			if !strings.HasPrefix(HeatPNG(r.Adversarial, a.Input), "data:image/png") {
				t.Fatal("no heat map")
			}
		})
	}
}

func TestStopAndCompare(t *testing.T) {
	a := ready(t)
	a.UseGallery(1)
	a.Lock()
	a.Attack, a.Target = "l0", "untargeted"
	a.Start(false)
	a.Stop()
	a.Unlock()
	wait(t, a)
	if !a.Stopped || a.Error != "" || len(a.Outcomes) != 0 {
		t.Fatalf("after stop: stopped %v, error %q, %d outcomes", a.Stopped, a.Error, len(a.Outcomes))
	}
	a.Lock()
	a.Attack = "l2"
	a.Start(true)
	a.Unlock()
	wait(t, a)
	if len(a.Outcomes) != 3 || a.Outcomes[2].Model.Role != "student" {
		t.Fatalf("compare gave %d outcomes (%q)", len(a.Outcomes), a.Error)
	}
	for _, o := range a.Outcomes {
		if !o.Result.Success {
			t.Fatalf("%s: attack failed", o.Model.Role)
		}
	}
}

func TestLiveJSONRoundTrip(t *testing.T) {
	for _, l := range []Live{
		{Model: "teacher", Attack: "l2", Iteration: 7, Const: 0.5, BinaryStep: 2, Distance: math.Inf(1), Image: []float32{0, 0.5}, Probs: []float32{1}},
		{Model: "student", Attack: "linf", Tau: 0.25, Allowed: 3, Distance: 1.5, Elapsed: 3 * time.Millisecond},
		{Model: "teacher", Attack: "l2", Goal: 4, Finished: true, Distance: math.Inf(1), Result: &attack.Result{Goal: attack.Goal{Label: 7, Target: 2},
			Success: true, Adversarial: []float32{0.25, 1}, Predicted: 2, Logits: []float32{-1, 3}, L0: 1, L2: 0.5, LInf: 0.25, Iterations: 40}},
	} {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var got Live
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, l) {
			t.Fatalf("round trip of %+v gave %+v (%s)", l, got, b)
		}
	}
}

// parallelRunner runs jobs in this process, three at a time, and records
// how many ran at once.
type parallelRunner struct {
	local    Runner
	mu       sync.Mutex
	running  int
	maxSeen  int
	progress int
}

func (r *parallelRunner) Parallel() int { return 3 }

func (r *parallelRunner) Run(ctx context.Context, job Job, progress func(Live)) ([]attack.Result, error) {
	r.mu.Lock()
	r.running++
	r.maxSeen = max(r.maxSeen, r.running)
	r.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // let the other jobs start
	defer func() { r.mu.Lock(); r.running--; r.mu.Unlock() }()
	return r.local.Run(ctx, job, func(l Live) {
		r.mu.Lock()
		r.progress++
		r.mu.Unlock()
		progress(l)
	})
}

func TestCompareRunsInParallel(t *testing.T) {
	a := ready(t)
	r := &parallelRunner{local: localRunner{a, 1}}
	a.Runner = r
	a.UseGallery(1)
	a.Lock()
	a.Attack = "l2"
	a.Start(true)
	a.Unlock()
	wait(t, a)
	if len(a.Outcomes) != 3 || r.maxSeen != 3 {
		t.Fatalf("%d outcomes (%q), %d jobs at once; want 3 and 3", len(a.Outcomes), a.Error, r.maxSeen)
	}
	for i, o := range a.Outcomes {
		if o.Model.Step != i || !o.Result.Success {
			t.Fatalf("outcome %d: step %d success %v", i, o.Model.Step, o.Result.Success)
		}
	}
}

func TestTimeIteration(t *testing.T) {
	a := ready(t)
	a.Lock()
	m := a.Model()
	a.Unlock()
	if m == nil {
		t.Fatal("no model loaded")
	}
	if d := TimeIteration(m, 3, 2); d <= 0 {
		t.Fatalf("iteration time %v", d)
	}
}

func TestEveryTarget(t *testing.T) {
	a := ready(t)
	r := &parallelRunner{local: localRunner{a, 1}}
	a.Runner = r
	a.UseGallery(1)
	a.Lock()
	a.Attack, a.Target = "l2", "all"
	label := a.Predicted()
	a.Start(false)
	a.Unlock()
	wait(t, a)
	if len(a.Outcomes) != 9 || !a.AllTargets || a.Compared {
		t.Fatalf("%d outcomes (%q), all %v compared %v", len(a.Outcomes), a.Error, a.AllTargets, a.Compared)
	}
	seen := map[int]bool{}
	for _, o := range a.Outcomes {
		g := o.Result.Goal
		if g.Label != label || g.Target == label || seen[g.Target] {
			t.Fatalf("goal %+v (label %d)", g, label)
		}
		seen[g.Target] = true
		if o.Result.Success && o.Result.Predicted != g.Target {
			t.Fatalf("target %d: classified %d", g.Target, o.Result.Predicted)
		}
	}
	if r.maxSeen < 2 {
		t.Fatalf("targets ran one at a time (%d at once)", r.maxSeen)
	}
}

func TestEveryTargetShowsTheNearest(t *testing.T) {
	a := ready(t)
	a.UseGallery(1)
	runEveryTarget(t, a)
	a.Lock()
	defer a.Unlock()
	if len(a.Outcomes) != 9 || a.Live == nil {
		t.Fatalf("%d outcomes, live %v", len(a.Outcomes), a.Live)
	}
	for _, o := range a.Outcomes {
		if d := Distance("l2", o.Result); d < a.Live.Distance {
			t.Fatalf("shown: target %d at %.3f, but target %d needs only %.3f", a.Live.Target, a.Live.Distance, o.Result.Goal.Target, d)
		}
	}
}

func TestLiveDescribe(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		name             string
		live             Live
		running, stopped bool
		who, details     string
	}{
		{"l2 running", Live{Model: "student", Attack: "l2", Iteration: 12, Const: 0.01, BinaryStep: 1, Distance: 1.5, Elapsed: 1500 * time.Millisecond},
			true, false, "student L2", "iteration 12|1.5s|c = 0.01|binary-search step 2|best distance 1.500"},
		{"linf no adversarial yet", Live{Attack: "linf", Iteration: 3, Tau: 0.25, Distance: inf},
			true, false, "L∞", "iteration 3|0.0s|τ = 0.250"},
		{"l0", Live{Model: "teacher", Attack: "l0", Iteration: 7, Allowed: 700, Distance: 20},
			true, false, "teacher L0", "iteration 7|0.0s|700 pixels allowed|best distance 20 pixels"},
		{"finished", Live{Model: "teacher", Attack: "l2", Iteration: 400, Elapsed: 2 * time.Second},
			false, false, "teacher L2", "finished after 400 iterations|2.0s"},
		{"stopped", Live{Model: "teacher", Attack: "l2", Iteration: 40},
			false, true, "teacher L2", "stopped after 40 iterations|0.0s"},
	} {
		who, details := c.live.Describe(c.running, c.stopped)
		if who != c.who || strings.Join(details, "|") != c.details {
			t.Errorf("%s: got %q, %q; want %q, %q", c.name, who, strings.Join(details, "|"), c.who, c.details)
		}
	}
}

// TestModelOfAnotherShapeRefused: a listed model whose input is not the
// drawing's (a 32×32×3 network beside 28×28 gallery digits) is an error
// on the page, not a panic in the forward pass.
func TestModelOfAnotherShapeRefused(t *testing.T) {
	arch, err := nn.ArchByName("tiny-cifar")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.New(arch, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(1)
	var b bytes.Buffer
	id := catalog.Identity{Dataset: "mnist", Arch: arch.Name, Temperature: 1, Role: "teacher", TestAccuracy: -1}
	if err := weights.Encode(&b, m, weights.Metadata{Identity: id}, weights.F32); err != nil {
		t.Fatal(err)
	}
	base := site(t)
	man, _ := json.Marshal(map[string]any{"models": []catalog.Entry{catalog.EntryFor("cifar-T1.safetensors", id, b.Bytes())}})
	a := New(func(path string) ([]byte, error) {
		switch path {
		case "pretrained/manifest.json":
			return man, nil
		case "pretrained/cifar-T1.safetensors":
			return b.Bytes(), nil
		}
		return base(path)
	})
	if err := a.Init(); err != nil {
		t.Fatal(err)
	}
	if a.Shape != (nn.Shape{H: 28, W: 28, C: 1}) || len(a.Input) != 784 {
		t.Fatalf("shape %v, input of %d values: want the gallery's 28×28×1", a.Shape, len(a.Input))
	}
	a.Choose(1, 0)
	if !strings.Contains(a.Error, "takes 3072 input values") {
		t.Fatalf("error %q, want the model's input size named", a.Error)
	}
	if a.Model() != nil || len(a.Probs) != 0 {
		t.Fatal("a model of another shape was used")
	}
}
