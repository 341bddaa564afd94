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
	Dataset string `json:"dataset"`
	Preset  string `json:"preset"`
	Samples int    `json:"samples"`
	// AttackSamples: the attacks run on the correctly classified samples
	// among the first AttackSamples test images; an attack that
	// AttackCounts names, only on those among the first AttackCounts[a] of
	// them (see Attacked). Files written before per-attack counts have
	// none: every attack has AttackSamples.
	AttackSamples int            `json:"attack_samples"`
	AttackCounts  map[string]int `json:"attack_counts,omitempty"`
	Attacks       []string       `json:"attacks"`
	MaxIterations int            `json:"max_iterations"`
	Seed          uint64         `json:"seed"`
	Steps         int            `json:"steps"` // the chain's last step: transfer rates are measured on steps 0..Steps
	// AttackParams are the parameters each attack of Attacks ran with
	// (attack.Configs.Params). Nil in memory: those of the preset now
	// (Configs). A file written before they were recorded (2026-12-04)
	// gets them filled in when read: its preset's as they were then
	// (legacyConfigs).
	AttackParams map[string]string `json:"attack_params,omitempty"`
}

// MarshalJSON implements json.Marshaler: the attacks' parameters are
// always written (those of the preset now when AttackParams is nil), so
// that a file records what it was computed with.
func (s Settings) MarshalJSON() ([]byte, error) {
	type plain Settings
	p := plain(s)
	p.AttackParams = s.params()
	return json.Marshal(p)
}

// params are the parameters each attack of the settings runs with.
func (s Settings) params() map[string]string {
	if s.AttackParams != nil {
		return s.AttackParams
	}
	return paramsOf(Configs(s), s.Attacks)
}

// paramsOf are the parameters of the given attacks in c.
func paramsOf(c attack.Configs, attacks []string) map[string]string {
	all := c.Params()
	out := map[string]string{}
	for _, a := range attacks {
		out[a] = all[a]
	}
	return out
}

// legacyConfigs are the attack parameters of a file that does not record
// them (written before 2026-12-04): its preset's, except that the standard
// preset's L0 then started c at 0.1, which overstated L0 distances about
// 2× on the saturated networks of high T.
func legacyConfigs(s Settings) attack.Configs {
	c := Configs(s)
	if s.Preset == Standard {
		c.L0.InitialConst = 0.1
	}
	return c
}

// Attacked are the settings' attacked-sample counts.
func (s Settings) Attacked() eval.Counts {
	return eval.Counts{All: s.AttackSamples, Per: s.AttackCounts}
}

// WithAttacked returns the settings with the given count for each of
// their attacks (counts names every one): AttackSamples is the largest,
// and AttackCounts holds the counts only when they differ, so that
// settings of one count for all attacks are written as before per-attack
// counts.
func (s Settings) WithAttacked(counts map[string]int) Settings {
	s.AttackSamples, s.AttackCounts = 0, nil
	for _, a := range s.Attacks {
		s.AttackSamples = max(s.AttackSamples, counts[a])
	}
	for _, a := range s.Attacks {
		if counts[a] != s.AttackSamples {
			s.AttackCounts = map[string]int{}
			for _, b := range s.Attacks {
				s.AttackCounts[b] = counts[b]
			}
			break
		}
	}
	return s
}

// Same reports whether two settings compute the same samples: equal,
// with the same count for each attack however it is written, and the same
// parameters for each attack.
func (s Settings) Same(o Settings) bool {
	stale, ok := s.Stale(o)
	return ok && len(stale) == 0
}

// Stale compares the settings of a cached file (o) with s: ok when they
// agree but for some attacks' parameters, those attacks listed (in the
// order of Attacks) as stale; the other attacks' distances, and every
// measurement besides the attacks, are those s computes.
func (s Settings) Stale(o Settings) (stale []string, ok bool) {
	if !s.sameBut(o) {
		return nil, false
	}
	mine, theirs := s.params(), o.params()
	for _, a := range s.Attacks {
		if mine[a] != theirs[a] {
			stale = append(stale, a)
		}
	}
	return stale, true
}

// sameBut is Same but for the attacks' parameters.
func (s Settings) sameBut(o Settings) bool {
	if !(s.Dataset == o.Dataset && s.Preset == o.Preset && s.Samples == o.Samples &&
		slices.Equal(s.Attacks, o.Attacks) && s.MaxIterations == o.MaxIterations && s.Seed == o.Seed && s.Steps == o.Steps) {
		return false
	}
	for _, a := range s.Attacks {
		if s.Attacked().Of(a) != o.Attacked().Of(a) {
			return false
		}
	}
	return true
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
	Compute
	// TransferModels names the models of the chain the samples' transfer
	// entries were measured on (SamplesFile.TransferModels).
	TransferModels map[int]string
}

// Compute is what computing a model's samples took, as its samples files
// record it: the wall seconds spent computing them, over every session
// and shard (0: unknown, as in files written before they recorded it),
// and the machines they were computed on, in words ("": unknown).
type Compute struct {
	Seconds float64 `json:"compute_seconds,omitempty"`
	Machine string  `json:"machine,omitempty"`
}

// add is c with other's computing added: the seconds summed (unknown when
// either is), the machines listed once each.
func (c Compute) add(other Compute) Compute {
	sum := Compute{Seconds: c.Seconds + other.Seconds}
	if c.Seconds <= 0 || other.Seconds <= 0 {
		sum.Seconds = 0
	}
	sum.Machine = joinMachines(c.Machine, other.Machine)
	return sum
}

