package nn

import (
	"runtime"
	"sync"
)

// Workers runs one model on several goroutines: each worker has a Replica
// (shared parameters, own buffers and gradients).
type Workers struct {
	Replicas []*Model
}

// NewWorkers returns workers replicas of m (GOMAXPROCS when workers <= 0).
// The first replica is m itself.
func NewWorkers(m *Model, workers int) *Workers {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Workers{Replicas: []*Model{m}}
	for len(p.Replicas) < workers {
		p.Replicas = append(p.Replicas, m.Replica())
	}
	return p
}

// Model returns the model the workers were made from.
func (p *Workers) Model() *Model { return p.Replicas[0] }

// Chunks splits n items into at most len(Replicas) contiguous ranges
// [lo, hi), one per worker, in a fixed way.
func (p *Workers) Chunks(n int) [][2]int {
	w := min(len(p.Replicas), n)
	var out [][2]int
	for i := range w {
		out = append(out, [2]int{i * n / w, (i + 1) * n / w})
	}
	return out
}

// Run calls f(worker, replica, lo, hi) for each chunk of n items on its own
// goroutine and waits for all of them.
func (p *Workers) Run(n int, f func(w int, m *Model, lo, hi int)) {
	chunks := p.Chunks(n)
	if len(chunks) == 1 {
		f(0, p.Replicas[0], chunks[0][0], chunks[0][1])
		return
	}
	var wg sync.WaitGroup
	for w, c := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w, p.Replicas[w], c[0], c[1])
		}()
	}
	wg.Wait()
}

// inferBatch bounds the samples one worker runs at once in Logits.
const inferBatch = 64

// Logits returns the logits of n samples of x (inference mode), computed
// in parallel, as a new n×classes slice.
func (p *Workers) Logits(x []float32, n int) []float32 {
	k, is := p.Model().Classes(), p.Model().InputSize()
	out := make([]float32, n*k)
	p.Run(n, func(_ int, m *Model, lo, hi int) {
		for b := lo; b < hi; b += inferBatch {
			e := min(b+inferBatch, hi)
			z := m.Forward(x[b*is:e*is], e-b, false)
			copy(out[b*k:e*k], z)
		}
	})
	return out
}

// Probabilities returns softmax(Z/T) for n samples of x, as a new
// n×classes slice: the soft labels F(X) of defensive distillation.
func (p *Workers) Probabilities(x []float32, n int, t float32) []float32 {
	z := p.Logits(x, n)
	k := p.Model().Classes()
	for i := range n {
		SoftmaxT(z[i*k:(i+1)*k], z[i*k:(i+1)*k], t)
	}
	return z
}
