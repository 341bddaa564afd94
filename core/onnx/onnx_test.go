package onnx

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tadd-project/tadd/core/nn"
)

// fields parses one protobuf message into field number -> raw values
// (varints as uint64, length-delimited as []byte).
func fields(t *testing.T, b []byte) map[protowire.Number][]any {
	t.Helper()
	out := map[protowire.Number][]any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			out[num] = append(out[num], v)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			out[num] = append(out[num], v)
			b = b[n:]
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
	}
	return out
}

func TestExportStructure(t *testing.T) {
	for _, c := range []struct {
		arch  nn.Arch
		ops   []string
		input []int
	}{
		{nn.MNISTArch(), strings.Fields("Sub Conv Relu Conv Relu MaxPool Conv Relu Conv Relu MaxPool Transpose Flatten Gemm Relu Gemm Relu Gemm Identity"), []int{1, 28, 28}},
		{nn.TinyCIFARArch(), strings.Fields("Sub Conv Relu MaxPool Conv Relu MaxPool Transpose Flatten Gemm Relu Gemm Identity"), []int{3, 32, 32}},
	} {
		t.Run(c.arch.Name, func(t *testing.T) {
			m, err := nn.New(c.arch, nil)
			if err != nil {
				t.Fatal(err)
			}
			m.Init(1)
			var b bytes.Buffer
			if err := Export(&b, m, "test", map[string]string{"b": "2", "a": "1"}); err != nil {
				t.Fatal(err)
			}
			model := fields(t, b.Bytes())
			if model[1][0].(uint64) != IRVersion {
				t.Errorf("ir_version %v", model[1])
			}
			if op := fields(t, model[8][0].([]byte)); op[2][0].(uint64) != Opset || op[1] != nil {
				t.Errorf("opset_import %v", op)
			}
			if len(model[14]) != 2 || string(fields(t, model[14][0].([]byte))[1][0].([]byte)) != "a" {
				t.Errorf("metadata_props %v, want a then b", model[14])
			}
			g := fields(t, model[7][0].([]byte))
			var ops []string
			for _, n := range g[1] {
				ops = append(ops, string(fields(t, n.([]byte))[4][0].([]byte)))
			}
			if !slices.Equal(ops, c.ops) {
				t.Errorf("ops %v, want %v", ops, c.ops)
			}
			// The initializers hold every parameter (and the centre offset)
			// as float32 raw data.
			floats := 0
			for _, init := range g[5] {
				tp := fields(t, init.([]byte))
				if tp[2][0].(uint64) != tensorFloat {
					t.Errorf("initializer of type %v", tp[2])
				}
				raw := tp[9][0].([]byte)
				size := 1
				for _, d := range tp[1] {
					size *= int(d.(uint64))
				}
				if len(raw) != 4*size {
					t.Errorf("initializer %s: %d bytes for dims %v", tp[8][0], len(raw), tp[1])
				}
				floats += size
			}
			if floats != len(m.Params)+1 {
				t.Errorf("%d floats in initializers, want %d parameters + 1", floats, len(m.Params))
			}
			// Input: (N, C, H, W) with N symbolic.
			vi := fields(t, g[11][0].([]byte))
			shape := fields(t, fields(t, fields(t, vi[2][0].([]byte))[1][0].([]byte))[2][0].([]byte))
			var dims []int
			for i, d := range shape[1] {
				df := fields(t, d.([]byte))
				if i == 0 {
					if string(df[2][0].([]byte)) != "N" {
						t.Errorf("batch dim %v", df)
					}
					continue
				}
				dims = append(dims, int(df[1][0].(uint64)))
			}
			if string(vi[1][0].([]byte)) != InputName || !slices.Equal(dims, c.input) {
				t.Errorf("input %s %v, want %s %v", vi[1][0], dims, InputName, c.input)
			}
		})
	}
}

func TestHWIOToOIHW(t *testing.T) {
	const cin, cout = 2, 3
	w := make([]float32, 9*cin*cout)
	for i := range w {
		w[i] = float32(i)
	}
	got := hwioToOIHW(w, cin, cout)
	// OIHW index ((co*cin+ci)*3+ky)*3+kx holds HWIO index ((ky*3+kx)*cin+ci)*cout+co.
	for _, c := range []struct{ oihw, hwio int }{
		{0, 0},   // (0, 0, 0, 0)
		{1, 6},   // co 0, ci 0, ky 0, kx 1
		{9, 3},   // co 0, ci 1, ky 0, kx 0
		{18, 1},  // co 1, ci 0, ky 0, kx 0
		{50, 35}, // co 2, ci 1, ky 1, kx 2
	} {
		if got[c.oihw] != float32(c.hwio) {
			t.Errorf("OIHW[%d] = %v, want HWIO[%d]", c.oihw, got[c.oihw], c.hwio)
		}
	}
}

func TestExportRejectsDenseOnFeatureMaps(t *testing.T) {
	a := nn.Arch{Name: "noflatten", Input: nn.Shape{H: 8, W: 8, C: 1}, Classes: 10,
		Layers: []nn.LayerSpec{{Kind: "conv2d", Units: 2}, {Kind: "dense", Units: 10}}}
	m, err := nn.New(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Export(&bytes.Buffer{}, m, "test", nil); err == nil || !strings.Contains(err.Error(), "unflattened") {
		t.Fatalf("dense on feature maps: %v", err)
	}
}
