package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/native/dataset"
)

// dataFlags are the flags every command that reads a dataset takes.
type dataFlags struct {
	dir     string
	offline bool
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
