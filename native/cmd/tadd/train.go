package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/safefile"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", stderr)
	var d dataFlags
	ds := fs.String("dataset", "mnist", "dataset: mnist or cifar10")
	archName := fs.String("arch", "", "architecture: mnist, cifar or tiny (default: the dataset's)")
	temp := fs.Float64("temperature", 1, "softmax temperature T of training")
	cfg := train.DefaultConfig(1)
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs")
	fs.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "batch size")
	fs.Float64Var(&cfg.LearningRate, "lr", cfg.LearningRate, "learning rate")
	fs.Float64Var(&cfg.Momentum, "momentum", cfg.Momentum, "momentum")
	fs.Float64Var(&cfg.Decay, "decay", cfg.Decay, "learning-rate decay per update")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (initialisation, shuffling, dropout)")
	fs.IntVar(&cfg.Workers, "workers", 0, "parallel workers (0 = all cores)")
	out := fs.String("out", "", "output model file (.safetensors); required")
	teacher := fs.String("teacher", "", "distill: train on this model's soft labels at --temperature")
	limit := fs.Int("train-samples", 0, "use only the first N training images (0 = all)")
	testLimit := fs.Int("test-samples", 0, "measure the final accuracy on the first N test images (0 = all)")
	f16 := fs.Bool("f16", false, "store the weights as F16")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.StringVar(&d.dir, "data", "", "dataset directory (default $TADD_DATA, the Go module cache, then download)")
	fs.BoolVar(&d.offline, "offline", false, "never download datasets")
	device := deviceFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if *archName == "" {
		*archName = defaultArch(*ds)
	}
	cfg.Temperature = float32(*temp)
	if err := cfg.Validate(); err != nil {
		return configError(err)
	}
	if err := counts(fs, "train-samples", "test-samples"); err != nil {
		return err
	}
	arch, err := nn.ArchByName(*archName)
	if err != nil {
		return usageError{err.Error()}
	}
	// Before any work: the model and its checkpoint can be written there
	// (this also removes what a killed run's writes left).
	for _, p := range []string{*out, *out + ".ckpt"} {
		if err := safefile.Prepare(p); err != nil {
			return err
		}
	}
	dev, err := openDevice(*device, stderr)
	if err != nil {
		return err
	}
	defer dev.release()
	trainSet, testSet, err := loadDataset(ctx, *ds, d, stderr)
	if err != nil {
		return err
	}
	if *limit > 0 {
		trainSet = trainSet.Subset(*limit)
	}
	if *testLimit > 0 {
		testSet = testSet.Subset(*testLimit)
	}
	if err := checkData(arch, trainSet, testSet); err != nil {
		return err
	}
	dtype := weights.F32
	if *f16 {
		dtype = weights.F16
	}
	meta := weights.Metadata{Identity: catalog.Identity{Dataset: *ds, Arch: arch.Name, Temperature: *temp, Role: catalog.Role(0),
		Seed: cfg.Seed, TestAccuracy: -1}}
	var targets []float32
	if *teacher != "" {
		tm, tmeta, err := modelfile.Load(*teacher, dev.modelKernels())
		if err != nil {
			return err
		}
		if tm.InputSize() != trainSet.ImageSize() {
			return fmt.Errorf("teacher %s (%s) does not take %s images", *teacher, tmeta.Arch, *ds)
		}
		targets = nn.NewWorkers(tm, cfg.Workers).Probabilities(trainSet.Images, trainSet.Len(), cfg.Temperature)
		meta.Step = tmeta.Step + 1
		meta.Role = catalog.Role(meta.Step)
		meta.Parent = *teacher
	}
	res, err := trainModel(ctx, trainJob{arch: arch, cfg: cfg, set: trainSet, test: testSet, targets: targets,
		meta: meta, out: *out, dtype: dtype, quiet: *quiet, kern: dev.modelKernels(), run: dev.train}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s %s T=%g, %d epochs, test accuracy %.2f%% (%.0f samples/s)\n",
		*out, res.meta.Dataset, res.meta.Role, res.meta.Temperature, res.meta.Epochs, 100*res.meta.TestAccuracy, res.samplesPerSec)
	return nil
}

