package vulkan

import (
	"embed"
	"fmt"
	"sync"

	"github.com/tadd-project/tadd/core/kernel"
)

// shaders holds the SPIR-V of every compute shader (shaders/*.comp,
// compiled by go generate).
//
//go:embed shaders/*.spv
var shaders embed.FS

// spirv returns the compiled shader name (without extension).
func spirv(name string) []byte {
	b, err := shaders.ReadFile("shaders/" + name + ".spv")
	if err != nil {
		panic("vulkan: no shader " + name) // a build error: the .spv files are embedded
	}
	return b
}

// gemmPush is the gemm shader's push constants.
const gemmPush = 11 * 4

// Kernels is a kernel.Kernels whose GEMM runs on a Vulkan device. This
// first step of the GPU backend copies the operands into device-visible
// buffers on each call and the result back; the layers stay on the CPU.
type Kernels struct {
	d     *Device
	pipes map[string]*Pipeline // gemm and gemmsmall
	rec   *Recorder

	mu      sync.Mutex
	a, b, c *Buffer
}

// NewKernels builds the compute pipelines on d.
func NewKernels(d *Device) (*Kernels, error) {
	k := &Kernels{d: d, pipes: map[string]*Pipeline{}}
	for _, name := range []string{"gemm", "gemmsmall"} {
		p, err := d.NewPipeline(spirv(name), 3, gemmPush)
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("vulkan: %s pipeline: %w", name, err)
		}
		k.pipes[name] = p
	}
	rec, err := d.NewRecorder(1)
	if err != nil {
		k.Close()
		return nil, err
	}
	k.rec = rec
	return k, nil
}

// Name says which device runs the kernels.
func (k *Kernels) Name() string { return "vulkan: " + k.d.Info.String() }

// Close releases the buffers and pipelines (not the device).
func (k *Kernels) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, b := range []*Buffer{k.a, k.b, k.c} {
		if b != nil {
			b.Free()
		}
	}
	k.a, k.b, k.c = nil, nil, nil
	if k.rec != nil {
		k.rec.Close()
	}
	for _, p := range k.pipes {
		p.Close()
	}
}

// ensure returns buf, reallocated when it holds fewer than n floats.
func (k *Kernels) ensure(buf **Buffer, n int) error {
	if *buf != nil && (*buf).Len() >= n {
		return nil
	}
	if *buf != nil {
		(*buf).Free()
		*buf = nil
	}
	b, err := k.d.NewBuffer(max(n, 1024))
	if err != nil {
		return err
	}
	*buf = b
	return nil
}

// Gemm computes C = A·B, or C += A·B, as kernel.Kernels documents, on the
// device. A device failure panics: the kernel seam has no error path, and
// a half-computed product must not pass for a result.
func (k *Kernels) Gemm(c, a, b []float32, m, kk, n, ars, acs int, accumulate bool) {
	if m == 0 || n == 0 {
		return
	}
	if kk == 0 {
		if !accumulate {
			clear(c[:m*n])
		}
		return
	}
	kernel.CheckGemm(c, a, b, m, kk, n, ars, acs)
	alen := (m-1)*ars + (kk-1)*acs + 1
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range []struct {
		buf **Buffer
		n   int
	}{{&k.a, alen}, {&k.b, kk * n}, {&k.c, m * n}} {
		if err := k.ensure(e.buf, e.n); err != nil {
			panic(err)
		}
	}
	copy(k.a.Floats(), a[:alen])
	copy(k.b.Floats(), b[:kk*n])
	acc := uint32(0)
	if accumulate {
		acc = 1
		copy(k.c.Floats(), c[:m*n])
	}
	push := []uint32{uint32(m), uint32(kk), uint32(n), uint32(ars), uint32(acs), uint32(n), 1, acc, 0, 0, 0}
	pipe, groups := gemmPipeline(k.pipes, m, n)
	err := k.rec.Begin()
	if err == nil {
		if err = k.rec.Dispatch(pipe, []*Buffer{k.c, k.a, k.b}, push, groups); err != nil {
			k.rec.Abort()
		} else {
			err = k.rec.Submit()
		}
	}
	if err != nil {
		panic(err)
	}
	copy(c[:m*n], k.c.Floats())
}

// gemmPipeline picks the GEMM variant for an m×n product and its
// workgroup counts: 64×64 tiles with 4×4 per invocation, or 16×16 tiles
// when either side is under 64 (most of a big tile would idle).
func gemmPipeline(pipes map[string]*Pipeline, m, n int) (*Pipeline, [3]uint32) {
	if m >= 64 && n >= 64 {
		return pipes["gemm"], [3]uint32{uint32((n + 63) / 64), uint32((m + 63) / 64), 1}
	}
	return pipes["gemmsmall"], [3]uint32{uint32((n + 15) / 16), uint32((m + 15) / 16), 1}
}
