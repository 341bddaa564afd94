package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/safefile"
)

// parseTemperatures reads "1,2,5" into positive floats.
func parseTemperatures(s string) ([]float64, error) {
	var ts []float64
	for _, f := range strings.Split(s, ",") {
		t, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(t >= train.MinTemperature && t <= train.MaxTemperature) {
			return nil, fmt.Errorf("bad temperature %q in %q: want numbers in [%g, %g]", f, s, train.MinTemperature, train.MaxTemperature)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func runDistill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("distill", stderr)
	ds := fs.String("dataset", "mnist", "dataset: mnist or cifar10")
	archName := fs.String("arch", "", "architecture (default: the dataset's)")
	temps := fs.String("temperature", "20", "temperature T, or a comma-separated list (one chain each)")
	steps := fs.Int("steps", 2, "distillations after the teacher (1 = assistant, 2 = student, up to 6)")
	out := fs.String("out", "", "output folder; required")
	cfg := train.DefaultConfig(1)
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs per model")
	teacherEpochs := fs.Int("teacher-epochs", 0, "epochs of the teacher (0 = --epochs)")
	fs.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "batch size")
	fs.Float64Var(&cfg.LearningRate, "lr", cfg.LearningRate, "learning rate")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed of the teacher (step k uses seed+k)")
	fs.IntVar(&cfg.Workers, "workers", 0, "parallel workers (0 = all cores)")
	limit := fs.Int("train-samples", 0, "use only the first N training images (0 = all)")
	f32 := fs.Bool("f32", false, "store weights as F32 (default F16)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	shared := addSharedFlags(fs)
	if err := parseWithOut(fs, args, out); err != nil {
		return err
	}
	if *steps < 0 || *steps > distill.MaxSteps {
		return usageError{fmt.Sprintf("--steps %d: want 0..%d", *steps, distill.MaxSteps)}
	}
	ts, err := parseTemperatures(*temps)
	if err != nil {
		return usageError{err.Error()}
	}
	if *archName == "" {
		*archName = defaultArch(*ds)
	}
	arch, err := nn.ArchByName(*archName)
	if err != nil {
		return usageError{err.Error()}
	}
	if *teacherEpochs < 0 {
		return usageError{fmt.Sprintf("--teacher-epochs %d: want 0 or more", *teacherEpochs)}
	}
	cfg.Temperature = float32(ts[0])
	if err := cfg.Validate(); err != nil {
		return configError(err)
	}
	if err := counts(fs, "train-samples"); err != nil {
		return err
	}
	// Before any work: the folder takes files (and loses what a killed
	// run's writes left).
	if err := safefile.PrepareDir(*out, ""); err != nil {
		return fmt.Errorf("--out %s: %w", *out, err)
	}
	dev, trainSet, testSet, err := shared.openTraining(ctx, *ds, *limit, stderr)
	if err != nil {
		return err
	}
	defer dev.release()
	if err := checkData(arch, trainSet, testSet); err != nil {
		return err
	}
	dtype := weights.F16
	if *f32 {
		dtype = weights.F32
	}
	for _, t := range ts {
		c := cfg
		c.Temperature = float32(t)
		store := modelfile.ChainStore{Dir: *out, Dataset: *ds, Temperature: t, DType: dtype}
		bar := progress{w: stderr, quiet: *quiet}
		start := time.Now()
		metas, err := distill.Run(ctx, distill.Chain{Dataset: *ds, Arch: arch, Steps: *steps, Config: c, TeacherEpochs: *teacherEpochs, Train: dev.train, DType: dtype}, trainSet, testSet, store, dev.modelKernels(),
			func(e distill.Event) { distillEvent(e, t, store, &bar, stderr) })
		if err != nil {
			if errors.Is(err, context.Canceled) {
				fmt.Fprintf(stderr, "\ninterrupted: run the same command again to resume\n")
			}
			return workersError("in "+*out, err)
		}
		fmt.Fprintf(stdout, "chain T=%g (%s) in %s:\n", t, *ds, time.Since(start).Round(time.Second))
		for _, m := range metas {
			fmt.Fprintf(stdout, "  step %d %-9s test accuracy %.2f%%  %s\n", m.Step, m.Role, 100*m.TestAccuracy, store.Name(m.Step))
		}
	}
	return nil
}

func distillEvent(e distill.Event, t float64, store modelfile.ChainStore, bar *progress, stderr io.Writer) {
	switch {
	case e.Done != nil && e.Resumed:
		fmt.Fprintf(stderr, "T=%g step %d %s: already trained (%.2f%%), %s\n", t, e.Step, e.Role, 100*e.Done.TestAccuracy, store.Name(e.Step))
	case e.Done != nil:
		fmt.Fprintf(stderr, "T=%g step %d %s: test accuracy %.2f%%, saved %s\n", t, e.Step, e.Role, 100*e.Done.TestAccuracy, store.Name(e.Step))
	case e.Resumed:
		fmt.Fprintf(stderr, "T=%g step %d %s: resuming after epoch %d of %d\n", t, e.Step, e.Role, e.Progress.Epoch, e.Progress.Epochs)
	case e.Progress.Batch > 0:
		p := e.Progress
		if p.EpochDone {
			bar.finish()
			fmt.Fprintf(stderr, "T=%g %s epoch %d/%d: loss %.4f, train accuracy %.2f%%, %.0f samples/s\n", t, e.Role, p.Epoch, p.Epochs, p.Loss, 100*p.Accuracy, p.SamplesPerSec)
			return
		}
		bar.set(p.Batch, p.Batches, fmt.Sprintf("T=%g %s epoch %d/%d loss %.4f", t, e.Role, p.Epoch, p.Epochs, p.Loss))
	}
}
