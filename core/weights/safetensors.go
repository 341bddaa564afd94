package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
)

// DType is a tensor element type this package reads and writes.
type DType string

// The supported element types.
const (
	F32 DType = "F32"
	F16 DType = "F16"
)

func (d DType) size() int {
	switch d {
	case F32:
		return 4
	case F16:
		return 2
	}
	return 0
}

// maxHeader bounds the JSON header (the spec allows 100 MB).
const maxHeader = 100 << 20

// FormatError reports a weight file that cannot be used.
type FormatError struct{ Reason string }

func (e *FormatError) Error() string { return "weight file: " + e.Reason }

func formatErr(format string, args ...any) error {
	return &FormatError{Reason: fmt.Sprintf(format, args...)}
}

type tensorHeader struct {
	DType DType `json:"dtype"`
	Shape []int `json:"shape"`
	// DataOffsets is [begin, end); a slice, not an array, so that a
	// header with another count of numbers is seen and rejected.
	DataOffsets []int64 `json:"data_offsets"`
}

// Tensor is one decoded tensor, converted to float32.
type Tensor struct {
	Shape []int
	DType DType // the element type stored in the file
	Data  []float32
}

// File is a decoded safetensors file.
type File struct {
	Metadata map[string]string
	Tensors  map[string]Tensor
}

// Encode writes the model's parameters and meta to w, with every tensor in
// dtype. It refuses non-finite weights, and with F16, weights beyond the
// half-precision range.
func Encode(w io.Writer, m *nn.Model, meta Metadata, dtype DType) error {
	return encode(w, m, meta, dtype, nil)
}

// optimizerPrefix marks tensors that are not model parameters: a
// checkpoint's optimizer state. Load ignores them.
const optimizerPrefix = "optimizer."

// Checkpoint is the training state saved with a model so that an
// interrupted run resumes exactly.
type Checkpoint struct {
	Epoch      int       // epochs completed
	Iterations int64     // optimizer updates applied
	Velocity   []float32 // momentum, same layout as the parameters
	Workers    int       // replicas the CPU trained on (train.State.Workers); 0 = not recorded
}

// EncodeCheckpoint writes the model in F32 with the optimizer state.
func EncodeCheckpoint(w io.Writer, m *nn.Model, meta Metadata, c Checkpoint) error {
	if len(c.Velocity) != len(m.Params) {
		return fmt.Errorf("encode checkpoint: %d momentum values for %d parameters", len(c.Velocity), len(m.Params))
	}
	meta.Epochs = c.Epoch
	return encode(w, m, meta, F32, &c)
}

// LoadCheckpoint reads a file written by EncodeCheckpoint.
func LoadCheckpoint(b []byte, kern kernel.Kernels) (*nn.Model, Metadata, Checkpoint, error) {
	m, meta, f, err := load(b, kern)
	if err != nil {
		return nil, meta, Checkpoint{}, err
	}
	v, ok := f.Tensors[optimizerPrefix+"velocity"]
	if !ok || len(v.Data) != len(m.Params) {
		return nil, meta, Checkpoint{}, formatErr("not a checkpoint: optimizer.velocity missing or of the wrong size")
	}
	it, err := strconv.ParseInt(f.Metadata["optimizer_iterations"], 10, 64)
	if err != nil || it < 0 {
		return nil, meta, Checkpoint{}, formatErr("checkpoint: bad optimizer_iterations %q", f.Metadata["optimizer_iterations"])
	}
	workers := 0
	if w, ok := f.Metadata["optimizer_workers"]; ok {
		if workers, err = strconv.Atoi(w); err != nil || workers < 0 {
			return nil, meta, Checkpoint{}, formatErr("checkpoint: bad optimizer_workers %q", w)
		}
	}
	return m, meta, Checkpoint{Epoch: meta.Epochs, Iterations: it, Velocity: v.Data, Workers: workers}, nil
}

