package experiment

import (
	"encoding/json"
	"math"
	"testing"
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
