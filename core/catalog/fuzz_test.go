package catalog

import (
	"bytes"
	"os"
	"slices"
	"testing"
)

// FuzzParse: any bytes give a manifest or an error, never a panic; a
// manifest that parses has plain file names, each once, in order, and
// writes out to bytes that parse to the same entries and write out the
// same again.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../pretrained/manifest.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"models": [{"file": "a.safetensors", "temperature": 1e308, "step": -1}]}`))
	f.Add([]byte(`{"models": [{"file": "b.safetensors"}, {"file": "a.safetensors", "dataset": "a"}]}`))
	f.Add([]byte(`{"models": null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range m.Models {
			if CheckFileName(e.File) != nil || seen[e.File] {
				t.Fatalf("accepted file name %q (seen: %v)", e.File, seen[e.File])
			}
			seen[e.File] = true
		}
		if !slices.IsSortedFunc(m.Models, CompareEntries) {
			t.Fatal("entries out of order")
		}
		out, err := m.Marshal()
		if err != nil {
			return // e.g. a NaN cannot be written back (JSON has none; it cannot be read either)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("written manifest does not parse: %v\n%s", err, out)
		}
		if !slices.Equal(back.Models, m.Models) {
			t.Fatalf("round trip changed the entries:\n%+v\n%+v", m.Models, back.Models)
		}
		again, _ := back.Marshal()
		if !bytes.Equal(again, out) {
			t.Fatalf("written twice differently:\n%s\n%s", out, again)
		}
	})
}
