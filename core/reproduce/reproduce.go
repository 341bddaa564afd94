// Package reproduce runs the seed paper's experiments over a store of
// models: the plan (which chains, which models, training the ones a chain
// lacks), one eval.Run per model and shard, cached per model in samples
// files keyed by the run's settings, and the merging of shards. It needs no
// operating system: the models come through the Models interface, cached
// results are read through an fs.FS and written through a function, so
// the same code runs in the CLI and in tests on memory.
package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
)

// Settings are what a samples file was computed with; cached files are
// reused and shards merge only when their settings agree.
type Settings struct {
	Dataset       string   `json:"dataset"`
	Preset        string   `json:"preset"`
	Samples       int      `json:"samples"`
	AttackSamples int      `json:"attack_samples"`
	Attacks       []string `json:"attacks"`
	MaxIterations int      `json:"max_iterations"`
	Seed          uint64   `json:"seed"`
	Steps         int      `json:"steps"` // the chain's last step: transfer rates are measured on steps 0..Steps
}

// Same reports whether two settings are equal.
func (s Settings) Same(o Settings) bool {
	return s.Dataset == o.Dataset && s.Preset == o.Preset && s.Samples == o.Samples && s.AttackSamples == o.AttackSamples &&
		slices.Equal(s.Attacks, o.Attacks) && s.MaxIterations == o.MaxIterations && s.Seed == o.Seed && s.Steps == o.Steps
}

// Model describes an evaluated model: its catalog entry (file and
// identity; Epochs 0 when unknown). A cached result is reused only for the
// same entry, so a retrained model is evaluated again.
type Model = catalog.Entry

// Evaluated is one model's merged per-sample results and their summary.
type Evaluated struct {
	Model   Model
	Summary eval.Summary
	Samples []eval.Sample
}

// SamplesFile is one model's per-sample results for one shard.
type SamplesFile struct {
	Settings Settings      `json:"settings"`
	Shard    eval.Shard    `json:"shard"`
	Model    Model         `json:"model"`
	Samples  []eval.Sample `json:"samples"`
}

// MaxSamplesFile bounds a samples file (10,000 samples take about 2 MB).
const MaxSamplesFile = 256 << 20

// SamplesDir is the folder of the samples files inside an output folder.
const SamplesDir = "samples"

// PartialDir holds, inside an output folder, the samples files of models
// not yet finished (their finished chunks).
const PartialDir = "partial"

// SamplesPath is the slash-separated path of a model's samples file for a
// shard, inside the output folder.
func SamplesPath(model string, sh eval.Shard) string {
	name := strings.TrimSuffix(model, ".safetensors")
	if sh.N > 1 {
		name += fmt.Sprintf(".shard-%d-of-%d", sh.I, sh.N)
	}
	return SamplesDir + "/" + name + ".json"
}

// maxFileName bounds a model file's name (file systems allow 255 bytes).
const maxFileName = 200

