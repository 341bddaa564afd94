package vulkan

import (
	"github.com/tadd-project/tadd/core/nn"
)

// Classifier is an attack.Classifier on a device-resident Net: a forward
// pass is one submission and an input gradient another, the network's
// weights and activations staying on the device. A device failure panics,
// as the interface has no error path.
type Classifier struct {
	d   *Device
	m   *nn.Model
	net *Net
	w   []float32
}

// NewClassifier puts m on d for attacks; Close releases it.
func NewClassifier(d *Device, m *nn.Model) *Classifier { return &Classifier{d: d, m: m} }

// Close releases the device-resident net.
func (c *Classifier) Close() {
	if c.net != nil {
		c.net.Close()
		c.net = nil
	}
}

// Classes implements attack.Classifier.
func (c *Classifier) Classes() int { return c.m.Classes() }

// InputShape implements attack.Classifier.
func (c *Classifier) InputShape() (int, int, int) {
	s := c.m.Arch.Input
	return s.H, s.W, s.C
}

// ensure holds a net for batches of n.
func (c *Classifier) ensure(n int) *Net {
	if c.net != nil && c.net.batch >= n {
		return c.net
	}
	c.Close()
	net, err := NewNet(c.d, c.m, max(n, 1))
	if err != nil {
		panic(err)
	}
	c.net = net
	return net
}

// Logits implements attack.Classifier.
func (c *Classifier) Logits(z, x []float32, n int) {
	z0, err := c.ensure(n).Forward(x, n)
	if err != nil {
		panic(err)
	}
	copy(z, z0)
}

// Gradient implements attack.Classifier.
func (c *Classifier) Gradient(g, z, x []float32, n int, weight func(i int, z, w []float32)) {
	net := c.ensure(n)
	k := c.Classes()
	z0, err := net.Forward(x, n)
	if err != nil {
		panic(err)
	}
	copy(z[:n*k], z0)
	if cap(c.w) < n*k {
		c.w = make([]float32, n*k)
	}
	w := c.w[:n*k]
	for i := range n {
		weight(i, z[i*k:(i+1)*k], w[i*k:(i+1)*k])
	}
	g0, err := net.InputGradient(w, n)
	if err != nil {
		panic(err)
	}
	copy(g, g0)
}
