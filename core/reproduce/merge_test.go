package reproduce

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
)

// shardFile is a samples file of one model holding the given indices of
// total samples.
func shardFile(model string, sh eval.Shard, total int, idx ...int) SamplesFile {
	sf := SamplesFile{Settings: Settings{Dataset: "mnist", Preset: "quick", Samples: total, AttackSamples: 1, Attacks: []string{"l2"}, Seed: 1, Steps: 1},
		Shard: sh, Model: Model{File: model, Identity: catalog.Identity{Temperature: 1, Role: "teacher"}}}
	for _, k := range idx {
		sf.Samples = append(sf.Samples, eval.Sample{Index: k, Correct: true, Distance: map[string]eval.Dist{}})
	}
	return sf
}

// FuzzMerge feeds two shard files to the merge: it never panics, and what
// it accepts is one sample per index of the settings' count, in order,
// under a model name that is a plain file name.
func FuzzMerge(f *testing.F) {
	const model = "mnist-T1-step0-teacher.safetensors"
	enc := func(sf SamplesFile) []byte { b, _ := json.Marshal(sf); return b }
	f.Add(enc(shardFile(model, eval.Shard{I: 0, N: 2}, 4, 0, 2)), enc(shardFile(model, eval.Shard{I: 1, N: 2}, 4, 1, 3)))
	f.Add(enc(shardFile(model, eval.Shard{I: 0, N: 1}, 2, 0, 1)), enc(shardFile("mnist-T5-step0-teacher.safetensors", eval.Shard{I: 0, N: 1}, 2, 1, 0)))
	f.Add(enc(shardFile("../x", eval.Shard{I: 5, N: 2}, 4, -1, 1e9)), []byte(`{"shard":{"I":0,"N":0}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var files []SamplesFile
		for _, raw := range [][]byte{a, b} {
			sf, err := ParseSamplesFile(raw)
			if err != nil {
				return
			}
			files = append(files, sf)
		}
		set, merged, err := Merge(files)
		if err != nil {
			return
		}
		for _, m := range merged {
			if filepath.Base(m.Model.File) != m.Model.File || strings.HasPrefix(m.Model.File, ".") {
				t.Fatalf("accepted model name %q", m.Model.File)
			}
			if len(m.Samples) != set.Samples {
				t.Fatalf("%d samples merged, settings say %d", len(m.Samples), set.Samples)
			}
			for i, s := range m.Samples {
				if s.Index != i {
					t.Fatalf("sample %d has index %d", i, s.Index)
				}
			}
		}
	})
}