// joinMachines lists the machines of a and b (each "; "-separated) once
// each, in order.
func joinMachines(a, b string) string {
	var ms []string
	for _, m := range slices.Concat(strings.Split(a, "; "), strings.Split(b, "; ")) {
		if m != "" && !slices.Contains(ms, m) {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, "; ")
}

// Provenance sums what computing models took: the seconds of those that
// recorded them, how many did not (untimed), and every machine named.
func Provenance(models []Compute) (seconds float64, untimed int, machines string) {
	for _, m := range models {
		if m.Seconds > 0 {
			seconds += m.Seconds
		} else {
			untimed++
		}
		machines = joinMachines(machines, m.Machine)
	}
	return seconds, untimed, machines
}

// SamplesFile is one model's per-sample results for one shard, and what
// computing them took (absent from older files: unknown).
type SamplesFile struct {
	Settings Settings      `json:"settings"`
	Shard    eval.Shard    `json:"shard"`
	Model    Model         `json:"model"`
	Samples  []eval.Sample `json:"samples"`
	Compute
	// TransferModels names the models the samples' transfer entries
	// (eval.Sample.Transfer) were measured on: the SHA-256 of each step's
	// model. A transfer entry whose step is missing here, or whose model
	// has changed since (retrained), is stale: see KeepTransfer.
	TransferModels map[int]string `json:"transfer_models,omitempty"`
}

// KeepTransfer drops from sf's samples the transfer entries that were not
// measured on the chain's models as they are now (chain: each step's
// SHA-256), and returns the steps it dropped. The attacks' distances do
// not depend on the other models and stay; a dropped transfer rate needs
// the L2 attacks run again to be measured.
func (sf *SamplesFile) KeepTransfer(chain map[int]string) []int {
	var dropped []int
	for _, s := range sf.Samples {
		for k := range s.Transfer {
			if have, ok := sf.TransferModels[k]; (!ok || have != chain[k]) && !slices.Contains(dropped, k) {
				dropped = append(dropped, k)
			}
		}
	}
	slices.Sort(dropped)
	for _, k := range dropped {
		delete(sf.TransferModels, k)
		for i := range sf.Samples {
			delete(sf.Samples[i].Transfer, k)
			if len(sf.Samples[i].Transfer) == 0 {
				sf.Samples[i].Transfer = nil
			}
		}
	}
	return dropped
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
	set := sf.Settings
	if set.Samples < 1 || set.AttackSamples < 0 {
		return sf, fmt.Errorf("settings: %d samples, %d attacked", set.Samples, set.AttackSamples)
	}
	for _, a := range slices.Sorted(maps.Keys(set.AttackCounts)) {
		if n := set.AttackCounts[a]; !slices.Contains(set.Attacks, a) || n < 0 || n > set.AttackSamples {
			return sf, fmt.Errorf("settings: attack count %s=%d: want an attack of the run (%s) and 0..%d", a, n, strings.Join(set.Attacks, ", "), set.AttackSamples)
		}
	}
	if set.AttackParams == nil {
		sf.Settings.AttackParams = paramsOf(legacyConfigs(set), set.Attacks)
	}
	for _, a := range set.Attacks {
		if err := attack.CheckName(a); err != nil {
			return sf, fmt.Errorf("settings: %w", err)
		}
		if sf.Settings.AttackParams[a] == "" {
			return sf, fmt.Errorf("settings: no parameters recorded for attack %s", a)
		}
	}
	return sf, nil
}

// Merge combines samples files (each checked by ParseSamplesFile) of the
// same settings by model, in file name order; each model's shards must
// partition its samples exactly once. Transfer entries stay only for the
// steps whose model every shard of a model measured them on (the files'
// samples lose the others in place; see SamplesFile.KeepTransfer).
func Merge(files []SamplesFile) (Settings, []Evaluated, error) {
	if len(files) == 0 {
		return Settings{}, nil, errors.New("no samples files")
	}
	set := files[0].Settings
	byModel := map[string][]eval.Part{}
	info := map[string]Model{}
	compute := map[string]Compute{}
	transfer := map[string]map[int]string{} // the models every shard of a model measured transfer on
	for _, sf := range files {
		if seen, ok := transfer[sf.Model.File]; ok {
			maps.DeleteFunc(seen, func(k int, h string) bool { return sf.TransferModels[k] != h })
		} else {
			transfer[sf.Model.File] = maps.Clone(sf.TransferModels)
		}
	}
	for _, sf := range files {
		sf.KeepTransfer(transfer[sf.Model.File])
		if !set.Same(sf.Settings) {
			return set, nil, fmt.Errorf("%s (shard %d/%d): computed with other settings than the rest; shards merge only when they agree", sf.Model.File, sf.Shard.I, sf.Shard.N)
		}
		byModel[sf.Model.File] = append(byModel[sf.Model.File], eval.Part{Shard: sf.Shard, Samples: sf.Samples})
		if c, ok := compute[sf.Model.File]; ok {
			compute[sf.Model.File] = c.add(sf.Compute)
		} else {
			compute[sf.Model.File] = sf.Compute
		}
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
		out = append(out, Evaluated{Model: info[name], Summary: eval.Summarize(all, set.Attacks, set.Attacked()), Samples: all, Compute: compute[name], TransferModels: transfer[name]})
	}
	return set, out, nil
}

// The presets of a reproduction.
const (
	// Quick is a fast look: 5 attacked images per model, with the web
	// demo's budgets (attack.QuickConfigs). Not a result.
	Quick = "quick"
	// Standard is the powered run: the first 208 test images of every
	// model attacked with L2 and L∞ and the first 104 of them with L0 (the
	// correctly classified ones, at least 200 and 100; every model on the
	// same images and goals), with the budgets of StandardConfigs. Its
	// size is measured (StandardSeconds): about 6.3 hours for the 49
	// shipped MNIST models on 2 AVX-512 cores, 10.6 hours on 2 cores
	// without AVX-512.
	Standard = "standard"
	// Full is the paper's setting: every test image attacked with the
	// paper's parameters (attack.Defaults).
	Full = "full"
)

// MeasuredSamples is how many test images every preset measures accuracy,
// sensitivity and confidence on: the whole MNIST and CIFAR-10 test sets.
const MeasuredSamples = 10000

// AttackedSamples is how many test images a preset attacks by default
// with an attack (Full: all that are measured): quick 5; standard 208
// with L2 and L∞, 104 with L0 (its slowest). An attack runs on the
// correctly classified images among them, and the standard counts are
// sized so that every shipped MNIST model is attacked on at least 200
// images with L2 and L∞ and 100 with L0 (TestStandardAttacksEnoughImages
// in pretrained checks it).
func AttackedSamples(preset, attack string) int {
	switch preset {
	case Quick:
		return 5
	case Standard:
		if attack == "l0" {
			return 104
		}
		return 208
	}
	return MeasuredSamples
}

// Measured is when and where StandardSeconds were measured, in words.
// MeasureSeconds dates from an earlier run (MeasureSecondsMeasured).
const Measured = "measured with `tadd reproduce --standard` on the shipped MNIST models on a 2-core machine (SIMD kernels) on 2026-12-04, alone or beside a training at autogroup nice 19"

// StandardSeconds is the wall time one attacked image took with an
// attack and the standard budgets on 2 cores with the named kernels
// (kernel.Kernels.Name); 0 for an unknown attack. With kernel.NameAVX2 (a CPU
// without AVX-512, MeasuredAVX2): L2 0.73 s, L∞ 1.35 s, L0 3.1 s. With any
// other kernels, those measured on AVX-512 CPUs (Measured): L2 0.43 s, L∞
// 0.76 s, L0 1.8 s. On 2026-12-04 the four models evaluated that day took
// L2 0.41–0.43 s, L∞ 0.73–0.78 s and L0 1.71–1.81 s per image beside a
// training at autogroup nice 19 (which ran at about a tenth of its speed
// alone), and L0 alone on the T = 1 and T = 40 teachers, assistants and
// students 1.72–2.01 s with the training stopped. (2026-12-02: L2 0.6 s,
// L∞ 1.1 s, L0 2.1 s with initial c 0.1.)
func StandardSeconds(attack, kernels string) float64 {
	l2, linf, l0 := 0.43, 0.76, 1.8
	if kernels == kernel.NameAVX2 {
		l2, linf, l0 = 0.73, 1.35, 3.1
	}
	switch attack {
	case "l2":
		return l2
	case "linf":
		return linf
	case "l0":
		return l0
	}
	return 0
}

// MeasuredAVX2 is when and where the kernel.NameAVX2 StandardSeconds were
// measured, in words.
const MeasuredAVX2 = "the means of `tadd reproduce --standard` on the T = 10 steps 3–5, T = 20 steps 5–6 and T = 30 steps 3–6 on 2 AMD EPYC cores without AVX-512 (the AVX2 6×16 tiles) on 2026-12-07, alone: L2 0.711–0.781 s, L∞ 1.27–1.44 s, L0 2.95–3.26 s per image"

// MeasureSeconds is the wall time of one model's accuracy, sensitivity and
// confidence on MeasuredSamples test images: about 25 s
// (MeasureSecondsMeasured).
const MeasureSeconds = 25

// MeasureSecondsMeasured is when and where MeasureSeconds was measured.
const MeasureSecondsMeasured = "on 2026-12-02 on the same machine, quiet"

// StandardEstimate is the expected wall time of evaluating models models
// with the settings on one shard of shards with the named kernels, from
// the per-image times of the standard budgets (StandardSeconds,
// MeasureSeconds): each model's attacked images (all counted as correctly
// classified) and its measured samples. It is an estimate from one measurement; ok is false for other
// presets, whose times were not measured.
func StandardEstimate(set Settings, kernels string, models, shards int) (d time.Duration, ok bool) {
	if set.Preset != Standard {
		return 0, false
	}
	perModel := MeasureSeconds * float64(set.Samples) / MeasuredSamples
	for _, a := range set.Attacks {
		perModel += StandardSeconds(a, kernels) * float64(set.Attacked().Of(a))
	}
	seconds := perModel * float64(models) / float64(max(shards, 1))
	return time.Duration(seconds * float64(time.Second)), true
}

// StandardConfigs are the standard preset's attack budgets: between the
// quick look's and the paper's. L2: 5 binary-search steps [9] of 300
// iterations [10,000], learning rate 0.05 [0.01], initial c 0.1 [0.001].
// L0: 150 iterations per c [1,000], learning rate 0.05 [0.01], initial c
// the paper's 0.001 (0.1 until 2026-12-04: on the saturated networks of
// high T a large first c settles on perturbations about twice the
// minimal L0 distance, and the budget check found them ×2.05 and ×2.57
// on the T = 40 teacher and student). L∞: 150 iterations per c [1,000],
// learning rate 0.02 [0.005], initial c 0.01 [1e-5], τ shrinks by 0.85
// [0.9]. In wall time
// they cost L2 0.43 s, L∞ 0.76 s and L0 1.8 s per attacked image on 2 cores
// (StandardSeconds); the budget check (CheckBudget) measures what they
// cost in distance against the paper's parameters.
func StandardConfigs() attack.Configs {
	c := attack.Defaults()
	c.L2.BinarySearchSteps, c.L2.MaxIterations, c.L2.LearningRate, c.L2.InitialConst = 5, 300, 0.05, 0.1
	c.L0.MaxIterations, c.L0.LearningRate, c.L0.InitialConst = 150, 0.05, 1e-3
	c.LInf.MaxIterations, c.LInf.LearningRate, c.LInf.InitialConst, c.LInf.DecreaseFactor = 150, 0.02, 0.01, 0.85
	return c
}

// StandardText describes StandardConfigs against the paper's parameters.
const StandardText = "L2: 5 binary-search steps [9], 300 iterations per step [10,000], learning rate 0.05 [0.01], initial c 0.1 [0.001]. " +
	"L0: 150 iterations per c [1,000], learning rate 0.05 [0.01], initial c 0.001 [0.001]. " +
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
	// path, atomically); Remove, if set, deletes one that may not exist
	// (a finished model's partial file).
	Cache     fs.FS
	CacheName string // the output folder, in words, for messages
	Write     func(path string, b []byte) error
	Remove    func(path string) error
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
	// MinEpochs, when positive, leaves out of the run the models trained
	// for fewer epochs (catalog.Entry.Epochs; unknown counts as fewer):
	// see LeftOut. They still serve the transfer measurements of their
	// chain, so a model's samples do not depend on it.
	MinEpochs int
	// MeasureTransfer runs the L2 attacks of a cached model again when
	// its file lacks transfer entries to some model of the chain as it is
	// now (dropped after a retraining, see SamplesFile.KeepTransfer); the
	// L2 distances come out the same, the transfer rates are measured.
	// Without it they stay missing, and the log says so.
	MeasureTransfer bool
	// CachedOnly computes no attack: the models that no finished samples
	// file of the plan's settings holds (in Cache or Shipped) are left out
	// (see LeftOut), and the cached ones are taken as their files hold
	// them. It gives the results of a run interrupted before its last
	// model (at the end of a session) over the models finished by then;
	// the interrupted model's partial file stays for the run that resumes
	// it. Not with MeasureTransfer or TrainMissing, which compute.
	CachedOnly bool
	// Classifier wraps a model for the measurements (see eval.Job).
	Classifier func(m *nn.Model, workers int) (attack.Classifier, func())
	// Machine is where the plan computes, in words, recorded in every
	// samples file it writes ("": unknown).
	Machine string
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

// settings are the plan's settings with the parameters its attacks run
// with, as its samples files record them.
func (p Plan) settings() Settings {
	set := p.Settings
	set.AttackParams = paramsOf(p.configs(), set.Attacks)
	return set
}

func (p Plan) log(format string, a ...any) {
	if p.Log != nil {
		p.Log(fmt.Sprintf(format, a...))
	}
}

// LeftOutFile is the file, in an output folder, that names the models the
// run there left out (LeftOut.String, in chain order): a JSON list of
// strings, which tadd merge carries from the shards into the results.
const LeftOutFile = "not-evaluated.json"

// LeftOut is a model of a plan's chains that its run does not evaluate.
type LeftOut struct {
	Model Model
	Why   string // as "trained for 10 epochs < 50"
}

// String names the model and why it is left out.
func (l LeftOut) String() string {
	return fmt.Sprintf("T=%g %s (%s): not evaluated: %s", l.Model.Temperature, l.Model.Role, l.Model.File, l.Why)
}

// leftOut says why a model is left out of the plan's run ("": it is not).
func (p Plan) leftOut(info Model) string {
	switch {
	case p.MinEpochs > 0 && info.Epochs == 0:
		return fmt.Sprintf("trained for an unknown number of epochs, want at least %d", p.MinEpochs)
	case p.MinEpochs > 0 && info.Epochs < p.MinEpochs:
		return fmt.Sprintf("trained for %d epochs < %d", info.Epochs, p.MinEpochs)
	case p.CachedOnly && !p.finished(info):
		return "not computed yet: no finished samples file of this run's settings"
	}
	return ""
}

// finished says whether the output folder (Cache) or the shipped results
// hold a samples file of the model with the plan's settings, none of its
// attacks to run again for other parameters.
func (p Plan) finished(info Model) bool {
	path := p.path(SamplesDir, info.File)
	for _, fsys := range []fs.FS{p.Cache, p.Shipped} {
		if _, stale, ok := p.cached(fsys, path, info); ok && len(stale) == 0 {
			return true
		}
	}
	return false
}

// LeftOut lists, in chain order, the models of the plan's chains that Run
// does not evaluate: those trained for fewer than MinEpochs epochs, and
// with CachedOnly those not computed yet. The chains must be complete
// (as after Run).
func (p Plan) LeftOut() ([]LeftOut, error) {
	var out []LeftOut
	for _, t := range p.Temperatures {
		for step := 0; step <= p.Settings.Steps; step++ {
			_, info, err := p.Models.Model(t, step)
			if err != nil {
				return nil, fmt.Errorf("T=%g step %d: %w", t, step, err)
			}
			if why := p.leftOut(info); why != "" {
				out = append(out, LeftOut{Model: info, Why: why})
			}
		}
	}
	return out, nil
}

// Run trains what the chains lack (with TrainMissing), then evaluates
// every model of every chain on the plan's shard but those LeftOut names,
// taking each model's samples from its cached samples file when one with
// the same settings and shard is there, and writing each new one as it
// finishes. It returns the models in chain order (T, then step). Before
// the first model it logs the models left out and, on the standard
// preset, the expected wall time of the models to compute
// (StandardEstimate).
func Run(ctx context.Context, p Plan) ([]Evaluated, error) {
	set := p.Settings
	if err := p.Shard.Validate(); err != nil {
		return nil, err
	}
	if p.CachedOnly && (p.MeasureTransfer || p.TrainMissing) {
		return nil, errors.New("a run of cached models only computes nothing: it cannot measure transfer rates or train models")
	}
	if err := p.complete(ctx); err != nil {
		return nil, err
	}
	left, err := p.LeftOut()
	if err != nil {
		return nil, err
	}
	for _, l := range left {
		p.log("%s", l)
	}
	total := len(p.Temperatures)*(set.Steps+1) - len(left) // models in the run
	w, err := p.work()
	if err != nil {
		return nil, err
	}
	p.logEstimate(total, w)
	if others, err := p.outside(); err != nil {
		return nil, err
	} else if len(others) > 0 {
		p.log("%s holds the samples files of %d models outside this run (%s): the results, report and summary written now cover this run's models only; a run over all their temperatures (cached, no recomputing) includes them again",
			p.CacheName, len(others), strings.Join(others, ", "))
	}
	started := time.Now()
	done, computed := 0, 0 // models done, of them computed now
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
			if p.leftOut(info) != "" {
				continue
			}
			others, hashes := map[int]*nn.Model{}, map[int]string{}
			for k, m := range chain {
				if k != step {
					others[k], hashes[k] = m, infos[k].SHA256
				}
			}
			ev, err := p.evaluate(ctx, chain[step], chainModels{others, hashes}, info)
			if err != nil {
				return nil, fmt.Errorf("T=%g %s: %w", t, info.Role, err)
			}
			done++
			if ev.from != "" {
				p.log("model %d of %d: T=%g %s: cached in %s", done, total, t, info.Role, ev.from)
			} else {
				computed++
				// The models left to compute, not the cached ones.
				toCompute := max(w.models+w.rerun, computed)
				elapsed := time.Since(started)
				eta := time.Duration(float64(elapsed) / float64(computed) * float64(toCompute-computed))
				p.log("model %d of %d: T=%g %s: %d samples evaluated%s (%d of the %d to compute done; %s elapsed, about %s to go)",
					done, total, t, info.Role, len(ev.samples), ev.timing, computed, toCompute, elapsed.Round(time.Second), eta.Round(time.Second))
			}
			out = append(out, Evaluated{Model: info, Summary: eval.Summarize(ev.samples, set.Attacks, set.Attacked()), Samples: ev.samples, Compute: ev.compute, TransferModels: ev.transfer})
		}
	}
	return out, nil
}

