package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/nn"
)

func tinyModel(t testing.TB) *nn.Model {
	m, err := nn.New(nn.TinyArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(5)
	return m
}

var testMeta = Metadata{Identity: catalog.Identity{Dataset: "mnist", Arch: "tiny", Temperature: 20, Role: "assistant", Step: 1, Parent: "teacher.safetensors", Seed: 9, Epochs: 3, TestAccuracy: 0.97}, Config: `{"lr":0.01}`}

func encodeModel(t testing.TB, m *nn.Model, dt DType) []byte {
	var b bytes.Buffer
	if err := Encode(&b, m, testMeta, dt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	m := tinyModel(t)
	for _, dt := range []DType{F32, F16} {
		b := encodeModel(t, m, dt)
		got, meta, err := Load(b, nil)
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		f, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for name, tn := range f.Tensors {
			if tn.DType != dt {
				t.Fatalf("%s: tensor %s decoded as %s", dt, name, tn.DType)
			}
		}
		if meta != testMeta {
			t.Fatalf("%s: metadata %+v, want %+v", dt, meta, testMeta)
		}
		for i, v := range m.Params {
			tol := 0.0
			if dt == F16 {
				tol = math.Abs(float64(v))/1024 + 1e-7
			}
			if math.Abs(float64(got.Params[i]-v)) > tol {
				t.Fatalf("%s: param %d = %v, want %v", dt, i, got.Params[i], v)
			}
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	m := tinyModel(t)
	vel := make([]float32, len(m.Params))
	for i := range vel {
		vel[i] = float32(i) * 1e-3
	}
	var b bytes.Buffer
	if err := EncodeCheckpoint(&b, m, testMeta, Checkpoint{Epoch: 7, Iterations: 3281, Workers: 3, Velocity: vel}); err != nil {
		t.Fatal(err)
	}
	got, meta, ck, err := LoadCheckpoint(b.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Epoch != 7 || meta.Epochs != 7 || ck.Iterations != 3281 || ck.Workers != 3 || ck.Velocity[100] != vel[100] || got.Params[5] != m.Params[5] {
		t.Fatalf("checkpoint %+v meta %+v", ck.Epoch, meta)
	}
	// A checkpoint is also a plain model file.
	if _, _, err := Load(b.Bytes(), nil); err != nil {
		t.Fatal(err)
	}
	// A plain model file is not a checkpoint.
	if _, _, _, err := LoadCheckpoint(encodeModel(t, m, F32), nil); err == nil {
		t.Fatal("plain model accepted as a checkpoint")
	}
}

func TestHalfConversion(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {0.5, 0x3800},
		{5.960464477539063e-08, 0x0001}, // smallest subnormal
		{6.103515625e-05, 0x0400},       // smallest normal
		{1.0009765625, 0x3c01}, {0.333251953125, 0x3555},
	}
	for _, c := range cases {
		if got := float32ToHalf(c.f); got != c.h {
			t.Errorf("float32ToHalf(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
		if got := halfToFloat32(c.h); got != c.f {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", c.h, got, c.f)
		}
	}
	// Every finite half survives a round trip.
	for h := range uint32(0x10000) {
		if (h>>10)&0x1f == 0x1f {
			continue
		}
		if got := float32ToHalf(halfToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("round trip of %#04x gives %#04x", h, got)
		}
	}
}

func TestDecodeRejectsCorruptFiles(t *testing.T) {
	m := tinyModel(t)
	good := encodeModel(t, m, F32)
	hlen := binary.LittleEndian.Uint64(good)
	header := string(good[8 : 8+hlen])
	withHeader := func(h string) []byte {
		for len(h)%8 != 0 {
			h += " "
		}
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		b = append(b, h...)
		return append(b, good[8+hlen:]...)
	}
	nanFile := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(nanFile[8+hlen:], math.Float32bits(float32(math.NaN())))
	otherArch, _ := nn.New(nn.MNISTArch(), nil)
	var mnistFile bytes.Buffer
	Encode(&mnistFile, otherArch, Metadata{Identity: catalog.Identity{Arch: "mnist", Temperature: 1}}, F16)
	mnistBytes := mnistFile.Bytes()
	mnistH := binary.LittleEndian.Uint64(mnistBytes)

	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"truncated data", good[:len(good)-10], "truncated"},
		{"truncated header", good[:8+hlen/2], "does not fit"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<40), good[8:]...), "does not fit"},
		{"not json", withHeader("{nope"), "not a JSON"},
		{"unknown dtype", withHeader(strings.Replace(header, `"F32"`, `"I64"`, 1)), "unsupported dtype"},
		{"extra bytes", append(append([]byte(nil), good...), 1, 2, 3, 4), "after the last tensor"},
		{"NaN weight", nanFile, "non-finite"},
		{"wrong version", withHeader(strings.Replace(header, `"format_version":"1"`, `"format_version":"9"`, 1)), "format_version"},
		{"unknown arch", withHeader(strings.Replace(header, `"arch":"tiny"`, `"arch":"vgg"`, 1)), "unknown architecture"},
		{"arch mismatch", withHeader(strings.Replace(header, `"arch":"tiny"`, `"arch":"mnist"`, 1)), "tensors"},
		{"bad temperature", withHeader(strings.Replace(header, `"temperature":"20"`, `"temperature":"-1"`, 1)), "temperature"},
		{"not tadd", withHeader(strings.Replace(header, `"format":"tadd"`, `"format":"xxxx"`, 1)), "not a TADD model"},
		{"truncated f16 mnist", mnistBytes[:8+mnistH+1000], "truncated"},
		{"garbage after the header JSON", withHeader(header + `xyz`), "after the header's JSON"},
		{"second JSON value in the header", withHeader(header + `{}`), "after the header's JSON"},
		{"three data offsets", withHeader(strings.Replace(header, `"data_offsets":[0,`, `"data_offsets":[0,0,`, 1)), "data_offsets"},
		{"one data offset", withHeader(strings.Replace(header, `"data_offsets":[0,`, `"data_offsets":[`, 1)), "data_offsets"},
		{"infinite temperature", withHeader(strings.Replace(header, `"temperature":"20"`, `"temperature":"+Inf"`, 1)), "temperature"},
		{"NaN temperature", withHeader(strings.Replace(header, `"temperature":"20"`, `"temperature":"NaN"`, 1)), "temperature"},
		{"negative step", withHeader(strings.Replace(header, `"step":"1"`, `"step":"-1"`, 1)), "step"},
		{"negative epochs", withHeader(strings.Replace(header, `"epochs":"3"`, `"epochs":"-3"`, 1)), "epochs"},
		{"NaN test accuracy", withHeader(strings.Replace(header, `"test_accuracy":"0.97"`, `"test_accuracy":"NaN"`, 1)), "test_accuracy"},
		{"test accuracy above 1", withHeader(strings.Replace(header, `"test_accuracy":"0.97"`, `"test_accuracy":"1.5"`, 1)), "test_accuracy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Load(c.file, nil)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// TestDecodeNamesTheSameTensorEveryRun: with several bad tensors the
// error names the first by name, not whichever map order gives.
func TestDecodeNamesTheSameTensorEveryRun(t *testing.T) {
	m := tinyModel(t)
	good := encodeModel(t, m, F32)
	hlen := binary.LittleEndian.Uint64(good)
	h := strings.ReplaceAll(string(good[8:8+hlen]), `"F32"`, `"I64"`)
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(append(b, h...), good[8+hlen:]...)
	first := ""
	for range 30 {
		_, err := Decode(b)
		if err == nil {
			t.Fatal("decoded tensors of dtype I64")
		}
		if first == "" {
			first = err.Error()
		}
		if err.Error() != first {
			t.Fatalf("error changes between runs: %q, then %q", first, err)
		}
	}
}

func TestEncodeRefusesNonFinite(t *testing.T) {
	m := tinyModel(t)
	m.Params[3] = float32(math.Inf(1))
	if err := Encode(&bytes.Buffer{}, m, testMeta, F32); err == nil {
		t.Fatal("encoded an infinite weight")
	}
	m.Params[3] = 1e6
	if err := Encode(&bytes.Buffer{}, m, testMeta, F16); err == nil {
		t.Fatal("encoded a weight beyond the F16 range as F16")
	}
}

func FuzzDecode(f *testing.F) {
	m := tinyModel(f)
	f.Add(encodeModel(f, m, F32))
	f.Add(encodeModel(f, m, F16))
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}              "))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		for name, tn := range file.Tensors {
			n := 1
			for _, d := range tn.Shape {
				n *= d
			}
			if n != len(tn.Data) {
				t.Fatalf("tensor %s: %d values for shape %v", name, len(tn.Data), tn.Shape)
			}
		}
		Load(b, nil) // must not panic
	})
}

func ExampleEncode() {
	m, _ := nn.New(nn.TinyArch(), nil)
	m.Init(1)
	var file bytes.Buffer
	if err := Encode(&file, m, Metadata{Identity: catalog.Identity{Dataset: "mnist", Temperature: 10, Role: catalog.Role(0)}}, F16); err != nil {
		panic(err)
	}
	loaded, meta, err := Load(file.Bytes(), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(meta.Arch, meta.Role, meta.Temperature, len(loaded.Params))
	// Output: tiny teacher 10 7098
}
