package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/render"
	"github.com/tadd-project/tadd/native/modelfile"
	"github.com/tadd-project/tadd/native/safefile"
)

func runAttack(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("attack", stderr)
	model := fs.String("model", "", "model file; required")
	name := fs.String("attack", "l2", "attack: "+strings.Join(attack.Names(), ", "))
	index := fs.Int("index", 0, "index of the test image")
	target := fs.String("target", "random", "target: a class, random, least, untargeted")
	all := fs.Bool("all-targets", false, "attack every other class (overrides --target)")
	out := fs.String("png", "", "write original | adversarial | perturbation panels to this PNG")
	iters := fs.Int("max-iterations", 0, "cap each attack's iterations per constant (0 = the paper's)")
	seed := fs.Uint64("seed", 1, "seed of the random target")
	shared := addSharedFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return usageError{"--model is required"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if err := counts(fs, "max-iterations"); err != nil {
		return err
	}
	atk, err := attack.Defaults().WithMaxIterations(*iters).Attack(*name)
	if err != nil {
		return usageError{err.Error()}
	}
	dev, err := openDevice(*shared.device, stderr)
	if err != nil {
		return err
	}
	defer dev.release()
	m, meta, err := modelfile.Load(*model, dev.modelKernels())
	if err != nil {
		return err
	}
	_, test, err := loadDataset(ctx, meta.Dataset, shared.data, stderr)
	if err != nil {
		return err
	}
	if *index < 0 || *index >= test.Len() {
		return usageError{fmt.Sprintf("--index %d outside the test set (0..%d)", *index, test.Len()-1)}
	}
	if test.ImageSize() != m.InputSize() {
		return fmt.Errorf("%s: %s images do not fit architecture %q", *model, meta.Dataset, meta.Arch)
	}
	clf, closeClf := dev.classifier(m, 0)
	defer closeClf()
	x := test.Image(*index)
	label := int(test.Labels[*index])
	z := make([]float32, clf.Classes())
	clf.Logits(z, x, 1)
	mode := *target
	if *all {
		mode = "all"
	}
	goals, err := attack.Goals(mode, label, clf.Classes(), z, *seed, *index)
	if err != nil {
		return usageError{err.Error()}
	}
	h, w, c := clf.InputShape()
	fmt.Fprintf(stdout, "%s (%s, T=%g), test image %d: label %d, predicted %d\n", *model, meta.Role, meta.Temperature, *index, label, nn.Argmax(z))
	var rows []*image.RGBA
	for _, g := range goals {
		start := time.Now()
		r, err := attack.RunOne(ctx, atk, clf, x, g, nil)
		if err != nil {
			return err
		}
		tgt := "untargeted"
		if g.Targeted() {
			tgt = "target " + strconv.Itoa(g.Target)
		}
		status := "success"
		if !r.Success {
			status = "FAILED"
		}
		fmt.Fprintf(stdout, "%-5s %-11s %-7s predicted %d  L0 %3d px  L2 %.4f  L∞ %.4f  (%d iterations, %.1fs)\n",
			*name, tgt, status, r.Predicted, r.L0, r.L2, r.LInf, r.Iterations, time.Since(start).Seconds())
		rows = append(rows, render.Row(4, render.Image(x, h, w, c, 8), render.Image(r.Adversarial, h, w, c, 8),
			render.Perturbation(r.Adversarial, x, h, w, c, 8, 0)))
	}
	if *out != "" {
		var b bytes.Buffer
		if err := png.Encode(&b, render.Column(4, rows...)); err != nil {
			return err
		}
		if err := safefile.Write(*out, b.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (original | adversarial | perturbation, one row per goal)\n", *out)
	}
	return nil
}