// outside lists the samples files in the output folder (Cache) that no
// model of the plan's chains writes: a run over fewer temperatures than an
// earlier one there. Sharded runs, whose folders hold other shards' files,
// list none.
func (p Plan) outside() ([]string, error) {
	if p.Cache == nil || p.Shard.N > 1 {
		return nil, nil
	}
	planned := map[string]bool{}
	for _, t := range p.Temperatures {
		for step := 0; step <= p.Settings.Steps; step++ {
			_, info, err := p.Models.Model(t, step)
			if err != nil {
				return nil, fmt.Errorf("T=%g step %d: %w", t, step, err)
			}
			planned[p.path(SamplesDir, info.File)] = true
		}
	}
	dir := p.prefix + SamplesDir
	entries, err := fs.ReadDir(p.Cache, dir)
	if err != nil {
		return nil, nil // no samples folder yet
	}
	var out []string
	for _, e := range entries {
		if name := e.Name(); !e.IsDir() && strings.HasSuffix(name, ".json") && !planned[dir+"/"+name] {
			out = append(out, name)
		}
	}
	return out, nil
}

// work is what a run computes: the models that no cached samples file
// holds, and the cached ones that run some attacks again (Plan.rerun).
type work struct {
	models int            // models no cached samples file holds
	rerun  int            // cached models that run some attacks again
	again  map[string]int // of those, per attack, how many run it again
}

