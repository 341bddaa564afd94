package weights

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/nn"
)

// TestLoadRejectsOverflow: weights that are each finite in F16 (65504, the
// largest half) overflow to Inf/NaN within the MNIST network's forward
// pass; Load must refuse them with a *FormatError instead of handing out a
// model whose every answer is NaN.
func TestLoadRejectsOverflow(t *testing.T) {
	cases := []struct {
		name  string
		arch  nn.Arch
		value float32 // every parameter, or 0 to keep the random init
		ok    bool
	}{
		{"mnist init", nn.MNISTArch(), 0, true},
		{"mnist all 65504", nn.MNISTArch(), 65504, false},
		{"tiny init", nn.TinyArch(), 0, true},
		{"tiny all 1", nn.TinyArch(), 1, true},
	}
	for _, c := range cases {
		m, err := nn.New(c.arch, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Init(3)
		if c.value != 0 {
			for i := range m.Params {
				m.Params[i] = c.value
			}
		}
		meta := testMeta
		meta.Arch = c.arch.Name
		var b bytes.Buffer
		if err := Encode(&b, m, meta, F16); err != nil {
			t.Fatal(err)
		}
		_, _, err = Load(b.Bytes(), nil)
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not finite") {
			t.Errorf("%s: Load error %v, want a *FormatError about non-finite outputs", c.name, err)
		}
	}
}

func TestCheckFinite(t *testing.T) {
	m := tinyModel(t)
	if err := CheckFinite(m); err != nil {
		t.Fatalf("initialised model: %v", err)
	}
	m.Params[len(m.Params)-1] = float32(math.Inf(1)) // a logit's bias
	if err := CheckFinite(m); err == nil {
		t.Fatal("an infinite bias passed")
	}
}