type trainJob struct {
	arch    nn.Arch
	cfg     train.Config
	set     *data.Set
	test    *data.Set
	targets []float32
	meta    weights.Metadata
	out     string
	dtype   weights.DType
	quiet   bool
	kern    kernel.Kernels // nil: the CPU's
	// run trains (train.Run when nil).
	run func(context.Context, train.Job, *train.State) (*train.State, error)
}

type trainResult struct {
	meta          weights.Metadata
	samplesPerSec float64
}

// trainModel trains one model with resumable checkpoints next to out
// (out + ".ckpt"), writes out and removes the checkpoint.
func trainModel(ctx context.Context, j trainJob, stderr io.Writer) (trainResult, error) {
	cfgJSON, _ := json.Marshal(j.cfg)
	j.meta.Config = string(cfgJSON)
	ckptPath := j.out + ".ckpt"
	kern := j.kern
	if kern == nil {
		kern = kernel.Default()
	}
	m, err := nn.New(j.arch, kern)
	if err != nil {
		return trainResult{}, err
	}
	var state *train.State
	if cm, cmeta, ck, err := modelfile.LoadCheckpoint(ckptPath, nil); err == nil {
		if cmeta.Config != j.meta.Config || cmeta.Dataset != j.meta.Dataset || cmeta.Parent != j.meta.Parent || cmeta.Arch != j.arch.Name {
			return trainResult{}, fmt.Errorf("checkpoint %s belongs to another run (config %s); remove it to start over", ckptPath, cmeta.Config)
		}
		copy(m.Params, cm.Params)
		state = &train.State{Epoch: ck.Epoch, Iterations: ck.Iterations, Velocity: ck.Velocity, Workers: ck.Workers}
		fmt.Fprintf(stderr, "resuming %s from its checkpoint after epoch %d of %d\n", j.out, ck.Epoch, j.cfg.Epochs)
		if ck.Workers == 0 {
			fmt.Fprintf(stderr, "warning: %s does not record its worker count; the result is bit-identical to an uninterrupted run only with the same --workers\n", ckptPath)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return trainResult{}, fmt.Errorf("%w (remove it to start over)", err)
	} else {
		m.Init(j.cfg.Seed)
	}
	var bar *progressbar.ProgressBar
	var last train.Progress
	job := train.Job{Model: m, Train: j.set, Targets: j.targets, Config: j.cfg,
		Progress: func(p train.Progress) {
			last = p
			if p.EpochDone {
				if bar != nil {
					bar.Finish()
				}
				fmt.Fprintf(stderr, "%s epoch %d/%d: loss %.4f, train accuracy %.2f%%, %.0f samples/s\n", j.meta.Role, p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, p.SamplesPerSec)
				return
			}
			if j.quiet {
				return
			}
			if bar == nil || p.Batch == 1 {
				bar = progressbar.NewOptions(p.Batches, progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription(fmt.Sprintf("%s epoch %d/%d", j.meta.Role, p.Epoch, p.Epochs)),
					progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			bar.Describe(fmt.Sprintf("%s epoch %d/%d loss %.4f acc %.2f%% %.0f/s", j.meta.Role, p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, p.SamplesPerSec))
			bar.Set(p.Batch)
		},
		Checkpoint: func(s *train.State) error {
			meta := j.meta
			return modelfile.SaveCheckpoint(ckptPath, m, meta, weights.Checkpoint{Epoch: s.Epoch, Iterations: s.Iterations, Velocity: s.Velocity, Workers: s.Workers})
		},
	}
	run := j.run
	if run == nil {
		run = train.Run
	}
	if _, err := run(ctx, job, state); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "\ninterrupted: run the same command again to resume from %s\n", ckptPath)
		}
		return trainResult{}, workersError(ckptPath, err)
	}
	meta := j.meta
	meta.Epochs = j.cfg.Epochs
	meta.TestAccuracy = train.Accuracy(nn.NewWorkers(m, j.cfg.Workers), j.test)
	if err := modelfile.Save(j.out, m, meta, j.dtype); err != nil {
		return trainResult{}, err
	}
	if err := os.Remove(ckptPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return trainResult{}, err
	}
	return trainResult{meta: meta, samplesPerSec: last.SamplesPerSec}, nil
}
