package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tadd-project/tadd/core/kernel"
)

const fdEps = 1e-7

// closeEnough compares an analytic float32 gradient with a float64
// finite-difference one, relative to the gradient's scale.
func closeEnough(got float32, want, scale float64) bool {
	return math.Abs(float64(got)-want) <= 2e-3*scale+1e-5
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func kernelsUnderTest() []kernel.Kernels {
	ks := []kernel.Kernels{kernel.Portable{}}
	if d := kernel.Default(); d.Name() != "portable" {
		ks = append(ks, d)
	}
	return ks
}

// TestLayerGradients checks, for every layer kind, that Backward's
// parameter and input gradients of L = Σ r·y (r random) match central
// differences of the float64 reference forward.
func TestLayerGradients(t *testing.T) {
	cases := []struct {
		name  string
		layer func(k kernel.Kernels) Layer
	}{
		{"conv2d_5x6x2_to3", func(k kernel.Kernels) Layer { return NewConv2D(Shape{5, 6, 2}, 3, k) }},
		{"conv2d_7x7x1_to32", func(k kernel.Kernels) Layer { return NewConv2D(Shape{7, 7, 1}, 32, k) }},
		{"conv2d_6x6x17_to20", func(k kernel.Kernels) Layer { return NewConv2D(Shape{6, 6, 17}, 20, k) }},
		{"maxpool_6x6x3", func(kernel.Kernels) Layer { return NewMaxPool(Shape{6, 6, 3}) }},
		{"maxpool_5x7x2_odd", func(kernel.Kernels) Layer { return NewMaxPool(Shape{5, 7, 2}) }},
		{"dense_13_to_7", func(k kernel.Kernels) Layer { return NewDense(Shape{1, 1, 13}, 7, k) }},
		{"dense_2x2x3_to_40", func(k kernel.Kernels) Layer { return NewDense(Shape{2, 2, 3}, 40, k) }},
		{"relu_20", func(kernel.Kernels) Layer { return NewReLU(Shape{1, 4, 5}) }},
		{"flatten", func(kernel.Kernels) Layer { return NewFlatten(Shape{2, 3, 4}) }},
		{"center", func(kernel.Kernels) Layer { return NewCenter(Shape{2, 3, 4}, 0.5) }},
		{"dropout_inference", func(kernel.Kernels) Layer { return NewDropout(Shape{1, 1, 9}, 0.5) }},
	}
	const n = 3
	for _, kern := range kernelsUnderTest() {
		for _, tc := range cases {
			t.Run(kern.Name()+"/"+tc.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(7, 8))
				l := tc.layer(kern)
				np := 0
				for _, p := range l.Params() {
					np += prod(p.Shape)
				}
				params, grads := make([]float32, np), make([]float32, np)
				for i := range params {
					params[i] = r.Float32()*2 - 1
				}
				l.bind(params, grads)
				is, os := l.In().Size(), l.Out().Size()
				x := make([]float32, n*is)
				for i := range x {
					x[i] = r.Float32()*2 - 1
				}
				rw := make([]float32, n*os)
				for i := range rw {
					rw[i] = r.Float32()*2 - 1
				}
				y := l.Forward(x, n, false)
				p64 := to64(params)
				// Forward agrees with the reference.
				for i := range n {
					want := refLayer(l.Kind(), l.In(), l.Out(), p64, to64(x[i*is:(i+1)*is]))
					for j, w := range want {
						if math.Abs(float64(y[i*os+j])-w) > 1e-4*(1+math.Abs(w)) {
							t.Fatalf("forward sample %d [%d] = %v, want %v", i, j, y[i*os+j], w)
						}
					}
				}
				dx := l.Backward(rw, n, true, true)
				loss := func(p, xs []float64) float64 {
					var s float64
					for i := range n {
						out := refLayer(l.Kind(), l.In(), l.Out(), p, xs[i*is:(i+1)*is])
						for j, v := range out {
							s += float64(rw[i*os+j]) * v
						}
					}
					return s
				}
				x64 := to64(x)
				num := make([]float64, len(x))
				for i := range x64 {
					old := x64[i]
					x64[i] = old + fdEps
					lp := loss(p64, x64)
					x64[i] = old - fdEps
					lm := loss(p64, x64)
					x64[i] = old
					num[i] = (lp - lm) / (2 * fdEps)
				}
				scale := maxAbs(num)
				for i := range num {
					if !closeEnough(dx[i], num[i], scale) {
						t.Fatalf("dx[%d] = %v, finite differences %v", i, dx[i], num[i])
					}
				}
				numP := make([]float64, np)
				for i := range p64 {
					old := p64[i]
					p64[i] = old + fdEps
					lp := loss(p64, x64)
					p64[i] = old - fdEps
					lm := loss(p64, x64)
					p64[i] = old
					numP[i] = (lp - lm) / (2 * fdEps)
				}
				scale = maxAbs(numP)
				for i := range numP {
					if !closeEnough(grads[i], numP[i], scale) {
						t.Fatalf("dparam[%d] = %v, finite differences %v", i, grads[i], numP[i])
					}
				}
			})
		}
	}
}

