package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/distill"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/safefile"
)

// fileStore keeps a chain's models in a folder, named by catalog.ModelName,
// with checkpoints beside them and the manifest updated after each model.
type fileStore struct {
	dir     string
	dataset string
	temp    float64
	dtype   weights.DType
}

func (s fileStore) path(step int) string {
	return filepath.Join(s.dir, catalog.ModelName(s.dataset, s.temp, step))
}

func (s fileStore) Name(step int) string { return filepath.Base(s.path(step)) }

// Model loads a finished model, and lists it in the manifest if it is not
// yet (a model trained elsewhere and copied into the folder).
func (s fileStore) Model(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, error) {
	m, meta, err := modelfile.Load(s.path(step), kern)
	if errors.Is(err, os.ErrNotExist) {
		return nil, meta, distill.ErrMissing
	}
	if err != nil {
		return nil, meta, err
	}
	man, err := modelfile.ReadManifest(s.dir)
	if err != nil {
		return nil, meta, err
	}
	if _, ok := man.Lookup(s.Name(step)); !ok {
		if err := s.record(man, step, meta); err != nil {
			return nil, meta, err
		}
	}
	return m, meta, nil
}

func (s fileStore) SaveModel(step int, m *nn.Model, meta weights.Metadata) error {
	if err := s.slot(step).SaveModel(m, meta); err != nil {
		return err
	}
	man, err := modelfile.ReadManifest(s.dir)
	if err != nil {
		return err
	}
	return s.record(man, step, meta)
}

// record adds step's file to the manifest and writes it.
func (s fileStore) record(man *catalog.Manifest, step int, meta weights.Metadata) error {
	b, err := os.ReadFile(s.path(step))
	if err != nil {
		return err
	}
	man.Put(catalog.EntryFor(s.Name(step), meta.Identity, b))
	return modelfile.WriteManifest(s.dir, man)
}

func (s fileStore) slot(step int) fileSlot { return fileSlot{path: s.path(step), dtype: s.dtype} }

func (s fileStore) Checkpoint(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error) {
	return s.slot(step).Checkpoint(kern)
}

func (s fileStore) SaveCheckpoint(step int, m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error {
	return s.slot(step).SaveCheckpoint(m, meta, c)
}

func (s fileStore) RemoveCheckpoint(step int) error { return s.slot(step).RemoveCheckpoint() }

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
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
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
		store := fileStore{dir: *out, dataset: *ds, temp: t, dtype: dtype}
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

func distillEvent(e distill.Event, t float64, store fileStore, bar *progress, stderr io.Writer) {
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
