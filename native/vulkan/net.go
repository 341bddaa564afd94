package vulkan

import (
	"fmt"

	"github.com/tadd-project/tadd/core/nn"
)

// Net is a network resident on the device: its parameters, gradients,
// momentum, activations and their gradients live in device buffers, and a
// training step (forward, loss, backward, update) or an attack's forward
// pass and input gradient is one submission. Only the batch goes in and
// the losses and logits come out. Layers and parameter layout are those of
// the nn.Model it was made from, so weights move between the two as they
// are.
type Net struct {
	d      *Device
	model  *nn.Model // shapes and the CPU side of dropout masks
	layers []netLayer
	batch  int // capacity

	params, grads, vel *Buffer
	acts, dacts        []*Buffer // acts[0] is the input; acts[i+1] the output of layer i
	targets, loss      *Buffer

	rec   *Recorder
	pipes map[string]*Pipeline
}

type netLayer struct {
	kind       string
	in, out    nn.Shape
	woff, boff int     // parameter offsets (conv2d, dense)
	offset     float32 // center
	rate       float32 // dropout
	cols       *Buffer // conv2d: the patch matrix, and its gradient
	dcols      *Buffer
	arg        *Buffer // maxpool: the input each output took
	mask       *Buffer // dropout
}

// pipelineSpecs are the shaders a Net uses: storage buffers and push
// constant words of each.
var pipelineSpecs = map[string][2]int{
	"gemm": {3, 11}, "gemmsmall": {3, 11}, "im2col": {2, 4}, "col2im": {2, 4}, "bias": {2, 3}, "relu": {2, 1}, "relugrad": {3, 1},
	"center": {2, 2}, "mul": {3, 1}, "maxpool": {3, 4}, "maxpoolgrad": {3, 4}, "biasgrad": {2, 3},
	"xent": {4, 4}, "sgd": {3, 4}, "fill": {1, 3},
}

// NewNet puts m on the device for batches of up to batch samples.
func NewNet(d *Device, m *nn.Model, batch int) (*Net, error) {
	n := &Net{d: d, model: m, batch: batch, pipes: map[string]*Pipeline{}}
	fail := func(err error) (*Net, error) { n.Close(); return nil, err }
	for name, spec := range pipelineSpecs {
		p, err := d.NewPipeline(spirv(name), spec[0], 4*spec[1])
		if err != nil {
			return fail(fmt.Errorf("vulkan: %s pipeline: %w", name, err))
		}
		n.pipes[name] = p
	}
	var err error
	if n.rec, err = d.NewRecorder(256); err != nil {
		return fail(err)
	}
	np := len(m.Params)
	for _, b := range []**Buffer{&n.params, &n.grads, &n.vel} {
		if *b, err = d.NewBuffer(np); err != nil {
			return fail(err)
		}
	}
	copy(n.params.Floats(), m.Params)
	in := m.Arch.Input
	if n.acts, err = appendBuffer(d, nil, batch*in.Size()); err != nil {
		return fail(err)
	}
	if n.dacts, err = appendBuffer(d, nil, batch*in.Size()); err != nil {
		return fail(err)
	}
	off := 0
	for i, l := range m.Layers {
		spec := m.Arch.Layers[i]
		nl := netLayer{kind: l.Kind(), in: l.In(), out: l.Out(), offset: spec.Offset, rate: spec.Rate}
		for j, p := range l.Params() {
			size := 1
			for _, s := range p.Shape {
				size *= s
			}
			if j == 0 {
				nl.woff = off
			} else {
				nl.boff = off
			}
			off += size
		}
		switch nl.kind {
		case "conv2d":
			rows, k := batch*nl.out.H*nl.out.W, 9*nl.in.C
			if nl.cols, err = d.NewBuffer(rows * k); err == nil {
				nl.dcols, err = d.NewBuffer(rows * k)
			}
		case "maxpool":
			nl.arg, err = d.NewBuffer(batch * nl.out.Size())
		case "dropout":
			nl.mask, err = d.NewBuffer(batch * nl.out.Size())
		case "center", "relu", "dense", "flatten":
		default:
			err = fmt.Errorf("vulkan: no device layer %q", nl.kind)
		}
		if err != nil {
			return fail(err)
		}
		if nl.kind == "flatten" { // no data moves in NHWC
			n.acts = append(n.acts, n.acts[len(n.acts)-1])
			n.dacts = append(n.dacts, n.dacts[len(n.dacts)-1])
		} else {
			if n.acts, err = appendBuffer(d, n.acts, batch*nl.out.Size()); err == nil {
				n.dacts, err = appendBuffer(d, n.dacts, batch*nl.out.Size())
			}
			if err != nil {
				return fail(err)
			}
		}
		n.layers = append(n.layers, nl)
	}
	if off != np {
		return fail(fmt.Errorf("vulkan: parameter layout of %s: %d of %d", m.Arch.Name, off, np))
	}
	k := m.Classes()
	if n.targets, err = d.NewBuffer(batch * k); err != nil {
		return fail(err)
	}
	if n.loss, err = d.NewBuffer(batch); err != nil {
		return fail(err)
	}
	return n, nil
}

