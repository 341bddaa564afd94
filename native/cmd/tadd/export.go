package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/tadd-project/tadd/core/onnx"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/safefile"
)

func runExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	out := fs.String("onnx", "", "write the model's inference graph to this ONNX file (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tadd export --onnx OUT.onnx MODEL.safetensors")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--onnx is required"}
	}
	if fs.NArg() != 1 {
		return usageError{"want exactly one model file"}
	}
	if err := safefile.Prepare(*out); err != nil {
		return fmt.Errorf("--onnx %s: %w", *out, err)
	}
	m, meta, err := modelfile.Load(fs.Arg(0), nil)
	if err != nil {
		return err
	}
	props := map[string]string{"dataset": meta.Dataset, "arch": meta.Arch, "role": meta.Role, "parent": meta.Parent,
		"temperature": fmt.Sprint(meta.Temperature), "step": fmt.Sprint(meta.Step), "test_accuracy": fmt.Sprint(meta.TestAccuracy),
		"source": fs.Arg(0)}
	var b bytes.Buffer
	if err := onnx.Export(&b, m, "1", props); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if err := safefile.Write(*out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): input %q float32 N×%d×%d×%d in [0, 1], output %q N×%d logits\n",
		*out, b.Len(), onnx.InputName, m.Arch.Input.C, m.Arch.Input.H, m.Arch.Input.W, onnx.OutputName, m.Classes())
	return nil
}
