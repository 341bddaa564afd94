// Package eval measures models sample by sample, with the four
// measurements of the seed paper's section V, all with the model evaluated
// at T = 1:
//
//   - Accuracy: the fraction of samples classified correctly (Fig. 3, 7).
//   - Sensitivity: the amplitude of the gradient of the model's output
//     with respect to its input (Fig. 4).
//   - Robustness: the minimal perturbation the C&W attacks need (Fig. 5, 8).
//   - Confidence: eq. 14 (Fig. 6).
//
// Per-sample results are the only way numbers are computed: Run keeps
// every per-sample quantity (correctness, confidence, gradient amplitude,
// the minimal perturbation of each attack, and whether an L2 adversarial
// example transfers to the other models of its chain), indexed by test-set
// position, and Summarize computes every aggregate from them in index
// order. So a run split into shards merges (Merge) into exactly the numbers
// one run gives, and `tadd evaluate` (one model, one shard) and `tadd
// reproduce` (every model of the chains) compute the same numbers the same
// way.
package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
)

// batch is how many images go through the network at once for the
// measurements: the layers' buffers grow to the largest batch and stay,
// so one batch of every sample would hold all their activations
// (gigabytes for 1,000 images).
const batch = 128

// Sample is everything measured on one test image for one model.
type Sample struct {
	Index      int     `json:"i"`
	Correct    bool    `json:"correct"`
	Confidence float64 `json:"confidence"` // max_i F_i(x) if correct, else 0 (eq. 14)
	Amplitude  float64 `json:"amplitude"`  // mean |∂F_y/∂x| (Fig. 4); 0 below float64's range
	// Log10Amplitude is log10 of the amplitude, measured beyond float64's
	// range (Log10Amplitudes); nil in files from before it was measured,
	// and where the gradient is exactly 0.
	Log10Amplitude *float64 `json:"log10_amplitude,omitempty"`
	// Target is the attacks' goal on this image: the random target
	// (attack.RandomTarget) in the default goal mode, attack.Untargeted
	// for untargeted attacks; with several goals per image, the first.
	Target   int             `json:"target"`
	Distance map[string]Dist `json:"distance"` // per attack, for Target; NaN (JSON null) when failed or skipped
	// More are the further goals of a goal mode with several per image
	// ("all": every other class), in order; empty otherwise.
	More []Attempt `json:"more,omitempty"`
	// Transfer[k] says whether this model's L2 adversarial example is
	// classified as the target by step k of the same chain.
	Transfer map[int]bool `json:"transfer,omitempty"`
}

// Attempt is the attacks' result for one goal on one image.
type Attempt struct {
	Target   int             `json:"target"`
	Distance map[string]Dist `json:"distance"`
}