func appendBuffer(d *Device, bs []*Buffer, n int) ([]*Buffer, error) {
	b, err := d.NewBuffer(n)
	if err != nil {
		return bs, err
	}
	return append(bs, b), nil
}

// Close frees every buffer and pipeline of the net (not the device).
func (n *Net) Close() {
	seen := map[*Buffer]bool{}
	free := func(b *Buffer) {
		if b != nil && !seen[b] {
			seen[b] = true
			b.Free()
		}
	}
	for _, b := range append(append([]*Buffer{n.params, n.grads, n.vel, n.targets, n.loss}, n.acts...), n.dacts...) {
		free(b)
	}
	for _, l := range n.layers {
		for _, b := range []*Buffer{l.cols, l.dcols, l.arg, l.mask} {
			free(b)
		}
	}
	if n.rec != nil {
		n.rec.Close()
	}
	for _, p := range n.pipes {
		p.Close()
	}
	n.pipes = nil
}

// Params copies the device's parameters into dst (len(model.Params)).
func (n *Net) Params(dst []float32) { copy(dst, n.params.Floats()[:len(n.model.Params)]) }

// SetParams copies src into the device's parameters.
func (n *Net) SetParams(src []float32) { copy(n.params.Floats(), src) }

// Velocity copies the momentum into dst.
func (n *Net) Velocity(dst []float32) { copy(dst, n.vel.Floats()[:len(n.model.Params)]) }

// SetVelocity copies src into the momentum.
func (n *Net) SetVelocity(src []float32) { copy(n.vel.Floats(), src) }

func (n *Net) dispatch(name string, bufs []*Buffer, push []uint32, total int) error {
	return n.rec.Dispatch(n.pipes[name], bufs, push, groups1D(total))
}

// gemm records C(coff) (+)= A(aoff)·B(boff) with strided A and B.
func (n *Net) gemm(c *Buffer, coff int, a *Buffer, aoff, ars, acs int, b *Buffer, boff, brs, bcs int, m, k, nn int, acc bool) error {
	accU := uint32(0)
	if acc {
		accU = 1
	}
	push := []uint32{uint32(m), uint32(k), uint32(nn), uint32(ars), uint32(acs), uint32(brs), uint32(bcs), accU, uint32(aoff), uint32(boff), uint32(coff)}
	pipe, groups := gemmPipeline(n.pipes, m, nn)
	return n.rec.Dispatch(pipe, []*Buffer{c, a, b}, push, groups)
}

