package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/experiment"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/report"
	"github.com/tadd-project/tadd/native/safefile"
	"github.com/tadd-project/tadd/pretrained"
)

// settings are what a samples file was computed with; files merge only
// when their settings agree.
type settings struct {
	Dataset       string   `json:"dataset"`
	Preset        string   `json:"preset"`
	Samples       int      `json:"samples"`
	AttackSamples int      `json:"attack_samples"`
	Attacks       []string `json:"attacks"`
	MaxIterations int      `json:"max_iterations"`
	Seed          uint64   `json:"seed"`
	Steps         int      `json:"steps"` // the chain's last step: transfer rates are measured on steps 0..Steps
}

// samplesFile is one model's per-sample results for one shard.
type samplesFile struct {
	Settings settings            `json:"settings"`
	Shard    experiment.Shard    `json:"shard"`
	Model    report.Model        `json:"model"`
	Samples  []experiment.Sample `json:"samples"`
}

func samplesPath(dir, model string, sh experiment.Shard) string {
	name := strings.TrimSuffix(model, ".safetensors")
	if sh.N > 1 {
		name += fmt.Sprintf(".shard-%d-of-%d", sh.I, sh.N)
	}
	return filepath.Join(dir, "samples", name+".json")
}

func budgetText(s settings) string {
	b := "the paper's attack parameters"
	if s.Preset == "quick" {
		b = "quick attack budgets (" + attack.QuickText + ")"
	}
	if s.MaxIterations > 0 {
		b += fmt.Sprintf(", at most %d iterations per constant", s.MaxIterations)
	}
	return b
}

func runReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("reproduce", stderr)
	var d dataFlags
	ds := flags.String("dataset", "mnist", "dataset: mnist or cifar10")
	quick := flags.Bool("quick", false, "minutes on a laptop: 1,000 samples, attacks on 5 with the quick budgets (the web demo's)")
	samples := flags.Int("samples", 0, "test images for accuracy, sensitivity, confidence (default: quick 1000, full 10000)")
	attackSamples := flags.Int("attack-samples", 0, "of those, how many are attacked (default: quick 5, full all)")
	temps := flags.String("temperatures", "1,2,5,10,20,30,40", "temperatures")
	steps := flags.Int("steps", 6, "distillation steps after the teacher")
	attacks := flags.String("attacks", "l0,l2,linf", "attacks")
	out := flags.String("out", "", "output folder (default reproduce-DATASET)")
	models := flags.String("models", "", "model folder with manifest.json (default: the shipped MNIST models)")
	trainMissing := flags.Bool("train-missing", false, "train the models the chains lack (from the last one given, --epochs each) into OUT/models")
	epochs := flags.Int("epochs", 10, "epochs for models trained with --train-missing")
	iters := flags.Int("max-iterations", 0, "cap attack iterations per constant (default: none)")
	shardFlag := flags.String("shard", "", "evaluate only the slice i/n of the samples (merge shards with tadd merge)")
	seed := flags.Uint64("seed", 1, "seed of the attacks' random targets")
	workers := flags.Int("workers", 0, "parallel workers (0 = all cores)")
	quiet := flags.Bool("quiet", false, "no progress bars")
	flags.StringVar(&d.dir, "data", "", "dataset directory")
	flags.BoolVar(&d.offline, "offline", false, "never download datasets")
	device := deviceFlag(flags)
	if err := parse(flags, args); err != nil {
		return err
	}
	if err := counts(flags, "samples", "attack-samples", "max-iterations", "workers"); err != nil {
		return err
	}
	if *trainMissing && *epochs < 1 {
		return usageError{fmt.Sprintf("--epochs %d: want at least 1", *epochs)}
	}
	sh, err := experiment.ParseShard(*shardFlag)
	if err != nil {
		return usageError{err.Error()}
	}
	ts, err := parseTemperatures(*temps)
	if err != nil {
		return usageError{err.Error()}
	}
	if *steps < 0 || *steps > distill.MaxSteps {
		return usageError{fmt.Sprintf("--steps %d: want 0..%d", *steps, distill.MaxSteps)}
	}
	var names []string
	for _, a := range strings.Split(*attacks, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if err := attack.CheckName(a); err != nil {
			return usageError{err.Error()}
		}
		names = append(names, a)
	}
	set := settings{Dataset: *ds, Preset: "full", Samples: *samples, AttackSamples: *attackSamples, Attacks: names, MaxIterations: *iters, Seed: *seed, Steps: *steps}
	if *quick {
		set.Preset = "quick"
		set.Samples, set.AttackSamples = positiveOr(*samples, 1000), positiveOr(*attackSamples, 5)
	} else {
		set.Samples = positiveOr(*samples, 10000)
		set.AttackSamples = positiveOr(*attackSamples, set.Samples)
	}
	set.AttackSamples = min(set.AttackSamples, set.Samples)
	if *out == "" {
		*out = "reproduce-" + *ds
	}
	// Models: the given folder (which must have a manifest) or the shipped
	// ones; with --train-missing, missing models are trained into
	// OUT/models (resumably).
	var modelFS fs.FS = pretrained.FS()
	if *models != "" {
		if st, err := os.Stat(*models); err != nil || !st.IsDir() {
			return fmt.Errorf("--models %s: not a folder (%v)", *models, err)
		}
		modelFS = os.DirFS(*models)
	}
	man, err := catalog.Read(modelFS)
	switch {
	case errors.Is(err, fs.ErrNotExist) && *models != "":
		return fmt.Errorf("--models %s: no %s (a folder written by tadd distill has one)", *models, catalog.FileName)
	case errors.Is(err, fs.ErrNotExist):
		man = &catalog.Manifest{}
	case err != nil:
		return err
	}
	if err := safefile.PrepareDir(filepath.Join(*out, "samples"), ""); err != nil {
		return fmt.Errorf("--out %s: %w", *out, err)
	}
	test, err := loadTestSet(ctx, *ds, d, stderr)
	if err != nil {
		return err
	}
	// The settings say how many samples there are, so that merging shards
	// can check that every one of them is there once.
	set.Samples = min(set.Samples, test.Len())
	set.AttackSamples = min(set.AttackSamples, set.Samples)
	trainedDir := filepath.Join(*out, "models")
	dev, err := openDevice(*device, stderr)
	if err != nil {
		return err
	}
	defer dev.release()
	kern := dev.modelKernels()
	// load takes a model from the training folder if a chain was trained
	// there (that folder then holds the whole chain, its given models
	// copied), else from the given models.
	load := func(t float64, step int) (*nn.Model, report.Model, error) {
		store := fileStore{dir: trainedDir, dataset: *ds, temp: t, dtype: weights.F16}
		m, meta, err := store.Model(step, kern)
		if err == nil {
			return m, report.Model{Entry: catalog.Entry{File: store.Name(step), Identity: meta.Identity}}, nil
		}
		if !errors.Is(err, distill.ErrMissing) {
			return nil, report.Model{}, err
		}
		if e, ok := man.Find(*ds, t, step); ok {
			b, err := fs.ReadFile(modelFS, e.File)
			if err != nil {
				return nil, report.Model{}, err
			}
			m, _, err := weights.Load(b, kern)
			return m, report.Model{Entry: e}, err
		}
		return nil, report.Model{}, distill.ErrMissing
	}
	// Train whatever is missing first.
	for _, t := range ts {
		missing := false
		for step := 0; step <= *steps; step++ {
			if _, _, err := load(t, step); errors.Is(err, distill.ErrMissing) {
				missing = true
			}
		}
		if !missing {
			continue
		}
		if !*trainMissing {
			return fmt.Errorf("T=%g: the chain of %d steps is incomplete in %s; give --train-missing to train the missing models (%d epochs each) into %s",
				t, *steps, modelsName(*models), *epochs, trainedDir)
		}
		fmt.Fprintf(stderr, "T=%g: training the missing models of the chain into %s (%d epochs each)\n", t, trainedDir, *epochs)
		trainSet, _, err := loadDataset(ctx, *ds, d, stderr)
		if err != nil {
			return err
		}
		cfg := train.DefaultConfig(float32(t))
		cfg.Epochs, cfg.Workers = *epochs, *workers
		if err := safefile.PrepareDir(trainedDir, ""); err != nil {
			return err
		}
		var bar *progressbar.ProgressBar
		store := fileStore{dir: trainedDir, dataset: *ds, temp: t, dtype: weights.F16}
		// The chain goes on from its given models: those present from the
		// teacher on are copied into the training folder, so the first
		// missing model is distilled from the last present one, in the
		// teacher's architecture.
		arch := mustArch(defaultArch(*ds))
		for step := 0; step <= *steps; step++ {
			e, ok := man.Find(*ds, t, step)
			if !ok {
				break
			}
			if step == 0 {
				if arch, err = nn.ArchByName(e.Arch); err != nil {
					return fmt.Errorf("%s: %w", e.File, err)
				}
			}
			if _, err := os.Stat(store.path(step)); err == nil {
				continue
			}
			b, err := fs.ReadFile(modelFS, e.File)
			if err != nil {
				return err
			}
			if err := safefile.Write(store.path(step), b); err != nil {
				return err
			}
		}
		if _, err := distill.Run(ctx, distill.Chain{Dataset: *ds, Arch: arch, Steps: *steps, Config: cfg, Train: dev.train}, trainSet, test, store, dev.modelKernels(),
			func(e distill.Event) { distillEvent(e, t, store, &bar, *quiet, stderr) }); err != nil {
			return err
		}
	}
	res := report.Results{Dataset: *ds, Preset: set.Preset, Samples: set.Samples, AttackSamples: set.AttackSamples, Attacks: names, Budget: budgetText(set), MaxIterations: set.MaxIterations,
		Pixels: test.ImageSize(), Seed: set.Seed}
	cfgs := attack.Defaults()
	if set.Preset == "quick" {
		cfgs = attack.QuickConfigs()
	}
	cfgs = cfgs.WithMaxIterations(set.MaxIterations)
	started := time.Now()
	total, done, computed := len(ts)*(*steps+1), 0, 0 // models in the run, models done, of them computed now
	for _, t := range ts {
		chain := map[int]*nn.Model{}
		infos := map[int]report.Model{}
		for step := 0; step <= *steps; step++ {
			m, info, err := load(t, step)
			if err != nil {
				return fmt.Errorf("T=%g step %d: %w", t, step, err)
			}
			chain[step], infos[step] = m, info
		}
		for step := 0; step <= *steps; step++ {
			info := infos[step]
			path := samplesPath(*out, info.File, sh)
			var sf samplesFile
			if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &sf) == nil && sameSettings(sf.Settings, set) && sf.Shard == sh {
				done++
				fmt.Fprintf(stderr, "model %d of %d: T=%g %s: cached in %s\n", done, total, t, info.Role, path)
			} else {
				others := map[int]*nn.Model{}
				for k, m := range chain {
					if k != step {
						others[k] = m.Replica()
					}
				}
				var bar *progressbar.ProgressBar
				samplesOut, err := experiment.Run(ctx, experiment.Job{Model: chain[step], Chain: others, Test: test, Samples: set.Samples, Classifier: dev.classifier,
					AttackSample: set.AttackSamples, Attacks: names, Configs: cfgs, Seed: set.Seed, Shard: sh, Workers: *workers,
					Progress: func(done, total int) {
						if *quiet {
							return
						}
						if bar == nil {
							bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
								progressbar.OptionSetDescription(fmt.Sprintf("T=%g %s attacks", t, info.Role)), progressbar.OptionClearOnFinish())
						}
						bar.Set(done)
					}})
				if err != nil {
					return err
				}
				sf = samplesFile{Settings: set, Shard: sh, Model: info, Samples: samplesOut}
				b, err := json.Marshal(sf)
				if err != nil {
					return fmt.Errorf("T=%g %s: %w", t, info.Role, err)
				}
				if err := safefile.Write(path, b); err != nil {
					return err
				}
				done++
				computed++
				elapsed := time.Since(started)
				eta := time.Duration(float64(elapsed) / float64(computed) * float64(total-done))
				fmt.Fprintf(stderr, "model %d of %d: T=%g %s: %d samples evaluated (%s elapsed, about %s to go)\n",
					done, total, t, info.Role, len(samplesOut), elapsed.Round(time.Second), eta.Round(time.Second))
			}
			info.Summary = experiment.Summarize(sf.Samples, names, set.AttackSamples)
			info.Samples = sf.Samples
			res.Models = append(res.Models, info)
		}
	}
	if sh.N > 1 {
		fmt.Fprintf(stdout, "shard %d/%d written to %s/samples; combine all shards with: tadd merge --out DIR %s ...\n", sh.I, sh.N, *out, *out)
		return nil
	}
	if err := report.Write(*out, res); err != nil {
		return err
	}
	printFindings(stdout, *out, res)
	return nil
}

