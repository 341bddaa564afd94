package eval

import (
	"context"
	"encoding/json"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
)

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
		s  Shard
	}{{"", true, Shard{0, 1}}, {"0/2", true, Shard{0, 2}}, {"3/4", true, Shard{3, 4}},
		{"2/2", false, Shard{}}, {"-1/2", false, Shard{}}, {"1/0", false, Shard{}}, {"x", false, Shard{}}, {"01/2", false, Shard{}}} {
		s, err := ParseShard(c.in)
		if (err == nil) != c.ok || (c.ok && s != c.s) {
			t.Errorf("ParseShard(%q) = %v, %v", c.in, s, err)
		}
	}
	// Every index belongs to exactly one shard.
	for k := range 50 {
		n := 0
		for i := range 3 {
			if (Shard{i, 3}).Has(k) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("index %d in %d shards", k, n)
		}
	}
}

func TestSummarizeByHand(t *testing.T) {
	nan := Dist(math.NaN())
	s := []Sample{
		{Index: 0, Correct: true, Confidence: 0.9, Amplitude: 1e-3, Distance: map[string]Dist{"l2": 1}, Transfer: map[int]bool{1: true, 2: true}},
		// Transfer to step 2 not measured (dropped as stale): its rate is
		// over the samples that measured it.
		{Index: 1, Correct: true, Confidence: 0.5, Amplitude: 1e-12, Distance: map[string]Dist{"l2": 3}, Transfer: map[int]bool{1: false}},
		{Index: 2, Correct: false, Amplitude: 1e-3, Distance: map[string]Dist{"l2": nan}},
		{Index: 3, Correct: true, Confidence: 1, Amplitude: 0, Distance: map[string]Dist{"l2": nan}},
		{Index: 9, Correct: true, Confidence: 1, Amplitude: 1, Distance: map[string]Dist{"l2": 100}}, // beyond the attack sample
	}
	got := Summarize(s, []string{"l2"}, Counts{All: 5})
	if got.Samples != 5 || got.Accuracy != 0.8 || math.Abs(got.Confidence-0.68) > 1e-12 || got.NearZero != 0.4 {
		t.Fatalf("summary %+v", got)
	}
	r := got.Robustness["l2"]
	// Attempts: correct samples with index < 5: 0, 1, 3; successes 0 and 1.
	if r.Attempts != 3 || r.Successes != 2 || r.Mean != 2 || r.Max != 3 || math.Abs(r.SuccessRate-2.0/3) > 1e-12 {
		t.Fatalf("robustness %+v", r)
	}
	if len(got.TransferRate) != 2 || got.TransferRate[1] != 0.5 || got.TransferRate[2] != 1 {
		t.Fatalf("transfer %v", got.TransferRate)
	}
}

func TestDistJSON(t *testing.T) {
	b, err := json.Marshal(map[string]Dist{"a": 1.5, "b": Dist(math.NaN())})
	if err != nil || string(b) != `{"a":1.5,"b":null}` {
		t.Fatalf("%s %v", b, err)
	}
	var back map[string]Dist
	if err := json.Unmarshal(b, &back); err != nil || back["a"] != 1.5 || !math.IsNaN(float64(back["b"])) {
		t.Fatalf("%v %v", back, err)
	}
}

