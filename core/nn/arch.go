package nn

import (
	"fmt"
	"sort"
)

// LayerSpec describes one layer of an architecture.
type LayerSpec struct {
	Kind   string  // center, conv2d, maxpool, flatten, dense, relu, dropout
	Units  int     // filters of a conv2d, outputs of a dense
	Rate   float32 // the probability that a dropout layer zeroes an input
	Offset float32 // what a center layer subtracts from its input
}

// centered is the input shift of the reference models: pixels in [0, 1]
// are seen as [-0.5, 0.5].
var centered = []LayerSpec{{Kind: "center", Offset: 0.5}}

// Arch is a network architecture: an input shape and a list of layers.
type Arch struct {
	Name    string
	Input   Shape
	Classes int
	Layers  []LayerSpec
}

func convBlock(a, b int) []LayerSpec {
	return []LayerSpec{{Kind: "conv2d", Units: a}, {Kind: "relu"}, {Kind: "conv2d", Units: b}, {Kind: "relu"}, {Kind: "maxpool"}}
}

// head is the dense head of Carlini & Wagner's models: two hidden layers
// with ReLU, dropout 0.5 after the first, and the logits layer.
func head(units, classes int) []LayerSpec {
	return []LayerSpec{
		{Kind: "flatten"},
		{Kind: "dense", Units: units}, {Kind: "relu"}, {Kind: "dropout", Rate: 0.5},
		{Kind: "dense", Units: units}, {Kind: "relu"},
		{Kind: "dense", Units: classes},
	}
}

func concat(parts ...[]LayerSpec) []LayerSpec {
	var out []LayerSpec
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// MNISTArch is the MNIST network of Carlini & Wagner and Papernot et al.:
// conv32, conv32, pool, conv64, conv64, pool, dense200, dense200, dense10 on
// 28×28×1, after the reference code's input shift to [-0.5, 0.5].
func MNISTArch() Arch {
	return Arch{Name: "mnist", Input: Shape{28, 28, 1}, Classes: 10,
		Layers: concat(centered, convBlock(32, 32), convBlock(64, 64), head(200, 10))}
}

// CIFARArch is the CIFAR-10 network: conv64, conv64, pool, conv128, conv128,
// pool, dense256, dense256, dense10 on 32×32×3.
func CIFARArch() Arch {
	return Arch{Name: "cifar", Input: Shape{32, 32, 3}, Classes: 10,
		Layers: concat(centered, convBlock(64, 64), convBlock(128, 128), head(256, 10))}
}

// TinyArch is a small network of the same kinds of layer for fast tests:
// conv4, pool, conv8, pool, dense32 (dropout), dense10, on 28×28×1.
func TinyArch() Arch {
	return TinyArchFor(Shape{28, 28, 1})
}

// TinyArchFor is TinyArch for another input shape (at least 8×8).
func TinyArchFor(in Shape) Arch {
	return Arch{Name: "tiny", Input: in, Classes: 10, Layers: []LayerSpec{
		{Kind: "center", Offset: 0.5},
		{Kind: "conv2d", Units: 4}, {Kind: "relu"}, {Kind: "maxpool"},
		{Kind: "conv2d", Units: 8}, {Kind: "relu"}, {Kind: "maxpool"},
		{Kind: "flatten"}, {Kind: "dense", Units: 32}, {Kind: "relu"}, {Kind: "dropout", Rate: 0.5},
		{Kind: "dense", Units: 10},
	}}
}

// TinyCIFARArch is TinyArch on 32×32×3 images, for fast tests of the
// CIFAR-10 pipeline.
func TinyCIFARArch() Arch {
	a := TinyArchFor(Shape{32, 32, 3})
	a.Name = "tiny-cifar"
	return a
}

var archs = map[string]func() Arch{"mnist": MNISTArch, "cifar": CIFARArch, "tiny": TinyArch, "tiny-cifar": TinyCIFARArch}

// ArchByName returns a named architecture: "mnist", "cifar", "tiny" or
// "tiny-cifar".
func ArchByName(name string) (Arch, error) {
	f, ok := archs[name]
	if !ok {
		return Arch{}, fmt.Errorf("unknown architecture %q (known: %v)", name, ArchNames())
	}
	return f(), nil
}

// ArchNames lists the known architecture names.
func ArchNames() []string {
	var names []string
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
