package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/report"
	"github.com/tadd-project/tadd/native/safefile"
	"github.com/tadd-project/tadd/pretrained"
)

func runReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("reproduce", stderr)
	ds := flags.String("dataset", "mnist", "dataset: mnist or cifar10")
	quick := flags.Bool("quick", false, "a fast look, not a result: attacks on 5 images per model with the quick budgets (the web demo's)")
	standard := flags.Bool("standard", false, "the powered run: attacks on the first 208 test images of each model with L2 and L∞ and the first 104 with L0 (at least 200 and 100 correctly classified), with the standard budgets (about 6.3 hours for the 49 shipped models on 2 quiet AVX-512 cores, 10.6 on AVX2-only ones), resumable by model and sample")
	samples := flags.Int("samples", 0, "test images for accuracy, sensitivity, confidence (default 10000: the whole test set)")
	attackSamples := flags.String("attack-samples", "", "of those, how many are attacked: N for every attack, or per attack as l0=100,l2=200 (default: quick 5; standard l2 208, linf 208, l0 104; full all)")
	minEpochs := flags.Int("min-epochs", 0, "evaluate only the models trained for at least N epochs (as the manifest records); the others are named and left out (0: all)")
	budget := flags.Bool("budget", false, "check the preset's budget first: attack --budget-images images of the T=1 teacher, T=40 teacher and T=40 student with it and with the paper's parameters, and compare the distances")
	budgetImages := flags.Int("budget-images", 20, "images per model of the budget check")
	resumeFrom := flags.String("resume-from", "", "a results folder (e.g. shipped results) whose per-model samples files of the same settings are reused")
	temps := flags.String("temperatures", "1,2,5,10,20,30,40", "temperatures")
	steps := flags.Int("steps", 6, "distillation steps after the teacher")
	attacks := flags.String("attacks", "l0,l2,linf", "attacks")
	out := flags.String("out", "", "output folder (default reproduce-DATASET)")
	models := flags.String("models", "", "model folder with manifest.json (default: the shipped MNIST models)")
	transfer := flags.Bool("transfer", false, "run the L2 attacks of cached models again where their transfer rates to some model of the chain are missing (a model retrained since): the L2 distances stay, the rates are measured")
	cached := flags.Bool("cached", false, "compute no attack: write the results, report and summary over the models whose samples files of these settings are finished (in --out or --resume-from), naming the others not evaluated; for a run interrupted before its last model, whose partial file stays for the run that resumes it")
	trainMissing := flags.Bool("train-missing", false, "train the models the chains lack (from the last one given, --epochs each) into OUT/models")
	epochs := flags.Int("epochs", 10, "epochs for models trained with --train-missing")
	iters := flags.Int("max-iterations", 0, "cap attack iterations per constant (default: none)")
	shardFlag := flags.String("shard", "", "evaluate only the slice i/n of the samples (merge shards with tadd merge)")
	seed := flags.Uint64("seed", 1, "seed of the attacks' random targets")
	workers := flags.Int("workers", 0, "parallel workers (0 = all cores)")
	quiet := flags.Bool("quiet", false, "no progress bars")
	shared := addSharedFlags(flags)
	if err := parse(flags, args); err != nil {
		return err
	}
	if err := counts(flags, "samples", "max-iterations", "workers", "min-epochs"); err != nil {
		return err
	}
	if *trainMissing && *epochs < 1 {
		return usageError{fmt.Sprintf("--epochs %d: want at least 1", *epochs)}
	}
	if *trainMissing && *epochs < *minEpochs {
		return usageError{fmt.Sprintf("--epochs %d < --min-epochs %d: the models --train-missing trains would not be evaluated", *epochs, *minEpochs)}
	}
	attacked, err := parseAttackCounts(*attackSamples)
	if err != nil {
		return usageError{err.Error()}
	}
	sh, err := eval.ParseShard(*shardFlag)
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
	names, err := parseAttacks(*attacks)
	if err != nil {
		return err
	}
	preset := reproduce.Full
	switch {
	case *quick && *standard:
		return usageError{"--quick and --standard: choose one preset"}
	case *quick:
		preset = reproduce.Quick
	case *standard:
		preset = reproduce.Standard
	}
	if *budget && (*budgetImages < 1) {
		return usageError{fmt.Sprintf("--budget-images %d: want at least 1", *budgetImages)}
	}
	if *cached && (*budget || *transfer || *trainMissing) {
		return usageError{"--cached computes no attack: not with --budget (the folder's budget check is kept), --transfer or --train-missing"}
	}
	if *budget && sh.N > 1 {
		return usageError{"--budget runs unsharded: run it without --shard"}
	}
	set := reproduce.Settings{Dataset: *ds, Preset: preset, Attacks: names, MaxIterations: *iters, Seed: *seed, Steps: *steps}
	set.Samples = positiveOr(*samples, reproduce.MeasuredSamples)
	perAttack, err := attacked.of(preset, names)
	if err != nil {
		return usageError{err.Error()}
	}
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
	var shipped fs.FS
	if *resumeFrom != "" {
		if st, err := os.Stat(*resumeFrom); err != nil || !st.IsDir() {
			return fmt.Errorf("--resume-from %s: not a folder (%v)", *resumeFrom, err)
		}
		shipped = os.DirFS(*resumeFrom)
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
	// The folders the run writes into take files, and lose what a killed
	// run's writes left.
	for _, d := range []string{reproduce.SamplesDir, reproduce.PartialDir} {
		if err := safefile.PrepareDir(filepath.Join(*out, d), ""); err != nil {
			return fmt.Errorf("--out %s: %w", *out, err)
		}
	}
	test, err := loadTestSet(ctx, *ds, shared.data, stderr)
	if err != nil {
		return err
	}
	// The settings say how many samples there are, so that merging shards
	// can check that every one of them is there once.
	set.Samples = min(set.Samples, test.Len())
	for a, n := range perAttack {
		perAttack[a] = min(n, set.Samples)
	}
	set = set.WithAttacked(perAttack)
	dev, err := openDevice(*shared.device, stderr)
	if err != nil {
		return err
	}
	defer dev.release()
	store := modelfile.Chains{Given: modelFS, Manifest: man, Trained: filepath.Join(*out, "models"), Dataset: *ds, Arch: defaultArch(*ds), Kernels: dev.modelKernels()}
	bar := progress{w: stderr, quiet: *quiet}
	plan := reproduce.Plan{Settings: set, Shipped: shipped, ShippedName: *resumeFrom, Chunk: resumeChunk, Temperatures: ts, Shard: sh, Models: store, ModelsName: modelsName(*models),
		Test: test, Workers: *workers, MinEpochs: *minEpochs, MeasureTransfer: *transfer, CachedOnly: *cached, Cache: os.DirFS(*out), CacheName: *out, Write: func(path string, b []byte) error {
			return safefile.Write(filepath.Join(*out, filepath.FromSlash(path)), b)
		},
		Remove: func(path string) error {
			if err := os.Remove(filepath.Join(*out, filepath.FromSlash(path))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return nil
		},
		TrainMissing: *trainMissing, TrainInto: store.Trained, Epochs: *epochs, Train: dev.train, Kernels: dev.modelKernels(), Classifier: dev.classifier,
		Machine: dev.machine(*workers),
		TrainSet: func() (*data.Set, error) {
			trainSet, _, err := loadDataset(ctx, *ds, shared.data, stderr)
			return trainSet, err
		},
		Log: func(line string) {
			bar.finish()
			fmt.Fprintln(stderr, line)
		},
		Attack: func(t float64, role string, p eval.Progress) {
			bar.set(p.Done, p.Total, fmt.Sprintf("T=%g %s %s attacks", t, role, p.Attack))
		},
		Distill: func(t float64, e distill.Event) { distillEvent(e, t, store.Store(t), &bar, stderr) },
	}
	var check *reproduce.BudgetCheck
	if *budget {
		c, err := reproduce.CheckBudget(ctx, plan, *budgetImages, reproduce.BudgetModels())
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, c.Text())
		if err := saveBudgetCheck(*out, c); err != nil {
			return err
		}
		check = &c
	} else if check, err = keptBudgetCheck([]string{*out}, set); err != nil {
		return err
	} else if check != nil {
		if changed := check.Changed(plan); len(changed) > 0 {
			fmt.Fprintf(stderr, "%s ignored: it was made on other versions of %s than the chains hold now; run with --budget to check again\n", reproduce.BudgetFile, strings.Join(changed, ", "))
			check = nil
		}
	}
	evaluated, err := reproduce.Run(ctx, plan)
	if err != nil {
		return err
	}
	leftOut, err := plan.LeftOut()
	if err != nil {
		return err
	}
	var notEvaluated []string
	for _, l := range leftOut {
		fmt.Fprintln(stdout, l)
		notEvaluated = append(notEvaluated, l.String())
	}
	if err := saveLeftOut(*out, notEvaluated); err != nil {
		return err
	}
	if sh.N > 1 {
		fmt.Fprintf(stdout, "shard %d/%d written to %s/samples; combine all shards with: tadd merge --out DIR %s ...\n", sh.I, sh.N, *out, *out)
		return nil
	}
	res := results(set, test.ImageSize(), evaluated)
	res.NotEvaluated = notEvaluated
	if check != nil {
		res.SetBudgetCheck(*check)
	}
	if err := report.Write(*out, res); err != nil {
		return err
	}
	printFindings(stdout, *out, res)
	return nil
}

