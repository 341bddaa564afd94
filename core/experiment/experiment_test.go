package experiment

import (
	"context"
	"encoding/json"
	"math"
	"runtime"
	"testing"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
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

func TestTargetForIsPerSample(t *testing.T) {
	for k := range 200 {
		label := k % 10
		a, b := TargetFor(7, k, label, 10), TargetFor(7, k, label, 10)
		if a != b || a == label || a < 0 || a > 9 {
			t.Fatalf("sample %d: targets %d, %d for label %d", k, a, b, label)
		}
	}
}

func TestSummarizeByHand(t *testing.T) {
	nan := Dist(math.NaN())
	s := []Sample{
		{Index: 0, Correct: true, Confidence: 0.9, Amplitude: 1e-3, Distance: map[string]Dist{"l2": 1}, Transfer: map[int]bool{1: true}},
		{Index: 1, Correct: true, Confidence: 0.5, Amplitude: 1e-12, Distance: map[string]Dist{"l2": 3}, Transfer: map[int]bool{1: false}},
		{Index: 2, Correct: false, Amplitude: 1e-3, Distance: map[string]Dist{"l2": nan}},
		{Index: 3, Correct: true, Confidence: 1, Amplitude: 0, Distance: map[string]Dist{"l2": nan}},
		{Index: 9, Correct: true, Confidence: 1, Amplitude: 1, Distance: map[string]Dist{"l2": 100}}, // beyond the attack sample
	}
	got := Summarize(s, []string{"l2"}, 5)
	if got.Samples != 5 || got.Accuracy != 0.8 || math.Abs(got.Confidence-0.68) > 1e-12 || got.NearZero != 0.4 {
		t.Fatalf("summary %+v", got)
	}
	r := got.Robustness["l2"]
	// Attempts: correct samples with index < 5: 0, 1, 3; successes 0 and 1.
	if r.Attempts != 3 || r.Successes != 2 || r.Mean != 2 || r.Max != 3 || math.Abs(r.SuccessRate-2.0/3) > 1e-12 {
		t.Fatalf("robustness %+v", r)
	}
	if got.TransferRate[1] != 0.5 {
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
