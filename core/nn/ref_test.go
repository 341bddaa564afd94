package nn

import "math"

// The float64 reference: naive loops, one sample at a time, written
// straight from each layer's definition. Finite differences of these
// functions are the trusted gradients.

func refLayer(kind string, in, out Shape, p []float64, x []float64) []float64 {
	y := make([]float64, out.Size())
	switch kind {
	case "conv2d":
		nw := 9 * in.C * out.C
		for oy := range out.H {
			for ox := range out.W {
				for co := range out.C {
					s := p[nw+co]
					for ky := range 3 {
						for kx := range 3 {
							for ci := range in.C {
								s += x[((oy+ky)*in.W+ox+kx)*in.C+ci] * p[((ky*3+kx)*in.C+ci)*out.C+co]
							}
						}
					}
					y[(oy*out.W+ox)*out.C+co] = s
				}
			}
		}
	case "maxpool":
		for oy := range out.H {
			for ox := range out.W {
				for c := range out.C {
					m := math.Inf(-1)
					for dy := range 2 {
						for dx := range 2 {
							m = math.Max(m, x[((2*oy+dy)*in.W+2*ox+dx)*in.C+c])
						}
					}
					y[(oy*out.W+ox)*out.C+c] = m
				}
			}
		}
	case "dense":
		ni, no := in.Size(), out.Size()
		for j := range no {
			s := p[ni*no+j]
			for i := range ni {
				s += x[i] * p[i*no+j]
			}
			y[j] = s
		}
	case "relu":
		for i, v := range x {
			y[i] = math.Max(v, 0)
		}
	case "flatten", "dropout":
		copy(y, x)
	case "center":
		for i, v := range x {
			y[i] = v - 0.5
		}
	default:
		panic("refLayer: " + kind)
	}
	return y
}

// refLogits runs the whole model in float64 for one sample (inference mode).
func refLogits(m *Model, params, x []float64) []float64 {
	h := x
	off := 0
	for _, l := range m.Layers {
		size := 0
		for _, p := range l.Params() {
			size += prod(p.Shape)
		}
		h = refLayer(l.Kind(), l.In(), l.Out(), params[off:off+size], h)
		off += size
	}
	return h
}

// refCrossEntropy is -Σ y_j log softmax(z/T)_j in float64.
func refCrossEntropy(z, y []float64, t float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v/t)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(v/t - m)
	}
	lse := m + math.Log(s)
	var l float64
	for j, v := range z {
		l -= y[j] * (v/t - lse)
	}
	return l
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}