// TestDropoutTrainingGradient checks that training-mode dropout scales and
// masks consistently in both directions.
func TestDropoutTrainingGradient(t *testing.T) {
	l := NewDropout(Shape{1, 1, 1000}, 0.5)
	l.Seed(1, 2)
	x := make([]float32, 1000)
	for i := range x {
		x[i] = 1
	}
	y := l.Forward(x, 1, true)
	dy := make([]float32, 1000)
	for i := range dy {
		dy[i] = 3
	}
	dx := l.Backward(dy, 1, true, true)
	zeros := 0
	for i := range y {
		switch y[i] {
		case 0:
			zeros++
			if dx[i] != 0 {
				t.Fatalf("dropped unit %d passes gradient %v", i, dx[i])
			}
		case 2:
			if dx[i] != 6 {
				t.Fatalf("kept unit %d: dx %v, want 6", i, dx[i])
			}
		default:
			t.Fatalf("y[%d] = %v, want 0 or 2", i, y[i])
		}
	}
	if zeros < 400 || zeros > 600 {
		t.Fatalf("%d of 1000 dropped at rate 0.5", zeros)
	}
}

// TestModelGradients checks the whole network: the gradient of the
// temperature cross-entropy with respect to the input and to (a sample of)
// the parameters matches float64 finite differences, for the tiny net and
// both of the paper's nets.
func TestModelGradients(t *testing.T) {
	cases := []struct {
		arch            Arch
		inputChecks     int // pixels checked (0 = all)
		paramsPerTensor int
	}{
		{TinyArchFor(Shape{12, 12, 2}), 0, 0},
		{MNISTArch(), 60, 12},
		{CIFARArch(), 40, 6},
	}
	if testing.Short() {
		cases = cases[:2]
	}
	for _, kern := range kernelsUnderTest() {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s", kern.Name(), tc.arch.Name), func(t *testing.T) {
				m, err := New(tc.arch, kern)
				if err != nil {
					t.Fatal(err)
				}
				m.Init(3)
				r := rand.New(rand.NewPCG(9, 10))
				// Non-zero biases, so that ReLUs and pools see varied inputs.
				for _, p := range m.NamedParams() {
					if len(p.Shape) == 1 {
						for i := range p.Size {
							m.Params[p.Offset+i] = (r.Float32()*2 - 1) * 0.1
						}
					}
				}
				const temp = 5
				x := make([]float32, m.InputSize())
				for i := range x {
					x[i] = r.Float32()
				}
				target := make([]float32, m.Classes())
				var ts float32
				for i := range target {
					target[i] = r.Float32()
					ts += target[i]
				}
				for i := range target {
					target[i] /= ts
				}
				z := m.Forward(x, 1, false)
				dz := make([]float32, len(z))
				CrossEntropyT(dz, z, target, 1, m.Classes(), temp)
				m.ZeroGrads()
				dx := append([]float32(nil), m.Backward(dz, 1, true)...)
				m.Forward(x, 1, false)
				if dx2 := m.InputGradient(dz, 1); !equal(dx, dx2) {
					t.Fatal("InputGradient differs from Backward's input gradient")
				}

				p64, x64, y64 := to64(m.Params), to64(x), to64(target)
				loss := func() float64 { return refCrossEntropy(refLogits(m, p64, x64), y64, temp) }
				fd := func(v []float64, i int) float64 {
					old := v[i]
					v[i] = old + fdEps
					lp := loss()
					v[i] = old - fdEps
					lm := loss()
					v[i] = old
					return (lp - lm) / (2 * fdEps)
				}
				idx := make([]int, 0, len(x))
				if tc.inputChecks == 0 {
					for i := range x {
						idx = append(idx, i)
					}
				} else {
					for range tc.inputChecks {
						idx = append(idx, r.IntN(len(x)))
					}
				}
				num := make([]float64, len(idx))
				for k, i := range idx {
					num[k] = fd(x64, i)
				}
				scale := maxAbs(num)
				for k, i := range idx {
					if !closeEnough(dx[i], num[k], scale) {
						t.Errorf("dL/dx[%d] = %g, finite differences %g (scale %g)", i, dx[i], num[k], scale)
					}
				}
				for _, p := range m.NamedParams() {
					count := tc.paramsPerTensor
					if count == 0 || count > p.Size {
						count = p.Size
					}
					var ids []int
					var nums []float64
					for c := range count {
						i := p.Offset + c
						if tc.paramsPerTensor != 0 {
							i = p.Offset + r.IntN(p.Size)
						}
						ids = append(ids, i)
						nums = append(nums, fd(p64, i))
					}
					scale := maxAbs(nums)
					for k, i := range ids {
						if !closeEnough(m.Grads[i], nums[k], scale) {
							t.Errorf("%s: dL/dθ[%d] = %g, finite differences %g (scale %g)", p.Name, i-p.Offset, m.Grads[i], nums[k], scale)
						}
					}
				}
			})
		}
	}
}