// work counts what the run computes, over the models it evaluates.
func (p Plan) work() (work, error) {
	w := work{again: map[string]int{}}
	if p.CachedOnly {
		return w, nil // it computes nothing
	}
	for _, t := range p.Temperatures {
		infos := map[int]Model{}
		for step := 0; step <= p.Settings.Steps; step++ {
			_, info, err := p.Models.Model(t, step)
			if err != nil {
				return work{}, fmt.Errorf("T=%g step %d: %w", t, step, err)
			}
			infos[step] = info
		}
		for step := 0; step <= p.Settings.Steps; step++ {
			info := infos[step]
			if p.leftOut(info) != "" {
				continue
			}
			hashes := map[int]string{}
			for k, o := range infos {
				if k != step {
					hashes[k] = o.SHA256
				}
			}
			path := p.path(SamplesDir, info.File)
			cached := false
			for _, fsys := range []fs.FS{p.Cache, p.Shipped} {
				if sf, stale, ok := p.cached(fsys, path, info); ok {
					cached = true
					rerun, _ := p.rerun(sf, stale, hashes)
					for _, a := range rerun {
						w.again[a]++
					}
					if len(rerun) > 0 {
						w.rerun++
					}
					break
				}
			}
			if !cached {
				w.models++
			}
		}
	}
	return w, nil
}

