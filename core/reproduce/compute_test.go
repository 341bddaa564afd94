package reproduce

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tadd-project/tadd/core/eval"
)

// TestComputeRecorded: every samples file records the seconds spent
// computing it and the machine; a cached file gives them back; a model
// resumed from its partial file adds the sessions up and names both
// machines; files written before the fields existed read as unknown.
func TestComputeRecorded(t *testing.T) {
	models := newMemModels(t, []float64{1, 5}, 1)
	files := fstest.MapFS{}
	var lines []string
	p := memPlan(models, files, &lines)
	p.Machine = "machine A"
	first, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range first {
		sf, err := ParseSamplesFile(files[SamplesPath(m.Model.File, p.Shard)].Data)
		if err != nil {
			t.Fatal(err)
		}
		if sf.Seconds <= 0 || sf.Machine != "machine A" || sf.Compute != m.Compute {
			t.Errorf("%s: file records %+v, run returned %+v", m.Model.File, sf.Compute, m.Compute)
		}
	}
	again, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if again[i].Compute != first[i].Compute {
			t.Errorf("cached %+v, computed %+v", again[i].Compute, first[i].Compute)
		}
	}

	// An old file: the same per-sample results without the fields.
	path := SamplesPath(first[0].Model.File, p.Shard)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(files[path].Data, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "compute_seconds")
	delete(raw, "machine")
	old, _ := json.Marshal(raw)
	files[path] = &fstest.MapFile{Data: old}
	lines = nil
	mixed, err := Run(context.Background(), p)
	if err != nil || count(lines, "cached") != 4 {
		t.Fatalf("run over an old file: %v, log %q", err, lines)
	}
	if mixed[0].Compute != (Compute{}) {
		t.Errorf("old file: compute %+v, want unknown", mixed[0].Compute)
	}
	var cs []Compute
	for _, m := range mixed {
		cs = append(cs, m.Compute)
	}
	secs, untimed, machines := Provenance(cs)
	want := first[1].Seconds + first[2].Seconds + first[3].Seconds
	if untimed != 1 || machines != "machine A" || fmt.Sprintf("%.9g", secs) != fmt.Sprintf("%.9g", want) {
		t.Errorf("provenance: %g s (want %g), %d untimed, machines %q", secs, want, untimed, machines)
	}

	// Interrupted after its first chunk on machine A, resumed on machine B.
	files = fstest.MapFS{}
	c := memPlan(models, files, &lines)
	c.Settings.AttackSamples, c.Chunk, c.Machine = 12, 4, "machine A"
	write := c.Write
	writes := 0
	c.Write = func(path string, b []byte) error {
		if writes++; writes > 1 {
			return fmt.Errorf("killed")
		}
		return write(path, b)
	}
	if _, err := Run(context.Background(), c); err == nil {
		t.Fatal("the interrupted run went on")
	}
	partial, err := ParseSamplesFile(files[c.path(PartialDir, first[0].Model.File)].Data)
	if err != nil || partial.Seconds <= 0 || partial.Machine != "machine A" {
		t.Fatalf("partial file: %+v, %v", partial.Compute, err)
	}
	c.Write, c.Machine = write, "machine B"
	got, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Seconds <= partial.Seconds || got[0].Machine != "machine A; machine B" || got[1].Machine != "machine B" {
		t.Errorf("resumed: %+v (partial %+v), next model %+v", got[0].Compute, partial.Compute, got[1].Compute)
	}
}

// TestMergeCompute: a model's shards sum their seconds and list their
// machines; one shard without a record makes the sum unknown.
func TestMergeCompute(t *testing.T) {
	const model = "mnist-T1-step0-teacher.safetensors"
	cases := []struct {
		name string
		a, b Compute
		want Compute
	}{
		{"both timed", Compute{2, "A"}, Compute{3, "B"}, Compute{5, "A; B"}},
		{"same machine", Compute{2, "A"}, Compute{3, "A"}, Compute{5, "A"}},
		{"one old file", Compute{2, "A"}, Compute{}, Compute{0, "A"}},
		{"two old files", Compute{}, Compute{}, Compute{}},
	}
	for _, c := range cases {
		x, y := shardFile(model, eval.Shard{I: 0, N: 2}, 4, 0, 2), shardFile(model, eval.Shard{I: 1, N: 2}, 4, 1, 3)
		x.Compute, y.Compute = c.a, c.b
		_, merged, err := Merge([]SamplesFile{x, y})
		if err != nil {
			t.Fatal(err)
		}
		if merged[0].Compute != c.want {
			t.Errorf("%s: merged %+v, want %+v", c.name, merged[0].Compute, c.want)
		}
	}
	// Files of before the fields parse, as unknown.
	b, _ := json.Marshal(shardFile(model, eval.Shard{I: 0, N: 1}, 1, 0))
	if strings.Contains(string(b), "compute_seconds") || strings.Contains(string(b), "machine") {
		t.Fatalf("an untimed file writes the fields: %s", b)
	}
	sf, err := ParseSamplesFile(b)
	if err != nil || sf.Compute != (Compute{}) {
		t.Errorf("old file: %+v, %v", sf.Compute, err)
	}
}
