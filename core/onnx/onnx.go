// Package onnx exports a model to ONNX (https://onnx.ai), the format that
// robustness libraries and inference runtimes load.
//
// The exported graph is the model's inference pass (dropout is the
// identity) in ONNX's usual NCHW layout:
//
//	input   float32 (N, C, H, W), pixels in [0, 1]; N is free
//	Sub     x - 0.5                          the "center" layer
//	Conv    3×3, stride 1, no padding        weights (Cout, Cin, 3, 3)
//	Relu, MaxPool 2×2 stride 2
//	Transpose (0, 2, 3, 1), Flatten          dense1 reads H, W, C order
//	Gemm    x·W + b                          weights (In, Out), as stored
//	logits  float32 (N, classes)
//
// Weights are float32 initializers (F16 files widen exactly). The file is
// ONNX IR version 8, opset 13, written with the protobuf wire format of
// google.golang.org/protobuf (the few message fields used are listed below
// with their numbers from onnx.proto).
package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tadd-project/tadd/core/nn"
)

// IRVersion and Opset are the ONNX versions the export targets.
const (
	IRVersion = 8
	Opset     = 13
)

// Names of the graph's input and output.
const (
	InputName  = "input"
	OutputName = "logits"
)

// ONNX enum values (onnx.proto).
const (
	tensorFloat = 1 // TensorProto.DataType FLOAT
	attrInt     = 2 // AttributeProto.AttributeType INT
	attrInts    = 7 // AttributeProto.AttributeType INTS
)