// TestEvaluateAndReproduceAgree checks that the evaluation of one model
// (what `tadd evaluate` runs: one shard of the whole set) and the
// reproduction's sharded per-sample runs give identical per-sample targets
// and distances for the same seed, that the targets are
// attack.RandomTarget's, and that batched attacks find what each image's
// attack alone finds.
func TestEvaluateAndReproduceAgree(t *testing.T) {
	trainSet, test := data.Bars(640, 16, 1), data.Bars(24, 16, 9)
	arch := nn.TinyArchFor(nn.Shape{H: 16, W: 16, C: 1})
	m, err := nn.New(arch, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(3)
	cfg := train.DefaultConfig(1)
	cfg.Epochs, cfg.BatchSize, cfg.LearningRate, cfg.Workers = 8, 32, 0.1, 2
	if _, err := train.Run(context.Background(), train.Job{Model: m, Train: trainSet, Config: cfg}, nil); err != nil {
		t.Fatal(err)
	}
	cfgs := attack.Defaults().WithMaxIterations(30)
	const seed = 5
	job := Job{Model: m, Test: test, Samples: test.Len(), Attacked: Counts{All: test.Len()}, Attacks: []string{"l2"}, Configs: cfgs, Seed: seed, Shard: Shard{0, 1}, Workers: 2}
	whole, err := Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	var parts []Part
	for i := range 3 {
		j := job
		j.Shard = Shard{i, 3}
		s, err := Run(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, Part{j.Shard, s})
	}
	merged, err := Merge(test.Len(), parts)
	if err != nil {
		t.Fatal(err)
	}
	// Each image attacked alone, one after another.
	alone := job
	alone.runBatch = func(ctx context.Context, name string, clf attack.Classifier, x []float32, goals []attack.Goal, finished func(int, attack.Result)) error {
		for i, g := range goals {
			atk, err := cfgs.Attack(name)
			if err != nil {
				return err
			}
			r, err := attack.RunOne(ctx, atk, clf, x[i*len(x)/len(goals):(i+1)*len(x)/len(goals)], g, nil)
			if err != nil {
				return err
			}
			finished(i, r)
		}
		return nil
	}
	single, err := run(context.Background(), alone, attack.NewClassifier(m.Replica(), 1))
	if err != nil {
		t.Fatal(err)
	}
	attacked := 0
	for k, s := range whole {
		if want := attack.RandomTarget(seed, k, int(test.Labels[k]), 10); s.Target != want {
			t.Fatalf("sample %d: target %d, want RandomTarget's %d", k, s.Target, want)
		}
		for name, other := range map[string]Sample{"sharded": merged[k], "alone": single[k]} {
			d, r := float64(s.Distance["l2"]), float64(other.Distance["l2"])
			if other.Target != s.Target || !(d == r || math.IsNaN(d) && math.IsNaN(r)) || other.Correct != s.Correct {
				t.Errorf("sample %d: one run gives target %d distance %v, %s %d %v", k, s.Target, d, name, other.Target, r)
			}
		}
		if s.Correct {
			attacked++
		}
	}
	if attacked < test.Len()/2 {
		t.Fatalf("only %d of %d samples attacked", attacked, test.Len())
	}
}

func TestRunChecksTheTestSet(t *testing.T) {
	m, err := nn.New(nn.TinyArchFor(nn.Shape{H: 16, W: 16, C: 1}), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Job{Model: m, Test: data.Bars(8, 14, 1), Samples: 8})
	if err == nil || !strings.Contains(err.Error(), "14×14×1") {
		t.Fatalf("error %v", err)
	}
}

func TestMergeChecksThePartition(t *testing.T) {
	samples := func(idx ...int) []Sample {
		var s []Sample
		for _, k := range idx {
			s = append(s, Sample{Index: k})
		}
		return s
	}
	// Six samples in shards of 2: 0/2 holds 0, 2, 4 and 1/2 holds 1, 3, 5.
	even, odd := Part{Shard{0, 2}, samples(0, 2, 4)}, Part{Shard{1, 2}, samples(1, 3, 5)}
	cases := []struct {
		name  string
		n     int
		parts []Part
		want  string // "" = merges
	}{
		{"both shards", 6, []Part{odd, even}, ""},
		{"one run", 3, []Part{{Shard{0, 1}, samples(2, 0, 1)}}, ""},
		{"no parts", 6, nil, "no shards"},
		{"shard index beyond n", 6, []Part{even, {Shard{5, 2}, samples(1, 3, 5)}}, "shard 5/2"},
		{"n of zero", 6, []Part{{Shard{0, 0}, samples(0, 1, 2, 3, 4, 5)}}, "shard 0/0"},
		{"negative shard", 6, []Part{even, {Shard{-1, 2}, samples(1, 3, 5)}}, "shard -1/2"},
		{"a shard twice", 6, []Part{even, even}, "twice"},
		{"a shard missing", 6, []Part{even}, "1 of 2 shards"},
		{"shards of different n", 6, []Part{even, {Shard{1, 3}, samples(1, 3, 5)}}, "1/3"},
		{"duplicate sample", 6, []Part{even, {Shard{1, 2}, samples(1, 3, 3, 5)}}, "sample 3 twice"},
		{"negative index", 6, []Part{even, {Shard{1, 2}, samples(-1, 1, 3, 5)}}, "sample -1"},
		{"huge index", 6, []Part{even, {Shard{1, 2}, samples(1, 3, 5, 1e9)}}, "sample 1000000000"},
		{"sample in the wrong shard", 6, []Part{even, {Shard{1, 2}, samples(1, 2, 3, 5)}}, "sample 2"},
		{"sample missing", 6, []Part{even, {Shard{1, 2}, samples(1, 5)}}, "of 6 samples"},
		// A count read from a file sizes nothing: this allocates no 2e9 slots.
		{"huge count", 2_000_000_000, []Part{even, odd}, "6 of 2000000000 samples"},
		{"huge shard count", 6, []Part{{Shard{0, 2_000_000_000}, samples(0)}}, "1 of 2000000000 shards"},
	}
	for _, c := range cases {
		got, err := Merge(c.n, c.parts)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			for i, s := range got {
				if s.Index != i || len(got) != c.n {
					t.Errorf("%s: merged indices %v", c.name, got)
					break
				}
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

// TestRunMemory checks that evaluating more samples does not allocate
// bigger layer buffers (the measurements go through the network in bounded
// batches, so the quick reproduction's 1,000 samples cost the memory of a
// batch, not of 1,000 images' activations, which made it peak at 3.9 GB),
// and that the model keeps no buffers after the run (a reproduction holds
// a whole chain of models). Fresh models each time, so no buffer is reused.
func TestRunMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the MNIST network on 512 images")
	}
	test := &data.Set{Name: "ramp", H: 28, W: 28, C: 1, Images: make([]float32, 384*784), Labels: make([]uint8, 384)}
	for i := range test.Images {
		test.Images[i] = float32(i%97) / 97
	}
	allocated := func(samples int) (total, kept uint64) {
		m, err := nn.New(nn.MNISTArch(), nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Init(1)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := Run(context.Background(), Job{Model: m, Test: test, Samples: samples, Workers: 2}); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(m)
		return after.TotalAlloc - before.TotalAlloc, max(after.HeapAlloc, before.HeapAlloc) - before.HeapAlloc
	}
	small, _ := allocated(128)
	large, kept := allocated(384)
	t.Logf("allocated: %d MB for 128 samples, %d MB for 384; %d MB kept after the run", small>>20, large>>20, kept>>20)
	// 256 more images need 256×784 floats more input and a few bytes of
	// results each, far below 32 MB; activations for them are ~200 MB.
	if large > small+32<<20 {
		t.Errorf("384 samples allocate %d MB, 128 samples %d MB: the layer buffers grow with the samples", large>>20, small>>20)
	}
	// The results and the model's gradient are a few MB; a batch's
	// buffers are ~50 MB.
	if kept > 16<<20 {
		t.Errorf("the model keeps %d MB after the run", kept>>20)
	}
}