func encode(w io.Writer, m *nn.Model, meta Metadata, dtype DType, ckpt *Checkpoint) error {
	if dtype.size() == 0 {
		return fmt.Errorf("encode: unsupported dtype %q", dtype)
	}
	if meta.Arch == "" {
		meta.Arch = m.Arch.Name
	}
	if meta.Arch != m.Arch.Name {
		return fmt.Errorf("encode: metadata arch %q but model is %q", meta.Arch, m.Arch.Name)
	}
	mm := meta.toMap()
	params := m.NamedParams()
	values := m.Params
	if ckpt != nil {
		mm["optimizer_iterations"] = strconv.FormatInt(ckpt.Iterations, 10)
		if ckpt.Workers > 0 {
			mm["optimizer_workers"] = strconv.Itoa(ckpt.Workers)
		}
		off := len(m.Params)
		params = append(params, nn.NamedParam{Name: optimizerPrefix + "velocity", Shape: []int{len(ckpt.Velocity)}, Offset: off, Size: len(ckpt.Velocity)})
		values = append(append(make([]float32, 0, 2*off), m.Params...), ckpt.Velocity...)
	}
	header := map[string]any{"__metadata__": mm}
	var off int64
	for _, p := range params {
		n := int64(p.Size * dtype.size())
		header[p.Name] = tensorHeader{DType: dtype, Shape: p.Shape, DataOffsets: []int64{off, off + n}}
		off += n
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("encode header: %w", err)
	}
	// Pad the header with spaces to a multiple of 8, as the reference writer does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	buf := make([]byte, 8, 8+len(hj)+int(off))
	binary.LittleEndian.PutUint64(buf, uint64(len(hj)))
	buf = append(buf, hj...)
	for _, p := range params {
		for _, v := range values[p.Offset : p.Offset+p.Size] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("encode %s: non-finite weight %v", p.Name, v)
			}
			switch dtype {
			case F32:
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			case F16:
				if math.Abs(float64(v)) > 65504 {
					return fmt.Errorf("encode %s: weight %v beyond the F16 range", p.Name, v)
				}
				buf = binary.LittleEndian.AppendUint16(buf, float32ToHalf(v))
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}

// Decode parses and validates a whole safetensors file held in b.
func Decode(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, formatErr("%d bytes is too short for a safetensors header", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, formatErr("header length %d does not fit in a %d-byte file (truncated or not safetensors)", n, len(b))
	}
	raw := map[string]json.RawMessage{}
	hb := b[8 : 8+n]
	dec := json.NewDecoder(bytes.NewReader(hb))
	if err := dec.Decode(&raw); err != nil {
		return nil, formatErr("header is not a JSON object: %v", err)
	}
	// Only the padding (spaces, as the reference writer puts) may follow.
	if rest := hb[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return nil, formatErr("%d bytes after the header's JSON object that are not padding", len(bytes.TrimLeft(rest, " \t\r\n")))
	}
	data := b[8+n:]
	f := &File{Metadata: map[string]string{}, Tensors: map[string]Tensor{}}
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	// In name order, so that a file with several bad tensors is reported
	// by the same one every time.
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		msg := raw[name]
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, formatErr("__metadata__ is not a string map: %v", err)
			}
			continue
		}
		var th tensorHeader
		if err := json.Unmarshal(msg, &th); err != nil {
			return nil, formatErr("tensor %q: bad header entry: %v", name, err)
		}
		if len(th.DataOffsets) != 2 {
			return nil, formatErr("tensor %q: data_offsets has %d numbers, want 2 (begin, end)", name, len(th.DataOffsets))
		}
		es := th.DType.size()
		if es == 0 {
			return nil, formatErr("tensor %q: unsupported dtype %q (want F32 or F16)", name, th.DType)
		}
		count := int64(1)
		for _, d := range th.Shape {
			if d < 0 || d > 1<<30 {
				return nil, formatErr("tensor %q: bad dimension %d", name, d)
			}
			count *= int64(d)
			if count > int64(len(data)) {
				return nil, formatErr("tensor %q: shape %v larger than the file (truncated?)", name, th.Shape)
			}
		}
		begin, end := th.DataOffsets[0], th.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(data)) {
			return nil, formatErr("tensor %q: data offsets [%d, %d] outside the %d data bytes (truncated?)", name, begin, end, len(data))
		}
		if end-begin != count*int64(es) {
			return nil, formatErr("tensor %q: %d bytes for shape %v of %s", name, end-begin, th.Shape, th.DType)
		}
		vals := make([]float32, count)
		src := data[begin:end]
		for i := range vals {
			if th.DType == F32 {
				vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
			} else {
				vals[i] = halfToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
			}
			if math.IsNaN(float64(vals[i])) || math.IsInf(float64(vals[i]), 0) {
				return nil, formatErr("tensor %q: non-finite value at %d", name, i)
			}
		}
		f.Tensors[name] = Tensor{Shape: th.Shape, DType: th.DType, Data: vals}
		spans = append(spans, span{name, begin, end})
	}
	sort.Slice(spans, func(i, j int) bool {
		return spans[i].begin < spans[j].begin || (spans[i].begin == spans[j].begin && spans[i].end < spans[j].end)
	})
	var pos int64
	for _, s := range spans {
		if s.begin != pos {
			return nil, formatErr("tensor %q starts at %d, expected %d (hole or overlap)", s.name, s.begin, pos)
		}
		pos = s.end
	}
	if pos != int64(len(data)) {
		return nil, formatErr("%d data bytes after the last tensor", int64(len(data))-pos)
	}
	return f, nil
}

// Load decodes a model file: it builds the architecture its metadata names
// on kern (kernel.Default() when nil) and fills in every parameter, checking
// that names and shapes match exactly, and that a forward pass on probe
// inputs is finite (see CheckFinite).
func Load(b []byte, kern kernel.Kernels) (*nn.Model, Metadata, error) {
	m, meta, _, err := load(b, kern)
	if err != nil {
		return nil, meta, err
	}
	if err := CheckFinite(m); err != nil {
		return nil, meta, err
	}
	return m, meta, nil
}

func load(b []byte, kern kernel.Kernels) (*nn.Model, Metadata, *File, error) {
	f, err := Decode(b)
	if err != nil {
		return nil, Metadata{}, nil, err
	}
	if f.Metadata["format"] != "tadd" {
		return nil, Metadata{}, nil, formatErr("not a TADD model (metadata format %q)", f.Metadata["format"])
	}
	meta, err := metadataFromMap(f.Metadata)
	if err != nil {
		return nil, meta, nil, formatErr("%v", err)
	}
	arch, err := nn.ArchByName(meta.Arch)
	if err != nil {
		return nil, meta, nil, formatErr("%v", err)
	}
	m, err := nn.New(arch, kern)
	if err != nil {
		return nil, meta, nil, err
	}
	params := m.NamedParams()
	count := 0
	for name := range f.Tensors {
		if !strings.HasPrefix(name, optimizerPrefix) {
			count++
		}
	}
	if len(params) != count {
		return nil, meta, nil, formatErr("%d tensors, architecture %q has %d", count, arch.Name, len(params))
	}
	for _, p := range params {
		t, ok := f.Tensors[p.Name]
		if !ok {
			return nil, meta, nil, formatErr("tensor %q missing", p.Name)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(p.Shape) {
			return nil, meta, nil, formatErr("tensor %q has shape %v, architecture %q needs %v", p.Name, t.Shape, arch.Name, p.Shape)
		}
		copy(m.Params[p.Offset:p.Offset+p.Size], t.Data)
	}
	return m, meta, f, nil
}
