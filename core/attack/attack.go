package attack

import (
	"context"
	"fmt"
	"math"
)

// Attack is one attack with its parameters: L2Config, L0Config and
// LInfConfig are the three of Carlini & Wagner. Configs.Attacks lists them
// and Configs.Attack finds one by name: the command line, the metrics, the
// report and the user interfaces take attacks from there.
type Attack interface {
	// Name is the attack's command-line name: "l2", "l0" or "linf".
	Name() string
	// Norm is the distance the attack minimises.
	Norm() Norm
	// Run attacks len(goals) images x (one goal each; n×input values in
	// [0, 1]), size at a time sharing every forward and backward pass
	// (batchSize when size <= 0); an image that finishes hands its place in
	// the batch to the next. Each image's result is the one it gets alone.
	// obs, if set, sees every iteration of every image; finished, if set,
	// hears of image j as its attack ends. Both are called from the calling
	// goroutine.
	Run(ctx context.Context, clf Classifier, x []float32, goals []Goal, size int, obs Observer, finished func(j int, r Result)) ([]Result, error)
}

// Norm is a distance between two images: the one an attack minimises.
type Norm int

// The norms of the three attacks.
const (
	NormL0   Norm = iota // pixels changed (by more than pixelTolerance)
	NormL2               // Euclidean distance
	NormLInf             // largest change of any value
)

// String is the norm's usual name: L0, L2, L∞.
func (n Norm) String() string {
	switch n {
	case NormL0:
		return "L0"
	case NormL2:
		return "L2"
	case NormLInf:
		return "L∞"
	}
	return fmt.Sprintf("Norm(%d)", int(n))
}

// Of is r's distance to its original in this norm.
func (n Norm) Of(r Result) float64 {
	switch n {
	case NormL0:
		return float64(r.L0)
	case NormL2:
		return r.L2
	}
	return r.LInf
}

// Largest is the largest distance in this norm between two images of
// values values in [0, 1]: an upper bound for any perturbation.
func (n Norm) Largest(values int) float64 {
	switch n {
	case NormL0:
		return float64(values)
	case NormL2:
		return math.Sqrt(float64(values))
	}
	return 1
}

// Meaning says in words what minimising the norm does to an image.
func (n Norm) Meaning() string {
	switch n {
	case NormL0:
		return "how many pixels change: few pixels, each as much as needed"
	case NormL2:
		return "the Euclidean size of the whole change: many pixels, each a little"
	}
	return "the largest change of any pixel: every pixel a little, up to a bound τ"
}

// Step is what an Observer sees after each iteration of one image's
// attack. Its slices belong to the attack and are valid only during the
// call.
type Step struct {
	Index     int       // which image of the batch
	Iteration int       // gradient evaluations so far for this image
	Const     float64   // current constant c
	Search    Search    // the attack's own search state: L2Search, L0Search or LInfSearch
	Image     []float32 // the current iterate
	Logits    []float32 // its logits
	Best      []float32 // best adversarial image so far, or nil
	BestDist  float64   // its distance in the attack's norm (math.Inf(1) if none)
}

// Observer receives every Step of an attack.
type Observer func(Step)

// Search is the state of an attack's outer search, beside its constant c;
// String puts it in words for a status line.
type Search interface {
	String() string
}

// L2Search is where the L2 attack's binary search over c stands.
type L2Search struct {
	BinaryStep int // from 0
}

func (s L2Search) String() string { return fmt.Sprintf("binary-search step %d", s.BinaryStep+1) }

// L0Search is the size of the L0 attack's allowed set.
type L0Search struct {
	Allowed int // pixels still allowed to change
}

func (s L0Search) String() string { return fmt.Sprintf("%d pixels allowed", s.Allowed) }

// LInfSearch is the L∞ attack's current bound.
type LInfSearch struct {
	Tau float64 // τ
}

func (s LInfSearch) String() string { return fmt.Sprintf("τ = %.3f", s.Tau) }

// RunOne runs a on one image x and goal g.
func RunOne(ctx context.Context, a Attack, clf Classifier, x []float32, g Goal, obs Observer) (Result, error) {
	rs, err := a.Run(ctx, clf, x, []Goal{g}, 1, obs, nil)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}
