package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tadd-project/tadd/core/kernel"
)

// Model is a network: its layers, and its parameters and gradients as two
// flat slices of equal layout.
type Model struct {
	Arch   Arch
	Layers []Layer
	Params []float32 // every layer's weight then bias, in layer order
	Grads  []float32 // gradients, same layout as Params
	kern   kernel.Kernels
}

// New builds an architecture with zero parameters on the given kernels
// (kernel.Default() when kern is nil).
func New(a Arch, kern kernel.Kernels) (*Model, error) {
	if kern == nil {
		kern = kernel.Default()
	}
	if a.Input.Size() <= 0 {
		return nil, fmt.Errorf("architecture %q: empty input shape %v", a.Name, a.Input)
	}
	m := &Model{Arch: a, kern: kern}
	s := a.Input
	for i, spec := range a.Layers {
		var l Layer
		switch spec.Kind {
		case "conv2d":
			if s.H < convK || s.W < convK || spec.Units <= 0 {
				return nil, fmt.Errorf("architecture %q: layer %d: conv2d of %d filters on %v", a.Name, i, spec.Units, s)
			}
			l = NewConv2D(s, spec.Units, kern)
		case "maxpool":
			if s.H < 2 || s.W < 2 {
				return nil, fmt.Errorf("architecture %q: layer %d: maxpool on %v", a.Name, i, s)
			}
			l = NewMaxPool(s)
		case "dense":
			if spec.Units <= 0 {
				return nil, fmt.Errorf("architecture %q: layer %d: dense of %d units", a.Name, i, spec.Units)
			}
			l = NewDense(s, spec.Units, kern)
		case "relu":
			l = NewReLU(s)
		case "dropout":
			l = NewDropout(s, spec.Rate)
		case "flatten":
			l = NewFlatten(s)
		case "center":
			l = NewCenter(s, spec.Offset)
		default:
			return nil, fmt.Errorf("architecture %q: layer %d: unknown kind %q", a.Name, i, spec.Kind)
		}
		m.Layers = append(m.Layers, l)
		s = l.Out()
	}
	if s.Size() != a.Classes {
		return nil, fmt.Errorf("architecture %q: output size %d, want %d classes", a.Name, s.Size(), a.Classes)
	}
	n := 0
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			n += prod(p.Shape)
		}
	}
	m.Params = make([]float32, n)
	m.Grads = make([]float32, n)
	m.bindAll()
	return m, nil
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (m *Model) bindAll() {
	off := 0
	for _, l := range m.Layers {
		size := 0
		for _, p := range l.Params() {
			size += prod(p.Shape)
		}
		l.bind(m.Params[off:off+size], m.Grads[off:off+size])
		off += size
	}
}

// Kernels returns the arithmetic the model runs on.
func (m *Model) Kernels() kernel.Kernels { return m.kern }

// Replica returns a model that shares m's parameters (reads see m's updates)
// but has its own gradients and activation buffers, for use on another
// goroutine.
func (m *Model) Replica() *Model {
	r := &Model{Arch: m.Arch, kern: m.kern, Params: m.Params, Grads: make([]float32, len(m.Params))}
	for _, l := range m.Layers {
		r.Layers = append(r.Layers, l.clone(m.kern))
	}
	r.bindAll()
	return r
}

// NamedParam is one parameter tensor of a model with its place in Params.
type NamedParam struct {
	Name   string // e.g. "conv1.weight", "dense3.bias"
	Shape  []int
	Offset int
	Size   int
}

// NamedParams lists every parameter tensor in storage order. Layers are
// numbered per kind from 1: conv1, conv2, ..., dense1, dense2, dense3.
func (m *Model) NamedParams() []NamedParam {
	var out []NamedParam
	count := map[string]int{}
	off := 0
	for _, l := range m.Layers {
		ps := l.Params()
		if len(ps) == 0 {
			continue
		}
		count[l.Kind()]++
		prefix := l.Kind()
		if prefix == "conv2d" {
			prefix = "conv"
		}
		for _, p := range ps {
			size := prod(p.Shape)
			out = append(out, NamedParam{Name: fmt.Sprintf("%s%d.%s", prefix, count[l.Kind()], p.Name), Shape: p.Shape, Offset: off, Size: size})
			off += size
		}
	}
	return out
}

// Init sets weights to Glorot-uniform values (the Keras default of the
// reference models) and biases to zero, from the given seed.
func (m *Model) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x7add))
	for _, p := range m.NamedParams() {
		w := m.Params[p.Offset : p.Offset+p.Size]
		if len(p.Shape) == 1 {
			clear(w)
			continue
		}
		fanIn, fanOut := p.Shape[len(p.Shape)-2], p.Shape[len(p.Shape)-1]
		if len(p.Shape) == 4 {
			rf := p.Shape[0] * p.Shape[1]
			fanIn, fanOut = rf*p.Shape[2], rf*p.Shape[3]
		}
		limit := float32(math.Sqrt(6 / float64(fanIn+fanOut)))
		for i := range w {
			w[i] = (rng.Float32()*2 - 1) * limit
		}
	}
}

// SeedDropout restarts the random stream of every dropout layer.
func (m *Model) SeedDropout(a, b uint64) {
	for i, l := range m.Layers {
		if d, ok := l.(*Dropout); ok {
			d.Seed(a, b^uint64(i)<<32)
		}
	}
}

// Forward runs a batch x of n samples (NHWC) and returns the logits Z (n×classes).
// The returned slice belongs to the model until the next call.
func (m *Model) Forward(x []float32, n int, train bool) []float32 {
	if len(x) < n*m.Arch.Input.Size() {
		panic(fmt.Sprintf("nn: Forward: %d floats for %d samples of %v", len(x), n, m.Arch.Input))
	}
	h := x[:n*m.Arch.Input.Size()]
	for _, l := range m.Layers {
		h = l.Forward(h, n, train)
	}
	return h
}

// Backward takes dL/dZ for the last Forward's batch, adds the parameter
// gradients into Grads, and returns dL/dx (n×input) when needDX is true.
func (m *Model) Backward(dz []float32, n int, needDX bool) []float32 {
	g := dz
	for i := len(m.Layers) - 1; i >= 0; i-- {
		g = m.Layers[i].Backward(g, n, needDX || i > 0, true)
	}
	return g
}

// InputGradient takes dL/dZ for the last Forward's batch and returns dL/dx
// (n×input) without computing parameter gradients: what attacks and
// sensitivity measurements need.
func (m *Model) InputGradient(dz []float32, n int) []float32 {
	g := dz
	for i := len(m.Layers) - 1; i >= 0; i-- {
		g = m.Layers[i].Backward(g, n, true, false)
	}
	return g
}

// ZeroGrads clears the gradient slice.
func (m *Model) ZeroGrads() { clear(m.Grads) }

// Classes is the number of logits.
func (m *Model) Classes() int { return m.Arch.Classes }

// InputSize is the number of floats per input sample.
func (m *Model) InputSize() int { return m.Arch.Input.Size() }
