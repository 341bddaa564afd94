package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/native/modelfile"
)

// evaluation is what `tadd evaluate --json` prints.
type evaluation struct {
	Model       string                `json:"model"`
	Dataset     string                `json:"dataset"`
	Role        string                `json:"role"`
	Temperature float64               `json:"temperature"`
	Samples     int                   `json:"samples"`
	Accuracy    float64               `json:"accuracy"`
	Sensitivity sensitivityJSON       `json:"sensitivity"`
	Confidence  float64               `json:"confidence"`
	Robustness  map[string]robustJSON `json:"robustness,omitempty"`
}

// checkFinite reports a measurement that is NaN or infinite (a model whose
// outputs overflow on some image), naming it.
func (ev evaluation) checkFinite() error {
	type field struct {
		name string
		v    float64
	}
	fields := []field{{"accuracy", ev.Accuracy}, {"sensitivity (mean gradient amplitude)", ev.Sensitivity.MeanAmplitude},
		{"near-zero gradient fraction", ev.Sensitivity.NearZero}, {"confidence", ev.Confidence}}
	for _, name := range slices.Sorted(maps.Keys(ev.Robustness)) {
		r := ev.Robustness[name]
		fields = append(fields, field{name + " mean distance", r.MeanDistance}, field{name + " max distance", r.MaxDistance},
			field{name + " success rate", r.SuccessRate})
	}
	for _, f := range fields {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s is %v: the model's outputs are not finite on some test images (its weights overflow float32)", f.name, f.v)
		}
	}
	return nil
}

type sensitivityJSON struct {
	MeanAmplitude float64 `json:"mean_amplitude"`
	NearZero      float64 `json:"near_zero_fraction"`
}

type robustJSON struct {
	Samples      int     `json:"attempts"`
	SuccessRate  float64 `json:"success_rate"`
	MeanDistance float64 `json:"mean_distance"`
	MaxDistance  float64 `json:"max_distance"`
	Target       string  `json:"target"`
}

func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("evaluate", stderr)
	samples := fs.Int("samples", 0, "use the first N test images (0 = all for accuracy, sensitivity, confidence; 100 for attacks)")
	attackSamples := fs.Int("attack-samples", 0, "images attacked for robustness (0 = min(--samples, 100))")
	attacks := fs.String("attacks", "", "comma-separated attacks for robustness: l0,l2,linf (default none)")
	target := fs.String("target", "random", "attack goal: random, least, all, untargeted")
	iters := fs.Int("max-iterations", 0, "cap each attack's iterations per constant (0 = the paper's)")
	seed := fs.Uint64("seed", 1, "seed of the random targets (the same rule and default as reproduce)")
	workers := fs.Int("workers", 0, "parallel workers (0 = all cores)")
	asJSON := fs.Bool("json", false, "print JSON")
	quiet := fs.Bool("quiet", false, "no progress bar")
	shared := addSharedFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"want exactly one model file"}
	}
	if err := counts(fs, "samples", "attack-samples", "max-iterations", "workers"); err != nil {
		return err
	}
	names, err := parseAttacks(*attacks)
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	dev, err := openDevice(*shared.device, stderr)
	if err != nil {
		return err
	}
	defer dev.release()
	m, meta, err := modelfile.Load(path, dev.modelKernels())
	if err != nil {
		return err
	}
	_, test, err := loadDataset(ctx, meta.Dataset, shared.data, stderr)
	if err != nil {
		return err
	}
	if test.ImageSize() != m.InputSize() {
		return fmt.Errorf("%s: %s images do not fit architecture %q", path, meta.Dataset, meta.Arch)
	}
	if err := attack.CheckGoalMode(*target, m.Classes()); err != nil {
		return usageError{"--" + err.Error()}
	}
	test = test.Subset(*samples)
	n := *attackSamples
	if n == 0 {
		n = min(test.Len(), 100)
	}
	// One model, one shard: the code the reproduction runs for each model.
	bar := progress{w: stderr, quiet: *quiet}
	res, err := eval.Run(ctx, eval.Job{Model: m, Test: test, Samples: test.Len(), Attacked: eval.Counts{All: n}, Attacks: names,
		Configs: attack.Defaults().WithMaxIterations(*iters), Goal: *target, Seed: *seed, Shard: eval.Shard{I: 0, N: 1},
		Workers: *workers, Classifier: dev.classifier,
		Progress: func(p eval.Progress) {
			bar.set(p.Done, p.Total, p.Attack+" attacks")
			if p.Done == p.Total {
				bar.finish()
				if !*quiet {
					fmt.Fprintf(stderr, "%s: %d attacks in %.1fs (%.2fs per attack)\n", p.Attack, p.Total, p.Elapsed.Seconds(), p.Elapsed.Seconds()/float64(p.Total))
				}
			}
		}})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sum := eval.Summarize(res, names, eval.Counts{All: n})
	ev := evaluation{Model: path, Dataset: meta.Dataset, Role: meta.Role, Temperature: meta.Temperature, Samples: sum.Samples,
		Accuracy: sum.Accuracy, Sensitivity: sensitivityJSON{sum.MeanAmplitude, sum.NearZero}, Confidence: sum.Confidence}
	if len(names) > 0 {
		ev.Robustness = map[string]robustJSON{}
		for _, name := range names {
			r := sum.Robustness[name]
			ev.Robustness[name] = robustJSON{r.Attempts, r.SuccessRate, r.Mean, r.Max, *target}
		}
	}
	if err := ev.checkFinite(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ev)
	}
	fmt.Fprintf(stdout, "%s: %s %s T=%g, %d test images\n", path, meta.Dataset, meta.Role, meta.Temperature, ev.Samples)
	fmt.Fprintf(stdout, "  accuracy     %.2f%%\n", 100*ev.Accuracy)
	fmt.Fprintf(stdout, "  sensitivity  mean gradient amplitude %.3g, near-zero (<1e-10) %.1f%%\n", sum.MeanAmplitude, 100*sum.NearZero)
	fmt.Fprintf(stdout, "  confidence   %.4f\n", ev.Confidence)
	for _, name := range names {
		r := ev.Robustness[name]
		fmt.Fprintf(stdout, "  robustness   %-4s mean %.4f  max %.4f  success %.1f%% of %d (%s targets)\n", name, r.MeanDistance, r.MaxDistance, 100*r.SuccessRate, r.Samples, *target)
	}
	return nil
}

// parseAttacks reads a comma-separated list of attack names ("" is none).
func parseAttacks(list string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if err := attack.CheckName(n); err != nil {
			return nil, usageError{err.Error()}
		}
		names = append(names, n)
	}
	return names, nil
}