// modelsName says where the models come from.
func modelsName(dir string) string {
	if dir == "" {
		return "the shipped models"
	}
	return dir
}

// positiveOr returns v, or def when v is not positive (a flag left unset).
func positiveOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func mustArch(name string) nn.Arch {
	a, err := nn.ArchByName(name)
	if err != nil {
		panic(err)
	}
	return a
}

func sameSettings(a, b settings) bool { return mustJSON(a) == mustJSON(b) }

// mustJSON is v as JSON, for comparing plain structs (which always encode;
// NaN cannot come from decoded JSON).
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func printFindings(w io.Writer, dir string, r report.Results) {
	fmt.Fprintf(w, "wrote %s (report.html, results.csv, results.json, transfer.csv, figures/)\n", dir)
	for _, m := range r.Models {
		fmt.Fprintf(w, "  T=%-3g %-9s acc %6.2f%%  near-zero grads %5.1f%%  conf %.3f", m.Temperature, m.Role, 100*m.Summary.Accuracy, 100*m.Summary.NearZero, m.Summary.Confidence)
		for _, a := range r.Attacks {
			if ar := m.Summary.Robustness[a]; ar.Attempts > 0 {
				fmt.Fprintf(w, "  %s %.3g (%.0f%% of %d)", a, ar.Mean, 100*ar.SuccessRate, ar.Attempts)
			} else {
				fmt.Fprintf(w, "  %s – (no correctly classified sample attacked)", a)
			}
		}
		fmt.Fprintln(w)
	}
	for _, f := range report.Findings(r) {
		fmt.Fprintln(w, "- "+f)
	}
}

