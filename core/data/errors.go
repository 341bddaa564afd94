package data

import "fmt"

// FormatError reports a dataset file that is not what it claims to be.
type FormatError struct {
	File   string // what was being read, e.g. "MNIST images"
	Reason string
}

func (e *FormatError) Error() string { return fmt.Sprintf("%s: %s", e.File, e.Reason) }

func formatErr(file, format string, args ...any) error {
	return &FormatError{File: file, Reason: fmt.Sprintf(format, args...)}
}