// Export writes m's inference graph as an ONNX model to w. props (for
// example the weight file's metadata) become the model's metadata_props.
func Export(w io.Writer, m *nn.Model, producerVersion string, props map[string]string) error {
	g, err := buildGraph(m)
	if err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	var b []byte
	b = appendInt(b, 1, IRVersion)                                          // ModelProto.ir_version
	b = appendString(b, 2, "tadd")                                          // producer_name
	b = appendString(b, 3, producerVersion)                                 // producer_version
	b = appendMsg(b, 8, appendInt(nil, 2, Opset))                           // opset_import {version}; domain "" = ai.onnx
	b = appendString(b, 6, "TADD "+m.Arch.Name+" network, inference graph") // doc_string
	b = appendMsg(b, 7, g)                                                  // graph
	for _, k := range slices.Sorted(maps.Keys(props)) {
		b = appendMsg(b, 14, appendString(appendString(nil, 1, k), 2, props[k])) // metadata_props
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	return nil
}

// graph accumulates GraphProto fields.
type graph struct {
	nodes, inits []byte
	n            int // values named so far
}

func (g *graph) value() string {
	g.n++
	return fmt.Sprintf("t%d", g.n)
}

// node appends a NodeProto: op on inputs, one output, attributes.
func (g *graph) node(op string, out string, inputs []string, attrs ...[]byte) {
	var b []byte
	for _, in := range inputs {
		b = appendString(b, 1, in)
	}
	b = appendString(b, 2, out)
	b = appendString(b, 3, out+"_"+op)
	b = appendString(b, 4, op)
	for _, a := range attrs {
		b = appendMsg(b, 5, a)
	}
	g.nodes = appendMsg(g.nodes, 1, b)
}

// init appends a float32 initializer (TensorProto with raw_data).
func (g *graph) init(name string, dims []int, v []float32) {
	var b []byte
	for _, d := range dims {
		b = appendInt(b, 1, int64(d))
	}
	b = appendInt(b, 2, tensorFloat)
	b = appendString(b, 8, name)
	raw := make([]byte, 0, 4*len(v))
	for _, f := range v {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	g.inits = appendMsg(g.inits, 5, b)
}

func buildGraph(m *nn.Model) ([]byte, error) {
	g := &graph{}
	in := m.Arch.Input
	x := InputName
	count := map[string]int{}
	for i, l := range m.Layers {
		if _, ok := l.(*nn.Dropout); ok {
			continue // the identity at inference
		}
		kind := l.Kind()
		count[kind]++
		name := fmt.Sprintf("%s%d", kind, count[kind])
		y := g.value()
		switch l := l.(type) {
		case *nn.Center:
			g.init(name+".offset", nil, []float32{l.Offset})
			g.node("Sub", y, []string{x, name + ".offset"})
		case *nn.Conv2D:
			s, o := l.In(), l.Out()
			g.init(name+".weight", []int{o.C, s.C, 3, 3}, hwioToOIHW(l.W, s.C, o.C))
			g.init(name+".bias", []int{o.C}, l.B)
			g.node("Conv", y, []string{x, name + ".weight", name + ".bias"},
				intsAttr("kernel_shape", 3, 3), intsAttr("strides", 1, 1), intsAttr("pads", 0, 0, 0, 0))
		case *nn.ReLU:
			g.node("Relu", y, []string{x})
		case *nn.MaxPool:
			g.node("MaxPool", y, []string{x}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2))
		case *nn.Flatten:
			t := g.value()
			g.node("Transpose", t, []string{x}, intsAttr("perm", 0, 2, 3, 1))
			g.node("Flatten", y, []string{t}, intAttr("axis", 1))
		case *nn.Dense:
			s, o := l.In(), l.Out()
			if s.H != 1 || s.W != 1 {
				return nil, fmt.Errorf("layer %d: dense on an unflattened %v input", i, s)
			}
			g.init(name+".weight", []int{s.C, o.C}, l.W)
			g.init(name+".bias", []int{o.C}, l.B)
			g.node("Gemm", y, []string{x, name + ".weight", name + ".bias"})
		default:
			return nil, fmt.Errorf("layer %d: %s has no ONNX export", i, kind)
		}
		x = y
	}
	// The last value is renamed to the graph's output by an Identity, so
	// that the output name does not depend on the layer list.
	g.node("Identity", OutputName, []string{x})

	var b []byte
	b = append(b, g.nodes...)
	b = appendString(b, 2, "tadd_"+m.Arch.Name)
	b = append(b, g.inits...)
	b = appendMsg(b, 11, valueInfo(InputName, "N", in.C, in.H, in.W))
	b = appendMsg(b, 12, valueInfo(OutputName, "N", m.Classes()))
	return b, nil
}

// hwioToOIHW reorders a (3, 3, Cin, Cout) conv weight to (Cout, Cin, 3, 3).
func hwioToOIHW(w []float32, cin, cout int) []float32 {
	out := make([]float32, len(w))
	for ky := range 3 {
		for kx := range 3 {
			for ci := range cin {
				for co := range cout {
					out[((co*cin+ci)*3+ky)*3+kx] = w[((ky*3+kx)*cin+ci)*cout+co]
				}
			}
		}
	}
	return out
}

// valueInfo is a ValueInfoProto of a float32 tensor whose first dimension
// is the symbol batch and the others fixed.
func valueInfo(name, batch string, dims ...int) []byte {
	var shape []byte
	shape = appendMsg(shape, 1, appendString(nil, 2, batch)) // Dimension.dim_param
	for _, d := range dims {
		shape = appendMsg(shape, 1, appendInt(nil, 1, int64(d))) // Dimension.dim_value
	}
	tensor := appendMsg(appendInt(nil, 1, tensorFloat), 2, shape) // TypeProto.Tensor{elem_type, shape}
	typ := appendMsg(nil, 1, tensor)                              // TypeProto.tensor_type
	return appendMsg(appendString(nil, 1, name), 2, typ)
}

func intAttr(name string, v int64) []byte {
	b := appendString(nil, 1, name)
	b = appendInt(b, 20, attrInt)
	return appendInt(b, 3, v)
}

func intsAttr(name string, vs ...int64) []byte {
	b := appendString(nil, 1, name)
	b = appendInt(b, 20, attrInts)
	for _, v := range vs {
		b = appendInt(b, 8, v)
	}
	return b
}

func appendInt(b []byte, field protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMsg(b []byte, field protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}