// maxSamplesFile bounds a samples file (10,000 samples take about 2 MB).
const maxSamplesFile = 256 << 20

// readSamplesFile decodes one samples file and checks what merge relies
// on: a model name that is a plain file name and a valid shard.
func readSamplesFile(b []byte) (samplesFile, error) {
	var sf samplesFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return sf, err
	}
	if err := catalog.CheckFileName(sf.Model.File); err != nil {
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

// mergedModel is one model's samples, merged from its shards.
type mergedModel struct {
	info    report.Model
	samples []experiment.Sample
}

// mergeSamples combines samples files (each checked by readSamplesFile) of
// the same settings by model, in file name order; each model's shards must
// partition its samples exactly once.
func mergeSamples(files []samplesFile) (settings, []mergedModel, error) {
	if len(files) == 0 {
		return settings{}, nil, errors.New("no samples files")
	}
	set := files[0].Settings
	byModel := map[string][]experiment.Part{}
	info := map[string]report.Model{}
	for _, sf := range files {
		if !sameSettings(set, sf.Settings) {
			return set, nil, fmt.Errorf("%s (shard %d/%d): computed with other settings than the rest; shards merge only when they agree", sf.Model.File, sf.Shard.I, sf.Shard.N)
		}
		byModel[sf.Model.File] = append(byModel[sf.Model.File], experiment.Part{Shard: sf.Shard, Samples: sf.Samples})
		if first, ok := info[sf.Model.File]; !ok {
			info[sf.Model.File] = sf.Model
		} else if a, b := mustJSON(first), mustJSON(sf.Model); a != b {
			return set, nil, fmt.Errorf("%s: shards describe the model differently (%s, %s)", sf.Model.File, a, b)
		}
	}
	var out []mergedModel
	for _, name := range slices.Sorted(maps.Keys(byModel)) {
		all, err := experiment.Merge(set.Samples, byModel[name])
		if err != nil {
			return set, nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, mergedModel{info: info[name], samples: all})
	}
	return set, out, nil
}

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("merge", stderr)
	out := flags.String("out", "", "output folder; required")
	if err := parse(flags, args); err != nil {
		return err
	}
	if *out == "" || flags.NArg() == 0 {
		return usageError{"usage: tadd merge --out DIR SHARD_DIR..."}
	}
	var files []samplesFile
	for _, dir := range flags.Args() {
		paths, _ := filepath.Glob(filepath.Join(dir, "samples", "*.json"))
		if len(paths) == 0 {
			return fmt.Errorf("%s: no samples/*.json (not a reproduce output?)", dir)
		}
		for _, p := range paths {
			b, err := safefile.Read(p, maxSamplesFile)
			if err != nil {
				return err
			}
			sf, err := readSamplesFile(b)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			files = append(files, sf)
		}
	}
	set, merged, err := mergeSamples(files)
	if err != nil {
		return err
	}
	if err := safefile.PrepareDir(filepath.Join(*out, "samples"), ""); err != nil {
		return fmt.Errorf("--out %s: %w", *out, err)
	}
	in := mustArch(defaultArch(set.Dataset)).Input
	res := report.Results{Dataset: set.Dataset, Preset: set.Preset, Samples: set.Samples, AttackSamples: set.AttackSamples, Attacks: set.Attacks, Budget: budgetText(set), MaxIterations: set.MaxIterations,
		Pixels: in.H * in.W * in.C, Seed: set.Seed}
	whole := experiment.Shard{I: 0, N: 1}
	for _, m := range merged {
		b, err := json.Marshal(samplesFile{Settings: set, Shard: whole, Model: m.info, Samples: m.samples})
		if err != nil {
			return fmt.Errorf("%s: %w", m.info.File, err)
		}
		if err := safefile.Write(samplesPath(*out, m.info.File, whole), b); err != nil {
			return err
		}
		info := m.info
		info.Summary = experiment.Summarize(m.samples, set.Attacks, set.AttackSamples)
		info.Samples = m.samples
		res.Models = append(res.Models, info)
	}
	if err := report.Write(*out, res); err != nil {
		return err
	}
	printFindings(stdout, *out, res)
	return nil
}
