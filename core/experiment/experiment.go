// Package experiment evaluates the models of the paper's experiments sample
// by sample, so that a run can be split into shards and merged into exactly
// the numbers one run would give: every per-sample quantity (correctness,
// confidence, gradient amplitude, the minimal perturbation of each attack,
// and whether an L2 adversarial example transfers to the other models of
// its chain) is kept, indexed by test-set position, and every aggregate is
// computed from them in index order.
package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/metrics"
	"github.com/tadd-project/tadd/core/nn"
)

// batch is how many images go through the network at once for the
// measurements, as in core/metrics.
const batch = 128

// Sample is everything measured on one test image for one model.
type Sample struct {
	Index      int             `json:"i"`
	Correct    bool            `json:"correct"`
	Confidence float64         `json:"confidence"` // max_i F_i(x) if correct, else 0 (eq. 14)
	Amplitude  float64         `json:"amplitude"`  // mean |∂F_y/∂x| (Fig. 4)
	Target     int             `json:"target"`     // the attacks' random target
	Distance   map[string]Dist `json:"distance"`   // per attack; NaN (JSON null) when failed or skipped
	// Transfer[k] says whether this model's L2 adversarial example is
	// classified as the target by step k of the same chain.
	Transfer map[int]bool `json:"transfer,omitempty"`
}

// Shard is a deterministic slice i/n of the sample indices: those with
// index % N == I.
type Shard struct{ I, N int }

// Has reports whether sample index k belongs to the shard.
func (s Shard) Has(k int) bool { return s.N <= 1 || k%s.N == s.I }

// Validate reports a shard that is not a slice i/n with 0 <= i < n.
func (s Shard) Validate() error {
	if s.N < 1 || s.I < 0 || s.I >= s.N {
		return fmt.Errorf("shard %d/%d: want i/n with 0 <= i < n", s.I, s.N)
	}
	return nil
}

// Part is what one shard computed for one model.
type Part struct {
	Shard   Shard
	Samples []Sample
}

// Merge combines the parts of one model into the n samples one unsharded
// run gives, in index order. The parts must be the shards 0..N-1 of one N,
// each once, and hold each index 0..n-1 exactly once, in its own shard.
func Merge(n int, parts []Part) ([]Sample, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("no shards")
	}
	// Sized by what the parts hold, never by n (which may come from a file).
	total := 0
	for _, p := range parts {
		total += len(p.Samples)
	}
	shards := parts[0].Shard.N
	seenShard := map[int]bool{}
	seen := make(map[int]bool, total)
	all := make([]Sample, 0, total)
	for _, p := range parts {
		if err := p.Shard.Validate(); err != nil {
			return nil, err
		}
		if p.Shard.N != shards {
			return nil, fmt.Errorf("shard %d/%d among shards of %d", p.Shard.I, p.Shard.N, shards)
		}
		if seenShard[p.Shard.I] {
			return nil, fmt.Errorf("shard %d/%d twice", p.Shard.I, p.Shard.N)
		}
		seenShard[p.Shard.I] = true
		for _, s := range p.Samples {
			switch {
			case s.Index < 0 || s.Index >= n:
				return nil, fmt.Errorf("shard %d/%d: sample %d outside 0..%d", p.Shard.I, p.Shard.N, s.Index, n-1)
			case !p.Shard.Has(s.Index):
				return nil, fmt.Errorf("shard %d/%d: sample %d belongs to shard %d", p.Shard.I, p.Shard.N, s.Index, s.Index%p.Shard.N)
			case seen[s.Index]:
				return nil, fmt.Errorf("shard %d/%d: sample %d twice", p.Shard.I, p.Shard.N, s.Index)
			}
			seen[s.Index] = true
			all = append(all, s)
		}
	}
	if len(seenShard) != shards {
		return nil, fmt.Errorf("%d of %d shards present", len(seenShard), shards)
	}
	if len(all) != n {
		return nil, fmt.Errorf("the shards hold %d of %d samples", len(all), n)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Index < all[j].Index })
	return all, nil
}

// ParseShard reads "i/n".
func ParseShard(v string) (Shard, error) {
	if v == "" {
		return Shard{0, 1}, nil
	}
	var s Shard
	if _, err := fmt.Sscanf(v, "%d/%d", &s.I, &s.N); err != nil || s.N < 1 || s.I < 0 || s.I >= s.N || fmt.Sprintf("%d/%d", s.I, s.N) != v {
		return s, fmt.Errorf("shard %q: want i/n with 0 <= i < n", v)
	}
	return s, nil
}

