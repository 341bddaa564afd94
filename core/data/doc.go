// Package data reads the paper's datasets from their published binary
// formats, MNIST (IDX files, gzip or not) and CIFAR-10 (binary batches), into
// float32 images scaled to [0, 1] in NHWC order, and turns a free-hand
// drawing into an MNIST-style 28×28 digit.
//
// Readers take an io.Reader and validate everything they read: a wrong
// magic number, an impossible size, a truncated file or a label out of range
// gives a *FormatError that says which, never a panic. Finding files on disk
// and downloading them is left to the native shell.
package data
