package reproduce

import (
	"context"
	"maps"
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

// TestStaleAttacksRunAgain: a cached samples file whose L∞ attacks ran
// with other parameters than the run's is reused for everything else (its
// L2 distances are not recomputed) and its L∞ distances are computed
// again, equal to those of a fresh run with the new parameters; the file
// then records them, and the next run takes it as it is. A partial file
// with other parameters is not resumed from.
func TestStaleAttacksRunAgain(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	files := fstest.MapFS{}
	var lines []string
	p := perAttack(memPlan(models, files, &lines))
	first, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	// Mark every cached L2 distance, to see that none is recomputed.
	const mark = 123.0
	for name, f := range files {
		sf, err := ParseSamplesFile(f.Data)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range sf.Samples {
			if !math.IsNaN(float64(s.Distance["l2"])) {
				sf.Samples[i].Distance["l2"] = mark
			}
		}
		if err := p.writeFile(name, sf); err != nil {
			t.Fatal(err)
		}
	}

	// The new L∞ parameters, and what a run with them from nothing finds.
	changed := Configs(p.Settings)
	changed.LInf.InitialConst *= 10
	q := p
	q.full = &changed
	var freshLines []string
	fresh := q
	fresh.Cache, fresh.Write, fresh.Log = fstest.MapFS{}, func(string, []byte) error { return nil }, func(l string) { freshLines = append(freshLines, l) }
	want, err := Run(context.Background(), fresh)
	if err != nil {
		t.Fatal(err)
	}

	lines = nil
	got, err := Run(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if count(lines, "its linf attacks ran with other parameters than this run's; attacking again") != 4 || count(lines, "attack seconds per sample: linf ") != 4 || count(lines, "cached") != 0 {
		t.Fatalf("log %q", lines)
	}
	linfChanged := false
	for m := range got {
		for i, s := range got[m].Samples {
			w, old := want[m].Samples[i], first[m].Samples[i]
			if d := float64(s.Distance["l2"]); !math.IsNaN(d) && d != mark {
				t.Fatalf("%s sample %d: L2 %v recomputed", got[m].Model.File, s.Index, d)
			}
			if a, b := float64(s.Distance["linf"]), float64(w.Distance["linf"]); a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
				t.Fatalf("%s sample %d: L∞ %v, a fresh run finds %v", got[m].Model.File, s.Index, a, b)
			}
			if s.Distance["linf"] != old.Distance["linf"] {
				linfChanged = true
			}
			if s.Correct != old.Correct || s.Amplitude != old.Amplitude || s.Target != old.Target {
				t.Fatalf("%s sample %d: %+v, was %+v", got[m].Model.File, s.Index, s, old)
			}
		}
		if got[m].Compute.Seconds <= first[m].Compute.Seconds {
			t.Errorf("%s: compute %v s, before %v s: the attacks again are not counted", got[m].Model.File, got[m].Compute.Seconds, first[m].Compute.Seconds)
		}
	}
	if !linfChanged {
		t.Fatal("the new L∞ parameters change no distance: the test tests nothing")
	}
	sf, err := ParseSamplesFile(files[q.path(SamplesDir, got[0].Model.File)].Data)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(sf.Settings.AttackParams, paramsOf(changed, p.Settings.Attacks)) {
		t.Errorf("the file records parameters %v", sf.Settings.AttackParams)
	}
	lines = nil
	if _, err := Run(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if count(lines, "cached") != 4 || count(lines, "attacking again") != 0 {
		t.Fatalf("third run's log %q", lines)
	}
	// Back to the first parameters: L∞ again, for every model.
	lines = nil
	if _, err := Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if count(lines, "attacking again") != 4 {
		t.Fatalf("log %q", lines)
	}

	// A partial file of other parameters is not resumed.
	path := p.path(SamplesDir, got[0].Model.File)
	partial := p.path(PartialDir, got[0].Model.File)
	files[partial] = files[path]
	delete(files, path)
	lines = nil
	if _, err := Run(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if count(lines, partial+": its linf attacks ran with other parameters than this run's; the model is evaluated again from its first sample") != 1 {
		t.Fatalf("log %q", lines)
	}
	if _, ok := files[partial]; ok || files[path] == nil {
		t.Errorf("after the run: partial file kept, or no samples file")
	}
	if !strings.Contains(string(files[path].Data), `"linf":"{MaxIterations:20 `) {
		t.Errorf("samples file %.300s", files[path].Data)
	}
}