// forward records the forward pass of bs samples; train applies dropout.
func (n *Net) forward(bs int, train bool) error {
	for i, l := range n.layers {
		x, y := n.acts[i], n.acts[i+1]
		var err error
		switch l.kind {
		case "center":
			err = n.dispatch("center", []*Buffer{y, x}, []uint32{uint32(bs * l.in.Size()), f32(l.offset)}, bs*l.in.Size())
		case "conv2d":
			p, k, co := l.out.H*l.out.W, 9*l.in.C, l.out.C
			if err = n.dispatch("im2col", []*Buffer{l.cols, x}, []uint32{uint32(bs), uint32(l.in.H), uint32(l.in.W), uint32(l.in.C)}, bs*p*k); err != nil {
				return err
			}
			if err = n.gemm(y, 0, l.cols, 0, k, 1, n.params, l.woff, co, 1, bs*p, k, co, false); err != nil {
				return err
			}
			err = n.dispatch("bias", []*Buffer{y, n.params}, []uint32{uint32(bs * p * co), uint32(co), uint32(l.boff)}, bs*p*co)
		case "dense":
			ni, no := l.in.Size(), l.out.C
			if err = n.gemm(y, 0, x, 0, ni, 1, n.params, l.woff, no, 1, bs, ni, no, false); err != nil {
				return err
			}
			err = n.dispatch("bias", []*Buffer{y, n.params}, []uint32{uint32(bs * no), uint32(no), uint32(l.boff)}, bs*no)
		case "relu":
			err = n.dispatch("relu", []*Buffer{y, x}, []uint32{uint32(bs * l.in.Size())}, bs*l.in.Size())
		case "maxpool":
			err = n.dispatch("maxpool", []*Buffer{y, l.arg, x}, []uint32{uint32(bs), uint32(l.in.H), uint32(l.in.W), uint32(l.in.C)}, bs*l.out.Size())
		case "dropout":
			if train && l.rate > 0 {
				err = n.dispatch("mul", []*Buffer{y, x, l.mask}, []uint32{uint32(bs * l.in.Size())}, bs*l.in.Size())
			} else { // a copy
				err = n.dispatch("center", []*Buffer{y, x}, []uint32{uint32(bs * l.in.Size()), f32(0)}, bs*l.in.Size())
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// backward records the backward pass from dacts[last] (dz). needDW adds
// the parameter gradients into grads; needInput computes the gradient with
// respect to the input too.
func (n *Net) backward(bs int, train, needDW, needInput bool) error {
	for i := len(n.layers) - 1; i >= 0; i-- {
		l := n.layers[i]
		x, y, dy, dx := n.acts[i], n.acts[i+1], n.dacts[i+1], n.dacts[i]
		// The input gradient of a layer is needed by the layer before it,
		// unless that is only the input shift, or by the caller.
		needDX := needInput || (i > 1 || (i == 1 && n.layers[0].kind != "center"))
		var err error
		switch l.kind {
		case "center":
			if needDX {
				err = n.dispatch("center", []*Buffer{dx, dy}, []uint32{uint32(bs * l.in.Size()), f32(0)}, bs*l.in.Size())
			}
		case "conv2d":
			p, k, co := l.out.H*l.out.W, 9*l.in.C, l.out.C
			if needDW {
				// dW += colsᵀ·dy, db += Σ dy.
				if err = n.gemm(n.grads, l.woff, l.cols, 0, 1, k, dy, 0, co, 1, k, bs*p, co, true); err != nil {
					return err
				}
				if err = n.rec.Dispatch(n.pipes["biasgrad"], []*Buffer{n.grads, dy}, []uint32{uint32(bs * p), uint32(co), uint32(l.boff)}, [3]uint32{uint32(co), 1, 1}); err != nil {
					return err
				}
			}
			if needDX {
				// dcols = dy·Wᵀ (W read transposed in place), dx = col2im(dcols).
				if err = n.gemm(l.dcols, 0, dy, 0, co, 1, n.params, l.woff, 1, co, bs*p, co, k, false); err != nil {
					return err
				}
				err = n.dispatch("col2im", []*Buffer{dx, l.dcols}, []uint32{uint32(bs), uint32(l.in.H), uint32(l.in.W), uint32(l.in.C)}, bs*l.in.Size())
			}
		case "dense":
			ni, no := l.in.Size(), l.out.C
			if needDW {
				if err = n.gemm(n.grads, l.woff, x, 0, 1, ni, dy, 0, no, 1, ni, bs, no, true); err != nil {
					return err
				}
				if err = n.rec.Dispatch(n.pipes["biasgrad"], []*Buffer{n.grads, dy}, []uint32{uint32(bs), uint32(no), uint32(l.boff)}, [3]uint32{uint32(no), 1, 1}); err != nil {
					return err
				}
			}
			if needDX {
				err = n.gemm(dx, 0, dy, 0, no, 1, n.params, l.woff, 1, no, bs, no, ni, false)
			}
		case "relu":
			if needDX {
				err = n.dispatch("relugrad", []*Buffer{dx, dy, y}, []uint32{uint32(bs * l.in.Size())}, bs*l.in.Size())
			}
		case "maxpool":
			if needDX {
				err = n.dispatch("maxpoolgrad", []*Buffer{dx, dy, l.arg}, []uint32{uint32(bs), uint32(l.in.H), uint32(l.in.W), uint32(l.in.C)}, bs*l.in.Size())
			}
		case "dropout":
			if needDX && train && l.rate > 0 {
				err = n.dispatch("mul", []*Buffer{dx, dy, l.mask}, []uint32{uint32(bs * l.in.Size())}, bs*l.in.Size())
			} else if needDX {
				err = n.dispatch("center", []*Buffer{dx, dy}, []uint32{uint32(bs * l.in.Size()), f32(0)}, bs*l.in.Size())
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Step is one training step's settings.
type Step struct {
	Temperature  float32
	LearningRate float32 // this step's, after decay
	Momentum     float32
	Nesterov     bool
}

// TrainStep runs one SGD step on a batch of bs samples x with targets
// (bs × classes, hard or soft) and the dropout masks of the net's dropout
// layers in order (bs × units each, values 0 or 1/(1-rate)), all in one
// submission. It returns the mean loss and the logits (valid until the
// next call).
func (n *Net) TrainStep(x, targets []float32, masks [][]float32, bs int, s Step) (float64, []float32, error) {
	if bs <= 0 || bs > n.batch {
		return 0, nil, fmt.Errorf("vulkan: batch of %d, the net holds %d", bs, n.batch)
	}
	is, k := n.model.InputSize(), n.model.Classes()
	if len(x) < bs*is || len(targets) < bs*k {
		return 0, nil, fmt.Errorf("vulkan: %d inputs and %d targets for a batch of %d", len(x), len(targets), bs)
	}
	copy(n.acts[0].Floats(), x[:bs*is])
	copy(n.targets.Floats(), targets[:bs*k])
	mi := 0
	for _, l := range n.layers {
		if l.kind != "dropout" || l.rate <= 0 {
			continue
		}
		if mi >= len(masks) || len(masks[mi]) < bs*l.in.Size() {
			return 0, nil, fmt.Errorf("vulkan: dropout mask %d missing or short", mi)
		}
		copy(l.mask.Floats(), masks[mi][:bs*l.in.Size()])
		mi++
	}
	np := len(n.model.Params)
	last := len(n.layers)
	err := n.record(func() error {
		if err := n.dispatch("fill", []*Buffer{n.grads}, []uint32{uint32(np), 0, f32(0)}, np); err != nil {
			return err
		}
		if err := n.forward(bs, true); err != nil {
			return err
		}
		scale := 1 / (s.Temperature * float32(bs))
		if err := n.dispatch("xent", []*Buffer{n.dacts[last], n.loss, n.acts[last], n.targets},
			[]uint32{uint32(bs), uint32(k), f32(s.Temperature), f32(scale)}, bs); err != nil {
			return err
		}
		if err := n.backward(bs, true, true, false); err != nil {
			return err
		}
		nest := uint32(0)
		if s.Nesterov {
			nest = 1
		}
		return n.dispatch("sgd", []*Buffer{n.params, n.vel, n.grads}, []uint32{uint32(np), f32(s.LearningRate), f32(s.Momentum), nest}, np)
	})
	if err != nil {
		return 0, nil, err
	}
	var loss float64
	for _, v := range n.loss.Floats()[:bs] {
		loss += float64(v)
	}
	return loss / float64(bs), n.acts[last].Floats()[:bs*k], nil
}

// record runs fn between Begin and Submit.
func (n *Net) record(fn func() error) error {
	if err := n.rec.Begin(); err != nil {
		return err
	}
	if err := fn(); err != nil {
		n.rec.Abort()
		return err
	}
	return n.rec.Submit()
}

// Forward computes the logits of bs samples (inference: no dropout) in one
// submission; the activations stay on the device for InputGradient.
func (n *Net) Forward(x []float32, bs int) ([]float32, error) {
	if bs <= 0 || bs > n.batch || len(x) < bs*n.model.InputSize() {
		return nil, fmt.Errorf("vulkan: %d values for a batch of %d (the net holds %d)", len(x), bs, n.batch)
	}
	copy(n.acts[0].Floats(), x[:bs*n.model.InputSize()])
	if err := n.record(func() error { return n.forward(bs, false) }); err != nil {
		return nil, err
	}
	return n.acts[len(n.layers)].Floats()[:bs*n.model.Classes()], nil
}

// InputGradient computes d(Σ dz·Z)/dx for the batch of the last Forward.
func (n *Net) InputGradient(dz []float32, bs int) ([]float32, error) {
	k := n.model.Classes()
	if bs <= 0 || bs > n.batch || len(dz) < bs*k {
		return nil, fmt.Errorf("vulkan: %d logit gradients for a batch of %d", len(dz), bs)
	}
	copy(n.dacts[len(n.layers)].Floats(), dz[:bs*k])
	if err := n.record(func() error { return n.backward(bs, false, false, true) }); err != nil {
		return nil, err
	}
	return n.dacts[0].Floats()[:bs*n.model.InputSize()], nil
}
