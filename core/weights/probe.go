package weights

import (
	"math"

	"github.com/tadd-project/tadd/core/nn"
)

// CheckFinite runs m forward on three probe inputs that span the input
// range [0, 1] (all zeros, all ones, and a fixed pattern in between) and
// returns a *FormatError if any logit is NaN or infinite. Weights that are
// each finite (an F16 file full of 65504, the largest half) can still
// overflow within a forward pass, and such a model answers every input with
// NaN. A model that passes may still overflow on some other input, so
// callers that show outputs check them too.
func CheckFinite(m *nn.Model) error {
	n := m.InputSize()
	x := make([]float32, 3*n)
	for i := range n {
		x[n+i] = 1
		x[2*n+i] = float32(i%7) / 6
	}
	for i, z := range m.Forward(x, 3, false) {
		if math.IsNaN(float64(z)) || math.IsInf(float64(z), 0) {
			return formatErr("the forward pass is not finite (logit %d of probe input %d is %v): the weights overflow", i%m.Classes(), i/m.Classes(), z)
		}
	}
	return nil
}