// logEstimate logs, on the standard preset, the expected wall time of the
// run's models (total of them) that no cached samples file holds, and of
// the attacks of cached models to run again (w).
func (p Plan) logEstimate(total int, w work) {
	set := p.Settings
	if set.Preset != Standard || p.full != nil || p.CachedOnly {
		return
	}
	toCompute, again := w.models, w.again
	kernels := "" // the kernels' name picks the measured per-image times
	if p.Kernels != nil {
		kernels = p.Kernels.Name()
	}
	d, _ := StandardEstimate(set, kernels, toCompute, p.Shard.N)
	p.log("%s", EstimateText(set, kernels, d, toCompute, total, p.Shard))
	if len(again) > 0 {
		seconds := 0.0
		var which []string
		for _, a := range set.Attacks {
			if again[a] > 0 {
				seconds += StandardSeconds(a, kernels) * float64(set.Attacked().Of(a)*again[a]) / float64(max(p.Shard.N, 1))
				which = append(which, fmt.Sprintf("%s on %d", a, again[a]))
			}
		}
		p.log("and about %s to run again the attacks of cached models that ran with other parameters or lack transfer rates to retrained models (%s models)", hours(time.Duration(seconds*float64(time.Second))), strings.Join(which, ", "))
	}
}

// EstimateText says what StandardEstimate expects of a run that computes
// toCompute of its total models (the others cached), in words.
func EstimateText(set Settings, kernels string, d time.Duration, toCompute, total int, sh eval.Shard) string {
	var counts []string
	for _, a := range set.Attacks {
		counts = append(counts, fmt.Sprintf("%s %d", a, set.Attacked().Of(a)))
	}
	what := fmt.Sprintf("%d models", total)
	if toCompute < total {
		what = fmt.Sprintf("the %d of %d models not cached", toCompute, total)
	}
	if sh.N > 1 {
		what += fmt.Sprintf(" (shard %d/%d: its share)", sh.I, sh.N)
	}
	measured := Measured
	if kernels == kernel.NameAVX2 {
		measured = MeasuredAVX2
	}
	return fmt.Sprintf("expected wall time: about %s for %s, with %s attacked images each and %d measured. "+
		"An estimate from the standard budgets' times per attacked image (L2 %g s, L∞ %g s, L0 %g s), %s, "+
		"and %d s per model for %d measured images, %s; another machine or load, or --max-iterations, changes it.",
		hours(d), what, strings.Join(counts, ", "), set.Samples,
		StandardSeconds("l2", kernels), StandardSeconds("linf", kernels), StandardSeconds("l0", kernels), measured, MeasureSeconds, MeasuredSamples, MeasureSecondsMeasured)
}