// Attempts lists every goal attacked on the sample (Target first, then
// More).
func (s Sample) Attempts() []Attempt {
	return append([]Attempt{{s.Target, s.Distance}}, s.More...)
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

// Counts say which samples each attack runs on: the correctly classified
// ones among the first All test images or, for an attack that Per names,
// among the first Per[attack] of them (at most All). A sample beyond its
// attack's count is not attacked: its distance is NaN, and it is counted
// neither as an attempt nor as a failure.
type Counts struct {
	All int
	Per map[string]int
}

// Of is the count of an attack: how many of the first test images it runs
// on (the correctly classified ones among them).
func (c Counts) Of(attack string) int {
	if n, ok := c.Per[attack]; ok {
		return max(0, min(n, c.All))
	}
	return max(0, c.All)
}

// Job evaluates one model on the first Samples test images (those of Shard).
type Job struct {
	Model   *nn.Model
	Chain   map[int]*nn.Model // the other models of the chain, by step, for transfer (may be nil)
	Test    *data.Set
	Samples int // accuracy, confidence and sensitivity over these
	// Attacked says which of them each attack runs on (the correctly
	// classified ones among the first Attacked.Of(attack)).
	Attacked Counts
	Attacks  []string
	Configs  attack.Configs
	// Goal is the goal mode of the attacks (see attack.Goals); "" is
	// "random", the reproduction's.
	Goal  string
	Seed  uint64
	Shard Shard
	// Only, if set, further restricts the samples to those it accepts
	// (a part of a shard, for a run that resumes sample by sample).
	Only      func(k int) bool
	Workers   int
	BatchSize int // images attacked together (0: the attacks' default)
	// Progress, if set, hears of each finished attack.
	Progress func(Progress)
	// Classifier wraps a model for the measurements and attacks (workers
	// is the parallelism it may use) and returns how to release it; nil is
	// attack.NewClassifier on the CPU. The GPU backend passes its own.
	Classifier func(m *nn.Model, workers int) (attack.Classifier, func())

	// runBatch runs one attack over a batch; nil is Configs.RunBatch
	// (tests replace it).
	runBatch func(ctx context.Context, name string, clf attack.Classifier, x []float32, goals []attack.Goal, finished func(int, attack.Result)) error
}

// Progress is where a Job's attacks stand.
type Progress struct {
	Attack      string
	Done, Total int           // of this attack's runs
	Elapsed     time.Duration // since this attack began
}

// classifier is j.Classifier, or attack.NewClassifier.
func (j Job) classifier(m *nn.Model, workers int) (attack.Classifier, func()) {
	if j.Classifier != nil {
		return j.Classifier(m, workers)
	}
	return attack.NewClassifier(m, workers), func() {}
}

// Distance picks the attack's own norm from a result.
func Distance(name string, r attack.Result) (float64, error) {
	switch name {
	case "l0":
		return float64(r.L0), nil
	case "l2":
		return r.L2, nil
	case "linf":
		return r.LInf, nil
	}
	return 0, fmt.Errorf("unknown attack %q (want l0, l2 or linf)", name)
}

// Run evaluates the job and returns one Sample per index of the shard, in
// index order. A model whose outputs are not finite on some image is an
// error: it gives no measurement worth computing.
func Run(ctx context.Context, j Job) ([]Sample, error) {
	if j.Model == nil {
		return nil, fmt.Errorf("eval: no model")
	}
	if j.Test == nil || j.Test.ImageSize() != j.Model.InputSize() || len(j.Test.Images) != j.Test.Len()*j.Test.ImageSize() {
		return nil, fmt.Errorf("eval: test set does not fit architecture %q (%v)%s", j.Model.Arch.Name, j.Model.Arch.Input, shapeOf(j.Test))
	}
	// On a replica: its layer buffers go when the run ends, and the caller's
	// model (one of a whole chain kept meanwhile) stays small.
	clf, release := j.classifier(j.Model.Replica(), j.Workers)
	defer release()
	return run(ctx, j, clf)
}

// run is Run on a classifier.
func run(ctx context.Context, j Job, clf attack.Classifier) ([]Sample, error) {
	for _, a := range j.Attacks {
		if _, err := Distance(a, attack.Result{}); err != nil {
			return nil, err
		}
	}
	mode := j.Goal
	if mode == "" {
		mode = "random"
	}
	if err := attack.CheckGoalMode(mode, clf.Classes()); err != nil {
		return nil, err
	}
	n := min(j.Samples, j.Test.Len())
	var idx []int
	for k := range n {
		if j.Shard.Has(k) && (j.Only == nil || j.Only(k)) {
			idx = append(idx, k)
		}
	}
	out := make([]Sample, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	is, classes := j.Test.ImageSize(), clf.Classes()
	sub := &data.Set{Name: j.Test.Name, H: j.Test.H, W: j.Test.W, C: j.Test.C,
		Images: make([]float32, 0, len(idx)*is), Labels: make([]uint8, 0, len(idx))}
	for _, k := range idx {
		sub.Images = append(sub.Images, j.Test.Image(k)...)
		sub.Labels = append(sub.Labels, j.Test.Labels[k])
	}
	z := make([]float32, len(idx)*classes)
	for lo := 0; lo < len(idx); lo += batch {
		hi := min(lo+batch, len(idx))
		clf.Logits(z[lo*classes:hi*classes], sub.Images[lo*is:hi*is], hi-lo)
	}
	for i, v := range z {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("the model's output on test image %d is %v: its outputs are not finite (its weights overflow float32)", idx[i/classes], v)
		}
	}
	amp, logAmp := AmplitudesAndLog10(clf, sub)
	p := make([]float32, classes)
	// goals[s] are the goals of sample s, attacked when it is correct and
	// among the first Attacked.All (each attack then takes those below its
	// own count).
	goals := make([][]attack.Goal, len(idx))
	for s, k := range idx {
		zi := z[s*classes : (s+1)*classes]
		nn.SoftmaxT(p, zi, 1)
		label := int(sub.Labels[s])
		c := nn.Argmax(p)
		gs, err := attack.Goals(mode, label, classes, zi, j.Seed, k)
		if err != nil {
			return nil, err
		}
		out[s] = Sample{Index: k, Correct: c == label, Amplitude: amp[s], Log10Amplitude: finite(logAmp[s]), Target: gs[0].Target, Distance: nanDistances(j.Attacks)}
		for _, g := range gs[1:] {
			out[s].More = append(out[s].More, Attempt{Target: g.Target, Distance: nanDistances(j.Attacks)})
		}
		if out[s].Correct {
			out[s].Confidence = float64(p[c])
			if k < j.Attacked.All {
				goals[s] = gs
			}
		}
	}
	// The attacks: each runs over its attacked (sample, goal) pairs (those
	// of the samples below its count) as one batched run
	// (attack.Attack.Run: a finished image's place in the batch is taken
	// by the next), the classifier spreading every batch over the
	// workers. Each image's result is the one it gets attacked alone.
	type pair struct{ s, g int } // sample position, goal number
	var pairs []pair
	for s, gs := range goals {
		for g := range gs {
			pairs = append(pairs, pair{s, g})
		}
	}
	if len(pairs) == 0 {
		return out, ctx.Err()
	}
	runBatch := j.runBatch
	if runBatch == nil {
		runBatch = func(ctx context.Context, name string, clf attack.Classifier, x []float32, goals []attack.Goal, finished func(int, attack.Result)) error {
			atk, err := j.Configs.Attack(name)
			if err != nil {
				return err
			}
			_, err = atk.Run(ctx, clf, x, goals, j.BatchSize, nil, finished)
			return err
		}
	}
	for _, name := range j.Attacks {
		var mine []pair // this attack's pairs
		var xs []float32
		var flat []attack.Goal
		for _, pr := range pairs {
			if idx[pr.s] < j.Attacked.Of(name) {
				mine = append(mine, pr)
				xs = append(xs, sub.Image(pr.s)...)
				flat = append(flat, goals[pr.s][pr.g])
			}
		}
		if len(mine) == 0 {
			continue
		}
		start, done := time.Now(), 0
		err := runBatch(ctx, name, clf, xs, flat, func(a int, r attack.Result) {
			pr := mine[a]
			at := &out[pr.s]
			dist := at.Distance
			if pr.g > 0 {
				dist = at.More[pr.g-1].Distance
			}
			if r.Success {
				d, _ := Distance(name, r)
				dist[name] = Dist(d)
				if name == "l2" && j.Chain != nil && pr.g == 0 {
					at.Transfer = map[int]bool{}
					for step, other := range j.Chain {
						zo := other.Forward(r.Adversarial, 1, false)
						at.Transfer[step] = nn.Argmax(zo) == at.Target
					}
				}
			}
			done++
			if j.Progress != nil {
				j.Progress(Progress{Attack: name, Done: done, Total: len(mine), Elapsed: time.Since(start)})
			}
		})
		if err != nil {
			return nil, fmt.Errorf("%s attacks: %w", name, err)
		}
	}
	return out, ctx.Err()
}

// nanDistances is a distance map of the attacks, none found yet.
func nanDistances(attacks []string) map[string]Dist {
	d := make(map[string]Dist, len(attacks))
	for _, a := range attacks {
		d[a] = Dist(math.NaN())
	}
	return d
}

func shapeOf(s *data.Set) string {
	if s == nil {
		return ": none given"
	}
	return fmt.Sprintf(": its images are %d×%d×%d", s.H, s.W, s.C)
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
