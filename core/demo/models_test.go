package demo

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/nn"
)

// TestFetchModel: a model is fetched once and then served from the cache;
// a failed fetch is not remembered; a name that is not a plain model file
// name is refused before anything is fetched.
func TestFetchModel(t *testing.T) {
	model, err := os.ReadFile("../../core/attack/testdata/tiny-mnist.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	fetches := map[string]int{}
	down := true // the first fetch of flaky.safetensors fails
	fetch := func(path string) ([]byte, error) {
		fetches[path]++
		switch path {
		case "pretrained/flaky.safetensors":
			if down {
				down = false
				return nil, errors.New("network down")
			}
			return model, nil
		case "pretrained/m.safetensors":
			return model, nil
		case "pretrained/junk.safetensors":
			return []byte("not a model"), nil
		}
		return nil, errors.New("404")
	}
	models := catalog.NewCache[*nn.Model](0)
	for _, c := range []struct {
		file    string
		want    string // error text; "" for a model
		fetched int    // fetches of the file so far
	}{
		{"m.safetensors", "", 1},
		{"m.safetensors", "", 1},
		{"flaky.safetensors", "network down", 1},
		{"flaky.safetensors", "", 2},
		{"flaky.safetensors", "", 2},
		{"junk.safetensors", "loading junk.safetensors", 1},
		{"junk.safetensors", "loading junk.safetensors", 2},
		{"../manifest.json", "bad model file name", 0},
		{"missing.safetensors", "404", 1},
	} {
		m, err := FetchModel(models, fetch, c.file, nil)
		switch {
		case c.want == "" && (err != nil || m == nil):
			t.Errorf("%s: %v", c.file, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one mentioning %q", c.file, err, c.want)
		}
		if n := fetches["pretrained/"+c.file]; n != c.fetched {
			t.Errorf("%s: fetched %d times, want %d", c.file, n, c.fetched)
		}
	}
}