// resumeChunk is how many attacked samples of a model are computed between
// writes of its partial file: an interrupted run resumes at the model's
// first unfinished chunk of that many.
const resumeChunk = 50

// results are a reproduction's models as the report takes them.
func results(set reproduce.Settings, pixels int, models []reproduce.Evaluated) report.Results {
	res := report.Results{Dataset: set.Dataset, Preset: set.Preset, Samples: set.Samples, AttackSamples: set.AttackSamples, AttackCounts: set.AttackCounts, Attacks: set.Attacks,
		Budget: reproduce.BudgetText(set), MaxIterations: set.MaxIterations, Pixels: pixels, Seed: set.Seed}
	for _, m := range models {
		res.Models = append(res.Models, report.Model{Entry: m.Model, Summary: m.Summary, Samples: m.Samples, Compute: m.Compute})
	}
	return res
}

// modelsName says where the models come from.
func modelsName(dir string) string {
	if dir == "" {
		return "the shipped models"
	}
	return dir
}

// positiveOr is v when it is positive, else def.
func positiveOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
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

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("merge", stderr)
	out := flags.String("out", "", "output folder; required")
	if err := parse(flags, args); err != nil {
		return err
	}
	if *out == "" || flags.NArg() == 0 {
		return usageError{"usage: tadd merge --out DIR SHARD_DIR..."}
	}
	var files []reproduce.SamplesFile
	for _, dir := range flags.Args() {
		paths, _ := filepath.Glob(filepath.Join(dir, reproduce.SamplesDir, "*.json"))
		if len(paths) == 0 {
			return fmt.Errorf("%s: no samples/*.json (not a reproduce output?)", dir)
		}
		for _, p := range paths {
			b, err := safefile.Read(p, reproduce.MaxSamplesFile)
			if err != nil {
				return err
			}
			sf, err := reproduce.ParseSamplesFile(b)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			files = append(files, sf)
		}
	}
	set, merged, err := reproduce.Merge(files)
	if err != nil {
		return err
	}
	if err := safefile.PrepareDir(filepath.Join(*out, reproduce.SamplesDir), ""); err != nil {
		return fmt.Errorf("--out %s: %w", *out, err)
	}
	arch, err := nn.ArchByName(defaultArch(set.Dataset))
	if err != nil {
		return err
	}
	whole := eval.Shard{I: 0, N: 1}
	for _, m := range merged {
		b, err := json.Marshal(reproduce.SamplesFile{Settings: set, Shard: whole, Model: m.Model, Samples: m.Samples, Compute: m.Compute, TransferModels: m.TransferModels})
		if err != nil {
			return fmt.Errorf("%s: %w", m.Model.File, err)
		}
		if err := safefile.Write(filepath.Join(*out, filepath.FromSlash(reproduce.SamplesPath(m.Model.File, whole))), b); err != nil {
			return err
		}
	}
	// The shards' budget check (made unsharded, in one of them) stays
	// with the merged results.
	check, err := keptBudgetCheck(flags.Args(), set)
	if err != nil {
		return err
	}
	// So do the models the shards' runs left out.
	notEvaluated, err := keptLeftOut(flags.Args())
	if err != nil {
		return err
	}
	if err := saveLeftOut(*out, notEvaluated); err != nil {
		return err
	}
	in := arch.Input
	res := results(set, in.H*in.W*in.C, merged)
	res.NotEvaluated = notEvaluated
	if check != nil {
		if err := saveBudgetCheck(*out, *check); err != nil {
			return err
		}
		res.SetBudgetCheck(*check)
	}
	if err := report.Write(*out, res); err != nil {
		return err
	}
	printFindings(stdout, *out, res)
	return nil
}
