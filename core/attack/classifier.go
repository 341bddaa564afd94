package attack

import "github.com/tadd-project/tadd/core/nn"

// Classifier is all an attack knows of a model.
type Classifier interface {
	// Classes is the number of logits.
	Classes() int
	// InputShape is the per-image height, width and channels; images are
	// flat NHWC float32 slices of h*w*c values in [0, 1].
	InputShape() (h, w, c int)
	// Logits writes the logits of the n images x into z (n×Classes).
	Logits(z, x []float32, n int)
	// Gradient writes the logits of the n images x into z and, into g
	// (n×input), the gradient with respect to each image of Σ_j w_j·Z_j,
	// where weight(i, z_i, w_i) fills the weights of image i given its
	// logits.
	Gradient(g, z, x []float32, n int, weight func(i int, z, w []float32))
}

// ModelClassifier adapts an nn.Model to Classifier, spreading batches
// over the workers of an nn.Workers.
type ModelClassifier struct {
	pool *nn.Workers
	w    []float32
}

// NewClassifier returns a Classifier for m on workers goroutines
// (GOMAXPROCS when workers <= 0). The model must not be used elsewhere
// meanwhile.
func NewClassifier(m *nn.Model, workers int) *ModelClassifier {
	return &ModelClassifier{pool: nn.NewWorkers(m, workers)}
}

// Classes implements Classifier.
func (c *ModelClassifier) Classes() int { return c.pool.Model().Classes() }

// InputShape implements Classifier.
func (c *ModelClassifier) InputShape() (int, int, int) {
	s := c.pool.Model().Arch.Input
	return s.H, s.W, s.C
}

// Logits implements Classifier.
func (c *ModelClassifier) Logits(z, x []float32, n int) {
	k, is := c.Classes(), c.pool.Model().InputSize()
	c.pool.Run(n, func(_ int, m *nn.Model, lo, hi int) {
		copy(z[lo*k:hi*k], m.Forward(x[lo*is:hi*is], hi-lo, false))
	})
}

// Gradient implements Classifier.
func (c *ModelClassifier) Gradient(g, z, x []float32, n int, weight func(i int, z, w []float32)) {
	k, is := c.Classes(), c.pool.Model().InputSize()
	if cap(c.w) < n*k {
		c.w = make([]float32, n*k)
	}
	w := c.w[:n*k]
	c.pool.Run(n, func(_ int, m *nn.Model, lo, hi int) {
		zi := m.Forward(x[lo*is:hi*is], hi-lo, false)
		copy(z[lo*k:hi*k], zi)
		for i := lo; i < hi; i++ {
			weight(i, z[i*k:(i+1)*k], w[i*k:(i+1)*k])
		}
		copy(g[lo*is:hi*is], m.InputGradient(w[lo*k:hi*k], hi-lo))
	})
}