// hours writes a duration as "7.8 h", in minutes below an hour and in
// seconds below a minute.
func hours(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.0f min", d.Minutes())
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

// evaluation is one model's samples on a plan's shard.
type evaluation struct {
	samples  []eval.Sample
	compute  Compute
	transfer map[int]string // the models the transfers were measured on
	from     string         // the cached file they come from ("": computed now)
	timing   string         // attack seconds per sample, in words (computed only)
}

// path is where a model's file of a kind (SamplesDir, or PartialDir for
// the chunks of an unfinished model) lies in the output folder.
func (p Plan) path(kind, model string) string {
	return p.prefix + kind + strings.TrimPrefix(SamplesPath(model, p.Shard), SamplesDir)
}

// chainModels are the other models of a model's chain, by step, for
// transfer, with their SHA-256.
type chainModels struct {
	models map[int]*nn.Model
	hashes map[int]string
}

// replicas are replicas of the chain's models, for one evaluation.
func (c chainModels) replicas() map[int]*nn.Model {
	out := map[int]*nn.Model{}
	for k, o := range c.models {
		out[k] = o.Replica()
	}
	return out
}

// transferModels is what a samples file records of the chain: its
// models' SHA-256 by step, nil for none.
func (c chainModels) transferModels() map[int]string {
	if len(c.hashes) == 0 {
		return nil
	}
	return c.hashes
}

// evaluate returns one model's samples on the plan's shard: from its
// samples file when the output folder (or Shipped, copied then into the
// output folder) holds one of the same settings, else computed chunk by
// chunk, each finished chunk kept in a partial file so that an interrupted
// model resumes at its first unfinished chunk, and written (the partial
// file then removed). A cached file's transfer entries measured on models
// that have changed since are dropped (SamplesFile.KeepTransfer).
func (p Plan) evaluate(ctx context.Context, m *nn.Model, chain chainModels, info Model) (evaluation, error) {
	set := p.Settings
	path := p.path(SamplesDir, info.File)
	for _, from := range []struct {
		fsys fs.FS
		name string
	}{{p.Cache, strings.TrimPrefix(p.CacheName+"/"+path, "/")}, {p.Shipped, p.ShippedName + "/" + path}} {
		sf, stale, ok := p.cachedFor(from.fsys, path, info, chain)
		if !ok {
			continue
		}
		n, err := p.fillLog10Amplitudes(m, path, sf.Samples)
		if err != nil {
			return evaluation{}, err
		}
		ev := evaluation{from: from.name}
		if stale = p.again(path, sf, stale, chain); len(stale) > 0 {
			if sf, ev.timing, err = p.reattack(ctx, m, chain, info, path, sf, stale); err != nil {
				return evaluation{}, err
			}
			ev.from = ""
		}
		if n > 0 || len(stale) > 0 || from.fsys == p.Shipped {
			if err := p.writeFile(path, sf); err != nil {
				return evaluation{}, err
			}
		}
		ev.samples, ev.compute, ev.transfer = sf.Samples, sf.Compute, sf.TransferModels
		return ev, nil
	}
	partialPath := p.path(PartialDir, info.File)
	have := map[int]eval.Sample{}
	// What computing took, over the sessions that computed its chunks:
	// known only when the partial file (or there is none) says.
	spent := Compute{Seconds: 0, Machine: p.Machine}
	timed := true
	if sf, stale, ok := p.cachedFor(p.Cache, partialPath, info, chain); ok && len(stale) > 0 {
		p.log("%s: its %s attacks ran with other parameters than this run's; the model is evaluated again from its first sample", partialPath, strings.Join(stale, ", "))
	} else if ok {
		for _, s := range sf.Samples {
			have[s.Index] = s
		}
		spent.Seconds, timed = sf.Seconds, sf.Seconds > 0
		spent.Machine = joinMachines(sf.Machine, p.Machine)
	}
	chunks := p.chunks()
	times := attackTimes{}
	for c, only := range chunks {
		if chunkDone(have, only, set.Samples, p.Shard) {
			continue
		}
		began := time.Now()
		samples, err := eval.Run(ctx, eval.Job{Model: m, Chain: chain.replicas(), Test: p.Test, Samples: set.Samples, Classifier: p.Classifier,
			Attacked: set.Attacked(), Attacks: set.Attacks, Configs: p.configs(), Seed: set.Seed, Shard: p.Shard, Only: only, Workers: p.Workers,
			Progress: p.progress(info, times)})
		if err != nil {
			return evaluation{}, err
		}
		for _, s := range samples {
			have[s.Index] = s
		}
		spent.Seconds += time.Since(began).Seconds()
		if c < len(chunks)-1 {
			if err := p.writeSamples(partialPath, info, chain, sorted(have), spent.known(timed)); err != nil {
				return evaluation{}, err
			}
		}
	}
	all := sorted(have)
	spent = spent.known(timed)
	if _, err := p.fillLog10Amplitudes(m, partialPath, all); err != nil { // chunks from before they were measured
		return evaluation{}, err
	}
	if err := p.writeSamples(path, info, chain, all, spent); err != nil {
		return evaluation{}, err
	}
	if p.Remove != nil {
		if err := p.Remove(partialPath); err != nil {
			return evaluation{}, fmt.Errorf("removing the finished model's partial file: %w", err)
		}
	}
	return evaluation{samples: all, compute: spent, transfer: chain.transferModels(), timing: times.text(set.Attacks)}, nil
}

// attackTimes are, per attack, the seconds its finished runs took and the
// samples they attacked.
type attackTimes map[string]struct {
	seconds  float64
	attacked int
}

// progress passes a model's attack progress on to the plan's Attack and
// adds each finished run to times.
func (p Plan) progress(info Model, times attackTimes) func(eval.Progress) {
	return func(pr eval.Progress) {
		if p.Attack != nil {
			p.Attack(info.Temperature, info.Role, pr)
		}
		if pr.Done == pr.Total {
			t := times[pr.Attack]
			t.seconds, t.attacked = t.seconds+pr.Elapsed.Seconds(), t.attacked+pr.Total
			times[pr.Attack] = t
		}
	}
}

// text says how many seconds each attack took per attacked sample, for
// sizing a run from its output.
func (times attackTimes) text(attacks []string) string {
	if len(attacks) == 0 {
		return ""
	}
	var parts []string
	for _, a := range attacks {
		if t, ok := times[a]; ok {
			parts = append(parts, fmt.Sprintf("%s %.3gs", a, t.seconds/float64(t.attacked)))
		} else {
			parts = append(parts, a+" – (no sample attacked)")
		}
	}
	return "; attack seconds per sample: " + strings.Join(parts, ", ")
}

// known is c, its seconds unknown (0) unless timed.
func (c Compute) known(timed bool) Compute {
	if !timed {
		c.Seconds = 0
	}
	return c
}

// fillLog10Amplitudes measures the log10 amplitudes that samples of the
// file at path lack (files from before they were measured) on m, and says
// so in the log; it returns how many it measured.
func (p Plan) fillLog10Amplitudes(m *nn.Model, path string, samples []eval.Sample) (int, error) {
	n, err := eval.FillLog10Amplitudes(attack.NewClassifier(m, 1), p.Test, samples)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if n > 0 {
		p.log("%s: log10 gradient amplitudes of %d samples measured (the file predates them)", path, n)
	}
	return n, nil
}

// writeFile writes a samples file.
func (p Plan) writeFile(path string, sf SamplesFile) error {
	b, err := json.Marshal(sf)
	if err != nil {
		return err
	}
	return p.Write(path, b)
}

// writeSamples writes a samples file of the plan's settings and shard.
func (p Plan) writeSamples(path string, info Model, chain chainModels, samples []eval.Sample, c Compute) error {
	return p.writeFile(path, SamplesFile{Settings: p.settings(), Shard: p.Shard, Model: info, Samples: samples, Compute: c, TransferModels: chain.transferModels()})
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

// cached returns the samples file at path of fsys when it holds this
// run's settings and shard and the model, but for the attacks it lists as
// stale: those whose parameters were others than the run's (Stale).
func (p Plan) cached(fsys fs.FS, path string, info Model) (sf SamplesFile, stale []string, ok bool) {
	if fsys == nil {
		return SamplesFile{}, nil, false
	}
	b, err := readSized(fsys, path, MaxSamplesFile)
	if err != nil {
		return SamplesFile{}, nil, false
	}
	sf, err = ParseSamplesFile(b)
	if err != nil || sf.Shard != p.Shard || sf.Model != info {
		return SamplesFile{}, nil, false
	}
	stale, ok = p.settings().Stale(sf.Settings)
	return sf, stale, ok
}

// cachedFor is cached without the transfer entries measured on other
// models than chain's (said in the log).
func (p Plan) cachedFor(fsys fs.FS, path string, info Model, chain chainModels) (SamplesFile, []string, bool) {
	sf, stale, ok := p.cached(fsys, path, info)
	if !ok {
		return sf, stale, ok
	}
	if dropped := sf.KeepTransfer(chain.hashes); len(dropped) > 0 {
		p.log("%s: transfer rates to steps %v dropped: measured on other models than the chain's as they are now; --transfer runs its L2 attacks again to measure them", path, dropped)
	}
	return sf, stale, ok
}

// again lists the attacks of a cached samples file to run again (rerun),
// said in the log.
func (p Plan) again(path string, sf SamplesFile, stale []string, chain chainModels) []string {
	if len(stale) > 0 {
		p.log("%s: its %s attacks ran with other parameters than this run's; attacking again", path, strings.Join(stale, ", "))
	}
	again, missing := p.rerun(sf, stale, chain.hashes)
	if len(again) > len(stale) {
		p.log("%s: no transfer rates to steps %v: its L2 attacks run again to measure them", path, missing)
	}
	return again
}

// rerun lists the attacks of a cached samples file to run again: the
// stale ones, and L2 when the plan measures transfer and the file lacks
// transfer rates to some steps of the chain (missing; MeasureTransfer).
func (p Plan) rerun(sf SamplesFile, stale []string, chain map[int]string) (again []string, missing []int) {
	again = slices.Clone(stale)
	if missing = sf.missingTransfer(chain); p.MeasureTransfer && len(missing) > 0 && slices.Contains(p.Settings.Attacks, "l2") && !slices.Contains(stale, "l2") {
		again = append(again, "l2")
	}
	return again, missing
}

// missingTransfer lists the steps of the chain (each step's SHA-256) that
// sf's transfer entries were not measured on.
func (sf SamplesFile) missingTransfer(chain map[int]string) []int {
	var out []int
	for _, k := range slices.Sorted(maps.Keys(chain)) {
		if sf.TransferModels[k] != chain[k] {
			out = append(out, k)
		}
	}
	return out
}

// reattack runs some attacks of a cached samples file again (stale) with
// the plan's parameters, on the same images and goals, and returns the file
// with their distances (and, for L2, the transfer entries) replaced and
// its settings the plan's; the file's other measurements stay, and the
// seconds spent are added to what computing it took.
func (p Plan) reattack(ctx context.Context, m *nn.Model, chain chainModels, info Model, path string, sf SamplesFile, stale []string) (SamplesFile, string, error) {
	set := p.settings()
	n := 0
	for _, a := range stale {
		n = max(n, set.Attacked().Of(a))
	}
	times := attackTimes{}
	job := eval.Job{Model: m, Test: p.Test, Samples: min(n, set.Samples), Classifier: p.Classifier, Attacked: set.Attacked(), Attacks: stale,
		Configs: p.configs(), Seed: set.Seed, Shard: p.Shard, Workers: p.Workers, Progress: p.progress(info, times)}
	l2 := slices.Contains(stale, "l2")
	if l2 {
		job.Chain = chain.replicas()
	}
	began := time.Now()
	fresh, err := eval.Run(ctx, job)
	if err != nil {
		return sf, "", err
	}
	at := map[int]int{}
	for i, s := range sf.Samples {
		at[s.Index] = i
	}
	for _, f := range fresh {
		i, ok := at[f.Index]
		if !ok {
			return sf, "", fmt.Errorf("%s: sample %d is not in the file", path, f.Index)
		}
		old := &sf.Samples[i]
		if old.Correct != f.Correct || old.Target != f.Target || len(old.More) != len(f.More) {
			return sf, "", fmt.Errorf("%s: sample %d: the model now classifies or aims it otherwise than the file says (correct %v, goal %d; file: %v, %d)",
				path, f.Index, f.Correct, f.Target, old.Correct, old.Target)
		}
		if old.Distance == nil {
			old.Distance = map[string]eval.Dist{}
		}
		for _, a := range stale {
			old.Distance[a] = f.Distance[a]
			for g := range f.More {
				old.More[g].Distance[a] = f.More[g].Distance[a]
			}
		}
		if l2 {
			old.Transfer = f.Transfer
		}
	}
	if l2 {
		sf.TransferModels = chain.transferModels()
	}
	sf.Settings = set
	sf.Compute = sf.Compute.add(Compute{Seconds: time.Since(began).Seconds(), Machine: p.Machine})
	return sf, times.text(stale), nil
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
