package nn

import "github.com/tadd-project/tadd/core/kernel"

// Shape is the per-sample shape of an activation: height, width, channels.
// A flat vector of length L has Shape{1, 1, L}.
type Shape struct{ H, W, C int }

// Size is the number of floats in one sample.
func (s Shape) Size() int { return s.H * s.W * s.C }

// ParamSpec names one parameter tensor of a layer and gives its shape.
type ParamSpec struct {
	Name  string // "weight" or "bias"
	Shape []int
}

// Layer is one stage of a Model. Forward and Backward work on a batch of n
// samples; the slices they return belong to the layer and are overwritten
// by the next call.
type Layer interface {
	// Kind is the layer's type name, as in the weight file: "conv2d",
	// "maxpool", "dense", "relu", "dropout", "flatten".
	Kind() string
	// In and Out are the per-sample input and output shapes.
	In() Shape
	Out() Shape
	// Params lists the parameter tensors, in storage order.
	Params() []ParamSpec
	// bind points the layer's parameter and gradient views at the given
	// slices, laid out as Params says.
	bind(params, grads []float32)
	// Forward computes the output for input x of n samples. With train
	// false, dropout is the identity.
	Forward(x []float32, n int, train bool) []float32
	// Backward takes dL/dy for the last Forward's batch, adds the parameter
	// gradients into the grad views when needDW is true, and returns dL/dx
	// when needDX is true (else nil).
	Backward(dy []float32, n int, needDX, needDW bool) []float32
	// clone returns a fresh layer of the same configuration, unbound.
	clone(kern kernel.Kernels) Layer
}

// grow returns buf resliced to n floats, reallocating only when it is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