// Job evaluates one model on the first Samples test images (those of Shard).
type Job struct {
	Model        *nn.Model
	Chain        map[int]*nn.Model // the other models of the chain, by step, for transfer (may be nil)
	Test         *data.Set
	Samples      int // accuracy, confidence and sensitivity over these
	AttackSample int // the attacks over the first AttackSample of them
	Attacks      []string
	Configs      attack.Configs
	Seed         uint64
	Shard        Shard
	Workers      int
	BatchSize    int // images attacked together (0: the attacks' default)
	Progress     func(done, total int)
	// Classifier wraps a model for the measurements and attacks (workers
	// is the parallelism it may use) and returns how to release it; nil is
	// attack.NewClassifier on the CPU. The GPU backend passes its own.
	Classifier func(m *nn.Model, workers int) (attack.Classifier, func())
}

// classifier is j.Classifier, or attack.NewClassifier.
func (j Job) classifier(m *nn.Model, workers int) (attack.Classifier, func()) {
	if j.Classifier != nil {
		return j.Classifier(m, workers)
	}
	return attack.NewClassifier(m, workers), func() {}
}

// Run evaluates the job and returns one Sample per index of the shard, in
// index order.
func Run(ctx context.Context, j Job) ([]Sample, error) {
	if j.Test == nil || j.Test.ImageSize() != j.Model.InputSize() || len(j.Test.Images) != j.Test.Len()*j.Test.ImageSize() {
		return nil, fmt.Errorf("experiment: test set does not fit architecture %q (%v)%s", j.Model.Arch.Name, j.Model.Arch.Input, shapeOf(j.Test))
	}
	n := min(j.Samples, j.Test.Len())
	var idx []int
	for k := range n {
		if j.Shard.Has(k) {
			idx = append(idx, k)
		}
	}
	out := make([]Sample, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	// On a replica: its layer buffers go when the run ends, and the caller's
	// model (one of a whole chain kept meanwhile) stays small.
	clf, release := j.classifier(j.Model.Replica(), j.Workers)
	defer release()
	is, classes := j.Test.ImageSize(), j.Model.Classes()
	sub := &data.Set{Name: j.Test.Name, H: j.Test.H, W: j.Test.W, C: j.Test.C,
		Images: make([]float32, 0, len(idx)*is), Labels: make([]uint8, 0, len(idx))}
	for _, k := range idx {
		sub.Images = append(sub.Images, j.Test.Image(k)...)
		sub.Labels = append(sub.Labels, j.Test.Labels[k])
	}
	sens := metrics.MeasureSensitivity(clf, sub)
	// The logits in batches: the layers' buffers grow to the largest batch
	// and stay, so one batch of every sample would hold all their
	// activations (gigabytes for the quick reproduction's 1,000 images).
	z := make([]float32, len(idx)*classes)
	for lo := 0; lo < len(idx); lo += batch {
		hi := min(lo+batch, len(idx))
		clf.Logits(z[lo*classes:hi*classes], sub.Images[lo*is:hi*is], hi-lo)
	}
	p := make([]float32, classes)
	for s, k := range idx {
		zi := z[s*classes : (s+1)*classes]
		nn.SoftmaxT(p, zi, 1)
		label := int(sub.Labels[s])
		c := nn.Argmax(p)
		out[s] = Sample{Index: k, Correct: c == label, Amplitude: sens.Amplitudes[s],
			Target: attack.RandomTarget(j.Seed, k, label, classes), Distance: map[string]Dist{}}
		if out[s].Correct {
			out[s].Confidence = float64(p[c])
		}
		for _, a := range j.Attacks {
			out[s].Distance[a] = Dist(math.NaN())
		}
	}
	// The attacks, on the correctly classified samples among the first
	// AttackSample: each attack runs over all of them as one batched run
	// (attack.Attack.Run: a finished image's place in the batch is
	// taken by the next), the classifier spreading every batch over the
	// workers. Each image's result is the one it gets attacked alone.
	var attacked []int // positions in sub
	for s, k := range idx {
		if k < j.AttackSample && out[s].Correct {
			attacked = append(attacked, s)
		}
	}
	if len(attacked) == 0 {
		return out, ctx.Err()
	}
	xs := make([]float32, 0, len(attacked)*is)
	goals := make([]attack.Goal, len(attacked))
	for a, s := range attacked {
		xs = append(xs, sub.Image(s)...)
		goals[a] = attack.Goal{Label: int(sub.Labels[s]), Target: out[s].Target}
	}
	total, done := len(attacked)*len(j.Attacks), 0
	for _, name := range j.Attacks {
		atk, err := j.Configs.Attack(name)
		if err != nil {
			return nil, err
		}
		_, err = atk.Run(ctx, clf, xs, goals, j.BatchSize, nil, func(a int, r attack.Result) {
			s := attacked[a]
			if r.Success {
				out[s].Distance[name] = Dist(atk.Norm().Of(r))
				if name == "l2" && j.Chain != nil {
					out[s].Transfer = map[int]bool{}
					for step, other := range j.Chain {
						zo := other.Forward(r.Adversarial, 1, false)
						out[s].Transfer[step] = nn.Argmax(zo) == out[s].Target
					}
				}
			}
			done++
			if j.Progress != nil {
				j.Progress(done, total)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("%s attacks: %w", name, err)
		}
	}
	return out, ctx.Err()
}

func shapeOf(s *data.Set) string {
	if s == nil {
		return ": none given"
	}
	return fmt.Sprintf(": its images are %d×%d×%d", s.H, s.W, s.C)
}

// Summary aggregates the samples of one model.
type Summary struct {
	Samples       int                     `json:"samples"`
	Accuracy      float64                 `json:"accuracy"`
	Confidence    float64                 `json:"confidence"`
	MeanAmplitude float64                 `json:"mean_amplitude"`
	NearZero      float64                 `json:"near_zero_fraction"`
	Robustness    map[string]AttackResult `json:"robustness"`
	TransferRate  map[int]float64         `json:"transfer_rate,omitempty"` // by target step: share of L2 adversarials that fool it
}

// AttackResult summarises one attack.
type AttackResult struct {
	Attempts    int     `json:"attempts"`
	Successes   int     `json:"successes"`
	SuccessRate float64 `json:"success_rate"`
	Mean        float64 `json:"mean"`
	Max         float64 `json:"max"`
}

// Summarize aggregates samples (in index order).
func Summarize(samples []Sample, attacks []string, attackSample int) Summary {
	s := Summary{Samples: len(samples), Robustness: map[string]AttackResult{}}
	if len(samples) == 0 {
		return s
	}
	var correct int
	transfers, transferN := map[int]int{}, 0
	for _, x := range samples {
		if x.Correct {
			correct++
		}
		s.Confidence += x.Confidence
		s.MeanAmplitude += x.Amplitude
		if x.Amplitude < metrics.NearZeroThreshold {
			s.NearZero++
		}
		if x.Transfer != nil {
			transferN++
			for k, ok := range x.Transfer {
				if ok {
					transfers[k]++
				} else if _, seen := transfers[k]; !seen {
					transfers[k] = 0
				}
			}
		}
	}
	n := float64(len(samples))
	s.Accuracy, s.Confidence, s.MeanAmplitude, s.NearZero = float64(correct)/n, s.Confidence/n, s.MeanAmplitude/n, s.NearZero/n
	for _, a := range attacks {
		var r AttackResult
		for _, x := range samples {
			if x.Index >= attackSample || !x.Correct {
				continue
			}
			r.Attempts++
			if d := float64(x.Distance[a]); !math.IsNaN(d) {
				r.Successes++
				r.Mean += d
				r.Max = math.Max(r.Max, d)
			}
		}
		if r.Successes > 0 {
			r.Mean /= float64(r.Successes)
		}
		if r.Attempts > 0 {
			r.SuccessRate = float64(r.Successes) / float64(r.Attempts)
		}
		s.Robustness[a] = r
	}
	if transferN > 0 {
		s.TransferRate = map[int]float64{}
		for k, c := range transfers {
			s.TransferRate[k] = float64(c) / float64(transferN)
		}
	}
	return s
}

// Dist is a distance that is NaN when there is none; JSON writes NaN as null.
type Dist float64

// MarshalJSON implements json.Marshaler.
func (d Dist) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(d)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(d))
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Dist) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Dist(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*d = Dist(f)
	return nil
}
