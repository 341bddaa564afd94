package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/safefile"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", stderr)
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
	shared := addSharedFlags(fs)
	if err := parseWithOut(fs, args, out); err != nil {
		return err
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
	dev, trainSet, testSet, err := shared.openTraining(ctx, *ds, *limit, stderr)
	if err != nil {
		return err
	}
	defer dev.release()
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
		targets = distill.SoftLabels(tm, trainSet, cfg.Temperature, cfg.Workers)
		meta.Step = tmeta.Step + 1
		meta.Role = catalog.Role(meta.Step)
		meta.Parent = *teacher
	}
	bar := progress{w: stderr, quiet: *quiet}
	var last train.Progress
	slot := modelfile.Slot{Path: *out, DType: dtype}
	_, meta, err = distill.TrainModel(ctx, distill.Model{Arch: arch, Config: cfg, Meta: meta, Train: trainSet, Targets: targets, Test: testSet, DType: dtype, Run: dev.train},
		slot, dev.modelKernels(), func(e distill.Event) {
			p := e.Progress
			switch {
			case e.Resumed:
				fmt.Fprintf(stderr, "resuming %s from its checkpoint after epoch %d of %d\n", *out, p.Epoch, p.Epochs)
				if e.Note != "" {
					fmt.Fprintf(stderr, "warning: %s.ckpt: %s\n", *out, e.Note)
				}
			case p.EpochDone:
				last = p
				bar.finish()
				fmt.Fprintf(stderr, "%s epoch %d/%d: loss %.4f, train accuracy %.2f%%, %.0f samples/s\n", meta.Role, p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, p.SamplesPerSec)
			case p.Batch > 0:
				last = p
				bar.set(p.Batch, p.Batches, fmt.Sprintf("%s epoch %d/%d loss %.4f acc %.2f%% %.0f/s", meta.Role, p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, p.SamplesPerSec))
			}
		})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "\ninterrupted: run the same command again to resume from %s.ckpt\n", *out)
		}
		return workersError(*out+".ckpt", err)
	}
	fmt.Fprintf(stdout, "%s: %s %s T=%g, %d epochs, test accuracy %.2f%% (%.0f samples/s)\n",
		*out, meta.Dataset, meta.Role, meta.Temperature, meta.Epochs, 100*meta.TestAccuracy, last.SamplesPerSec)
	return nil
}