// checkFileName reports a model file name that may not be used as a path
// inside a folder: it must be a plain name (no folder, not hidden, no
// control characters) ending in .safetensors.
func checkFileName(name string) error {
	bad := name == "" || len(name) > maxFileName || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".safetensors") ||
		strings.ContainsAny(name, `/\`) || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl)
	if bad {
		return fmt.Errorf("bad model file name %q: want a plain name ending in .safetensors", name)
	}
	return nil
}

// ParseSamplesFile decodes one samples file and checks what merging relies
// on: a model name that is a plain file name, a valid shard and settings
// with samples.
func ParseSamplesFile(b []byte) (SamplesFile, error) {
	var sf SamplesFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return sf, err
	}
	if err := checkFileName(sf.Model.File); err != nil {
		return sf, fmt.Errorf("model: %w", err)
	}
	if err := sf.Shard.Validate(); err != nil {
		return sf, err
	}
	if sf.Settings.Samples < 1 || sf.Settings.AttackSamples < 0 {
		return sf, fmt.Errorf("settings: %d samples, %d attacked", sf.Settings.Samples, sf.Settings.AttackSamples)
	}
	return sf, nil
}

// Merge combines samples files (each checked by ParseSamplesFile) of the
// same settings by model, in file name order; each model's shards must
// partition its samples exactly once.
func Merge(files []SamplesFile) (Settings, []Evaluated, error) {
	if len(files) == 0 {
		return Settings{}, nil, errors.New("no samples files")
	}
	set := files[0].Settings
	byModel := map[string][]eval.Part{}
	info := map[string]Model{}
	for _, sf := range files {
		if !set.Same(sf.Settings) {
			return set, nil, fmt.Errorf("%s (shard %d/%d): computed with other settings than the rest; shards merge only when they agree", sf.Model.File, sf.Shard.I, sf.Shard.N)
		}
		byModel[sf.Model.File] = append(byModel[sf.Model.File], eval.Part{Shard: sf.Shard, Samples: sf.Samples})
		if first, ok := info[sf.Model.File]; !ok {
			info[sf.Model.File] = sf.Model
		} else if first != sf.Model {
			return set, nil, fmt.Errorf("%s: shards describe the model differently (%+v, %+v)", sf.Model.File, first, sf.Model)
		}
	}
	var out []Evaluated
	for _, name := range slices.Sorted(maps.Keys(byModel)) {
		all, err := eval.Merge(set.Samples, byModel[name])
		if err != nil {
			return set, nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, Evaluated{Model: info[name], Summary: eval.Summarize(all, set.Attacks, set.AttackSamples), Samples: all})
	}
	return set, out, nil
}

// The presets of a reproduction.
const (
	// Quick is a fast look: 5 attacked images per model, with the web
	// demo's budgets (attack.QuickConfigs). Not a result.
	Quick = "quick"
	// Standard is the powered run: 200 attacked images per model and
	// attack, every model on the same images and goals, with the budgets of
	// StandardConfigs.
	Standard = "standard"
	// Full is the paper's setting: every test image attacked with the
	// paper's parameters (attack.Defaults).
	Full = "full"
)

// MeasuredSamples is how many test images every preset measures accuracy,
// sensitivity and confidence on: the whole MNIST and CIFAR-10 test sets.
const MeasuredSamples = 10000

// AttackedSamples is how many test images a preset attacks by default
// (Full: all that are measured).
func AttackedSamples(preset string) int {
	switch preset {
	case Quick:
		return 5
	case Standard:
		return 200
	}
	return MeasuredSamples
}

// StandardConfigs are the standard preset's attack budgets: between the
// quick look's and the paper's. L2: 5 binary-search steps [9] of 300
// iterations [10,000], learning rate 0.05 [0.01], initial c 0.1 [0.001].
// L0: 150 iterations per c [1,000], learning rate 0.05 [0.01], initial c
// 0.1 [0.001]. L∞: 150 iterations per c [1,000], learning rate 0.02
// [0.005], initial c 0.01 [1e-5], τ shrinks by 0.85 [0.9]. The budget
// check (CheckBudget) measures what they cost in distance against the
// paper's parameters.
func StandardConfigs() attack.Configs {
	c := attack.Defaults()
	c.L2.BinarySearchSteps, c.L2.MaxIterations, c.L2.LearningRate, c.L2.InitialConst = 5, 300, 0.05, 0.1
	c.L0.MaxIterations, c.L0.LearningRate, c.L0.InitialConst = 150, 0.05, 0.1
	c.LInf.MaxIterations, c.LInf.LearningRate, c.LInf.InitialConst, c.LInf.DecreaseFactor = 150, 0.02, 0.01, 0.85
	return c
}

// StandardText describes StandardConfigs against the paper's parameters.
const StandardText = "L2: 5 binary-search steps [9], 300 iterations per step [10,000], learning rate 0.05 [0.01], initial c 0.1 [0.001]. " +
	"L0: 150 iterations per c [1,000], learning rate 0.05 [0.01], initial c 0.1 [0.001]. " +
	"L∞: 150 iterations per c [1,000], learning rate 0.02 [0.005], initial c 0.01 [1e-5], τ shrinks by 0.85 [0.9]."

// Configs are the attack parameters of the settings' preset.
func Configs(s Settings) attack.Configs {
	c := attack.Defaults()
	switch s.Preset {
	case Quick:
		c = attack.QuickConfigs()
	case Standard:
		c = StandardConfigs()
	}
	return c.WithMaxIterations(s.MaxIterations)
}

// BudgetText describes the settings' attack budget in words.
func BudgetText(s Settings) string {
	b := "the paper's attack parameters"
	switch s.Preset {
	case Quick:
		b = "quick attack budgets (" + attack.QuickText + ")"
	case Standard:
		b = "standard attack budgets (" + StandardText + ")"
	}
	if s.MaxIterations > 0 {
		b += fmt.Sprintf(", at most %d iterations per constant", s.MaxIterations)
	}
	return b
}

// Models is the store a reproduction takes its models from.
type Models interface {
	// Model returns the model of a step of the chain at T and its
	// description, or an error wrapping distill.ErrMissing.
	Model(t float64, step int) (*nn.Model, Model, error)
	// Trainer readies the chain at T, of steps after the teacher, for
	// training the models it lacks: it returns the store distill.Run
	// trains into (holding the models present, so that the first missing
	// one is distilled from the last present one) and the chain's
	// architecture.
	Trainer(t float64, steps int) (distill.Store, nn.Arch, error)
}

// Plan is one reproduction run.
type Plan struct {
	Settings     Settings
	Temperatures []float64
	Shard        eval.Shard
	Models       Models
	ModelsName   string // where the models come from, in words
	Test         *data.Set
	Workers      int
	// Cache is the output folder, where the samples files of earlier runs
	// are read (nil: none); Write writes a file into it (a slash-separated
	// path, atomically).
	Cache     fs.FS
	CacheName string // the output folder, in words, for messages
	Write     func(path string, b []byte) error
	// Shipped, if set, is a folder of earlier results (ShippedName, in
	// words) whose samples files are reused, and copied into the output
	// folder, when they hold the same settings: a fresh machine resumes
	// from the shipped per-sample results.
	Shipped     fs.FS
	ShippedName string
	// Chunk, when positive, is how many attacked samples of a model are
	// computed between writes of its partial file, so that an interrupted
	// model resumes at its first unfinished chunk; 0 computes each model
	// in one go.
	Chunk int
	// TrainMissing trains the models the chains lack into TrainInto (in
	// words), for Epochs each, on
	// TrainSet (loaded when first needed) with Train (nil: train.Run) and
	// Kernels; otherwise an incomplete chain is an error.
	TrainMissing bool
	TrainInto    string
	Epochs       int
	TrainSet     func() (*data.Set, error)
	Train        func(context.Context, train.Job, *train.State) (*train.State, error)
	Kernels      kernel.Kernels
	// Classifier wraps a model for the measurements (see eval.Job).
	Classifier func(m *nn.Model, workers int) (attack.Classifier, func())
	// Log hears a line of news; Attack each attack's progress on a model;
	// Distill the training events of a chain. Each may be nil.
	Log     func(string)
	Attack  func(t float64, role string, p eval.Progress)
	Distill func(t float64, e distill.Event)

	// prefix is put before every path of the output folder (the budget
	// check's runs keep theirs apart); full replaces the settings' attack
	// parameters (the budget check's reference).
	prefix string
	full   *attack.Configs
}

// configs are the attack parameters the plan runs.
func (p Plan) configs() attack.Configs {
	if p.full != nil {
		return *p.full
	}
	return Configs(p.Settings)
}

func (p Plan) log(format string, a ...any) {
	if p.Log != nil {
		p.Log(fmt.Sprintf(format, a...))
	}
}

// Run trains what the chains lack (with TrainMissing), then evaluates
// every model of every chain on the plan's shard, taking each model's
// samples from its cached samples file when one with the same settings
// and shard is there, and writing each new one as it finishes. It returns
// the models in chain order (T, then step).
func Run(ctx context.Context, p Plan) ([]Evaluated, error) {
	set := p.Settings
	if err := p.Shard.Validate(); err != nil {
		return nil, err
	}
	if err := p.complete(ctx); err != nil {
		return nil, err
	}
	started := time.Now()
	total, done, computed := len(p.Temperatures)*(set.Steps+1), 0, 0 // models in the run, models done, of them computed now
	var out []Evaluated
	for _, t := range p.Temperatures {
		chain := map[int]*nn.Model{}
		infos := map[int]Model{}
		for step := 0; step <= set.Steps; step++ {
			m, info, err := p.Models.Model(t, step)
			if err != nil {
				return nil, fmt.Errorf("T=%g step %d: %w", t, step, err)
			}
			chain[step], infos[step] = m, info
		}
		for step := 0; step <= set.Steps; step++ {
			info := infos[step]
			others := map[int]*nn.Model{}
			for k, m := range chain {
				if k != step {
					others[k] = m
				}
			}
			ev, err := p.evaluate(ctx, chain[step], others, info)
			if err != nil {
				return nil, fmt.Errorf("T=%g %s: %w", t, info.Role, err)
			}
			done++
			if ev.from != "" {
				p.log("model %d of %d: T=%g %s: cached in %s", done, total, t, info.Role, ev.from)
			} else {
				computed++
				elapsed := time.Since(started)
				eta := time.Duration(float64(elapsed) / float64(computed) * float64(total-done))
				p.log("model %d of %d: T=%g %s: %d samples evaluated%s (%s elapsed, about %s to go)",
					done, total, t, info.Role, len(ev.samples), ev.timing, elapsed.Round(time.Second), eta.Round(time.Second))
			}
			out = append(out, Evaluated{Model: info, Summary: eval.Summarize(ev.samples, set.Attacks, set.AttackSamples), Samples: ev.samples})
		}
	}
	return out, nil
}

// evaluation is one model's samples on a plan's shard.
type evaluation struct {
	samples []eval.Sample
	from    string // the cached file they come from ("": computed now)
	timing  string // attack seconds per sample, in words (computed only)
}

// path is where a model's file of a kind (SamplesDir, or PartialDir for
// the chunks of an unfinished model) lies in the output folder.
func (p Plan) path(kind, model string) string {
	return p.prefix + kind + strings.TrimPrefix(SamplesPath(model, p.Shard), SamplesDir)
}

// evaluate returns one model's samples on the plan's shard: from its
// samples file when the output folder (or Shipped, copied then into the
// output folder) holds one of the same settings, else computed chunk by
// chunk, each finished chunk kept in a partial file so that an interrupted
// model resumes at its first unfinished chunk, and written. chain are the
// other models of its chain, for transfer.
func (p Plan) evaluate(ctx context.Context, m *nn.Model, chain map[int]*nn.Model, info Model) (evaluation, error) {
	set := p.Settings
	path := p.path(SamplesDir, info.File)
	if sf, ok := p.cached(p.Cache, path, info); ok {
		return evaluation{samples: sf.Samples, from: strings.TrimPrefix(p.CacheName+"/"+path, "/")}, nil
	}
	if sf, ok := p.cached(p.Shipped, path, info); ok {
		b, err := json.Marshal(sf)
		if err == nil {
			err = p.Write(path, b)
		}
		if err != nil {
			return evaluation{}, err
		}
		return evaluation{samples: sf.Samples, from: p.ShippedName + "/" + path}, nil
	}
	partialPath := p.path(PartialDir, info.File)
	have := map[int]eval.Sample{}
	if sf, ok := p.cached(p.Cache, partialPath, info); ok {
		for _, s := range sf.Samples {
			have[s.Index] = s
		}
	}
	chunks := p.chunks()
	seconds, attacked := map[string]float64{}, map[string]int{}
	for c, only := range chunks {
		if chunkDone(have, only, set.Samples, p.Shard) {
			continue
		}
		others := map[int]*nn.Model{}
		for k, o := range chain {
			others[k] = o.Replica()
		}
		samples, err := eval.Run(ctx, eval.Job{Model: m, Chain: others, Test: p.Test, Samples: set.Samples, Classifier: p.Classifier,
			AttackSample: set.AttackSamples, Attacks: set.Attacks, Configs: p.configs(), Seed: set.Seed, Shard: p.Shard, Only: only, Workers: p.Workers,
			Progress: func(pr eval.Progress) {
				if p.Attack != nil {
					p.Attack(info.Temperature, info.Role, pr)
				}
				if pr.Done == pr.Total {
					seconds[pr.Attack] += pr.Elapsed.Seconds()
					attacked[pr.Attack] += pr.Total
				}
			}})
		if err != nil {
			return evaluation{}, err
		}
		for _, s := range samples {
			have[s.Index] = s
		}
		if c < len(chunks)-1 {
			if err := p.writeSamples(partialPath, info, sorted(have)); err != nil {
				return evaluation{}, err
			}
		}
	}
	all := sorted(have)
	if err := p.writeSamples(path, info, all); err != nil {
		return evaluation{}, err
	}
	perSample := map[string]float64{}
	for a, n := range attacked {
		perSample[a] = seconds[a] / float64(n)
	}
	return evaluation{samples: all, timing: timingText(set.Attacks, perSample)}, nil
}

// writeSamples writes a samples file of the plan's settings and shard.
func (p Plan) writeSamples(path string, info Model, samples []eval.Sample) error {
	b, err := json.Marshal(SamplesFile{Settings: p.Settings, Shard: p.Shard, Model: info, Samples: samples})
	if err != nil {
		return err
	}
	return p.Write(path, b)
}

// chunks split the shard's samples for resuming: the attacked ones in
// groups of Chunk (by index range), then the rest; one chunk of all when
// Chunk is 0.
func (p Plan) chunks() []func(int) bool {
	if p.Chunk <= 0 {
		return []func(int) bool{nil}
	}
	var idx []int
	for k := range min(p.Settings.AttackSamples, p.Settings.Samples) {
		if p.Shard.Has(k) {
			idx = append(idx, k)
		}
	}
	var out []func(int) bool
	for lo := 0; lo < len(idx); lo += p.Chunk {
		first, last := idx[lo], idx[min(lo+p.Chunk, len(idx))-1]
		out = append(out, func(k int) bool { return k >= first && k <= last })
	}
	rest := p.Settings.AttackSamples
	return append(out, func(k int) bool { return k >= rest })
}

// chunkDone reports whether have holds every sample of the chunk.
func chunkDone(have map[int]eval.Sample, only func(int) bool, n int, sh eval.Shard) bool {
	if only == nil {
		return false
	}
	for k := range n {
		if sh.Has(k) && only(k) {
			if _, ok := have[k]; !ok {
				return false
			}
		}
	}
	return true
}

// sorted lists samples by index.
func sorted(have map[int]eval.Sample) []eval.Sample {
	out := make([]eval.Sample, 0, len(have))
	for _, k := range slices.Sorted(maps.Keys(have)) {
		out = append(out, have[k])
	}
	return out
}

// timingText says how many seconds each attack took per attacked sample,
// for sizing a run from its output.
func timingText(attacks []string, perSample map[string]float64) string {
	if len(attacks) == 0 {
		return ""
	}
	var parts []string
	for _, a := range attacks {
		if s, ok := perSample[a]; ok {
			parts = append(parts, fmt.Sprintf("%s %.3gs", a, s))
		} else {
			parts = append(parts, a+" – (no sample attacked)")
		}
	}
	return "; attack seconds per sample: " + strings.Join(parts, ", ")
}

// cached returns the samples file at path of fsys when it holds this
// run's settings and shard and the model.
func (p Plan) cached(fsys fs.FS, path string, info Model) (SamplesFile, bool) {
	if fsys == nil {
		return SamplesFile{}, false
	}
	b, err := readSized(fsys, path, MaxSamplesFile)
	if err != nil {
		return SamplesFile{}, false
	}
	sf, err := ParseSamplesFile(b)
	if err != nil || !sf.Settings.Same(p.Settings) || sf.Shard != p.Shard || sf.Model != info {
		return SamplesFile{}, false
	}
	return sf, true
}

// readSized reads a file of fsys that is at most limit bytes.
func readSized(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", name, st.Size(), limit)
	}
	return fs.ReadFile(fsys, name)
}

// complete trains the models the chains lack, or says which chain is
// incomplete.
func (p Plan) complete(ctx context.Context) error {
	var trainSet *data.Set
	for _, t := range p.Temperatures {
		missing := false
		for step := 0; step <= p.Settings.Steps; step++ {
			_, _, err := p.Models.Model(t, step)
			switch {
			case errors.Is(err, distill.ErrMissing):
				missing = true
			case err != nil:
				return fmt.Errorf("T=%g step %d: %w", t, step, err)
			}
		}
		if !missing {
			continue
		}
		if !p.TrainMissing {
			return fmt.Errorf("T=%g: the chain of %d steps is incomplete in %s; give --train-missing to train the missing models (%d epochs each) into %s",
				t, p.Settings.Steps, p.ModelsName, p.Epochs, p.TrainInto)
		}
		p.log("T=%g: training the missing models of the chain into %s (%d epochs each)", t, p.TrainInto, p.Epochs)
		if trainSet == nil {
			var err error
			if trainSet, err = p.TrainSet(); err != nil {
				return err
			}
		}
		store, arch, err := p.Models.Trainer(t, p.Settings.Steps)
		if err != nil {
			return err
		}
		cfg := train.DefaultConfig(float32(t))
		cfg.Epochs, cfg.Workers = p.Epochs, p.Workers
		events := func(e distill.Event) {
			if p.Distill != nil {
				p.Distill(t, e)
			}
		}
		if _, err := distill.Run(ctx, distill.Chain{Dataset: p.Settings.Dataset, Arch: arch, Steps: p.Settings.Steps, Config: cfg, Train: p.Train},
			trainSet, p.Test, store, p.Kernels, events); err != nil {
			return err
		}
	}
	return nil
}