func TestSoftmaxStableAtEveryTemperature(t *testing.T) {
	cases := []struct {
		z []float32
		t float32
	}{
		{[]float32{1000, 0, -1000}, 1},
		{[]float32{-1e4, -1e4 + 1, -1e4}, 1},
		{[]float32{88, 89, 90}, 0.01},
		{[]float32{3, 1, 2}, 40},
		{[]float32{0, 0, 0}, 100},
	}
	for _, c := range cases {
		p := make([]float32, len(c.z))
		SoftmaxT(p, c.z, c.t)
		var s float64
		for _, v := range p {
			if math.IsNaN(float64(v)) || v < 0 || v > 1 {
				t.Fatalf("softmax(%v/%v) = %v", c.z, c.t, p)
			}
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("softmax(%v/%v) sums to %v", c.z, c.t, s)
		}
		if lse := LogSumExpT(c.z, c.t); math.IsInf(lse, 0) || math.IsNaN(lse) {
			t.Fatalf("logsumexp(%v/%v) = %v", c.z, c.t, lse)
		}
	}
}

func TestCrossEntropyHardLabel(t *testing.T) {
	// With z = (0, ln 3) at T=1, p = (1/4, 3/4): loss for class 1 is -ln(3/4).
	z := []float32{0, float32(math.Log(3))}
	dz := make([]float32, 2)
	loss := CrossEntropyT(dz, z, []float32{0, 1}, 1, 2, 1)
	if math.Abs(loss+math.Log(0.75)) > 1e-6 {
		t.Fatalf("loss %v, want %v", loss, -math.Log(0.75))
	}
	if math.Abs(float64(dz[0])-0.25) > 1e-6 || math.Abs(float64(dz[1])+0.25) > 1e-6 {
		t.Fatalf("dz %v, want (0.25, -0.25)", dz)
	}
}

func TestNewRejectsBadArch(t *testing.T) {
	bad := []Arch{
		{Name: "empty", Input: Shape{0, 0, 0}, Classes: 10},
		{Name: "toosmall", Input: Shape{2, 2, 1}, Classes: 10, Layers: []LayerSpec{{Kind: "conv2d", Units: 3}}},
		{Name: "unknown", Input: Shape{4, 4, 1}, Classes: 16, Layers: []LayerSpec{{Kind: "softplus"}}},
		{Name: "classes", Input: Shape{4, 4, 1}, Classes: 10, Layers: []LayerSpec{{Kind: "flatten"}}},
	}
	for _, a := range bad {
		if _, err := New(a, nil); err == nil {
			t.Errorf("%s: no error", a.Name)
		}
	}
	if _, err := ArchByName("resnet"); err == nil {
		t.Error("unknown architecture name accepted")
	}
}

func TestReplicaSharesParamsNotGrads(t *testing.T) {
	m, _ := New(TinyArch(), nil)
	m.Init(1)
	r := m.Replica()
	m.Params[0] = 42
	if r.Params[0] != 42 {
		t.Fatal("replica does not see parameter update")
	}
	r.Grads[0] = 1
	if m.Grads[0] != 0 {
		t.Fatal("replica gradient leaked into the original")
	}
	x := make([]float32, m.InputSize())
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	a := append([]float32(nil), m.Forward(x, 1, false)...)
	b := r.Forward(x, 1, false)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("replica logits differ: %v vs %v", a, b)
		}
	}
}

func TestInitDeterministic(t *testing.T) {
	a, _ := New(MNISTArch(), nil)
	b, _ := New(MNISTArch(), nil)
	a.Init(11)
	b.Init(11)
	for i := range a.Params {
		if a.Params[i] != b.Params[i] {
			t.Fatal("same seed, different weights")
		}
	}
	b.Init(12)
	same := 0
	for i := range a.Params {
		if a.Params[i] == b.Params[i] {
			same++
		}
	}
	if same > len(a.Params)/2 {
		t.Fatal("different seeds give mostly identical weights")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
