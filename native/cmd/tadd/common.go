package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/native/dataset"
)

// dataFlags are the flags every command that reads a dataset takes.
type dataFlags struct {
	dir     string
	offline bool
}

// sharedFlags are the flags of the commands that read a dataset and
// compute (train, distill, evaluate, attack, reproduce): --data,
// --offline and --device, defined here once.
type sharedFlags struct {
	data   dataFlags
	device *string
}

// addSharedFlags defines the shared flags on fs.
func addSharedFlags(fs *flag.FlagSet) *sharedFlags {
	s := &sharedFlags{}
	fs.StringVar(&s.data.dir, "data", "", "dataset directory (default $TADD_DATA, the Go module cache, then download)")
	fs.BoolVar(&s.data.offline, "offline", false, "never download datasets")
	s.device = deviceFlag(fs)
	return s
}

// openTraining opens the device and loads a dataset's training and test
// sets, the training set cut to its first limit images when limit > 0:
// what train and distill do first. The caller releases the device.
func (s *sharedFlags) openTraining(ctx context.Context, dataset string, limit int, stderr io.Writer) (*backend, *data.Set, *data.Set, error) {
	dev, err := openDevice(*s.device, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	trainSet, testSet, err := loadDataset(ctx, dataset, s.data, stderr)
	if err != nil {
		dev.release()
		return nil, nil, nil, err
	}
	if limit > 0 {
		trainSet = trainSet.Subset(limit)
	}
	return dev, trainSet, testSet, nil
}

func (d *dataFlags) source(stderr io.Writer) dataset.Source {
	dir := d.dir
	if dir == "" {
		dir = os.Getenv("TADD_DATA")
	}
	return dataset.Source{Dir: dir, Offline: d.offline, Log: func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }}
}

// loadDataset returns the training and test sets of a named dataset.
func loadDataset(ctx context.Context, name string, d dataFlags, stderr io.Writer) (*data.Set, *data.Set, error) {
	src := d.source(stderr)
	switch name {
	case "mnist":
		return src.MNIST(ctx)
	case "cifar10", "cifar":
		return src.CIFAR10(ctx)
	}
	return nil, nil, usageError{fmt.Sprintf("unknown dataset %q (want mnist or cifar10)", name)}
}

// checkData checks, before any training, that the datasets pair up and
// that their images fit arch.
func checkData(arch nn.Arch, trainSet, testSet *data.Set) error {
	if err := data.CheckPair(trainSet, testSet); err != nil {
		return err
	}
	if in := arch.Input; in.H*in.W*in.C != trainSet.ImageSize() {
		return fmt.Errorf("%s images of %d×%d×%d do not fit architecture %q (%v)", trainSet.Name, trainSet.H, trainSet.W, trainSet.C, arch.Name, in)
	}
	return nil
}

// loadTestSet returns only the test set of a named dataset.
func loadTestSet(ctx context.Context, name string, d dataFlags, stderr io.Writer) (*data.Set, error) {
	src := d.source(stderr)
	switch name {
	case "mnist":
		return src.MNISTTest(ctx)
	case "cifar10", "cifar":
		return src.CIFAR10Test(ctx)
	}
	return nil, usageError{fmt.Sprintf("unknown dataset %q (want mnist or cifar10)", name)}
}

// defaultArch is the paper's architecture for a dataset.
func defaultArch(dataset string) string {
	if dataset == "cifar10" || dataset == "cifar" {
		return "cifar"
	}
	return "mnist"
}

// counts checks int flags that count something, where 0 means the
// default: a negative value is a mistake, not "all".
func counts(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if v, ok := fs.Lookup(n).Value.(flag.Getter).Get().(int); ok && v < 0 {
			return usageError{fmt.Sprintf("--%s %d: want 0 or more", n, v)}
		}
	}
	return nil
}

// configError is err of train.Config.Validate as a usage error naming the
// flag of the field.
func configError(err error) error {
	var ce *train.ConfigError
	if !errors.As(err, &ce) {
		return usageError{err.Error()}
	}
	name := map[string]string{"Epochs": "epochs", "BatchSize": "batch", "LearningRate": "lr", "Momentum": "momentum",
		"Decay": "decay", "Temperature": "temperature", "Workers": "workers"}[ce.Field]
	if name == "" {
		return usageError{err.Error()}
	}
	return usageError{fmt.Sprintf("--%s %v: want %s", name, ce.Value, ce.Want)}
}

// workersError explains a checkpoint written with another worker count.
func workersError(path string, err error) error {
	var we *train.WorkersError
	if !errors.As(err, &we) {
		return err
	}
	return fmt.Errorf("checkpoint %s was trained on %d workers, this run has %d: the weights depend on the worker count, "+
		"so a resumed run would match neither; run with --workers %d, or remove the checkpoint to start over", path, we.Checkpoint, we.Run, we.Checkpoint)
}
