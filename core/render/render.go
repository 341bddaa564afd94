// Package render turns model inputs and perturbations into pictures: the
// same colours in the CLI's PNGs, the browser and the desktop playground.
package render

import (
	"image"
	"image/color"
	"math"
)

// Image draws an h×w image with c channels (values in [0, 1], NHWC) as RGBA,
// each pixel a scale×scale block. One channel is drawn white on black, as
// MNIST digits look; three channels as RGB.
func Image(x []float32, h, w, c, scale int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for y := range h {
		for xx := range w {
			p := x[(y*w+xx)*c:]
			var col color.RGBA
			if c >= 3 {
				col = color.RGBA{byte8(p[0]), byte8(p[1]), byte8(p[2]), 255}
			} else {
				v := byte8(p[0])
				col = color.RGBA{v, v, v, 255}
			}
			fill(img, xx*scale, y*scale, scale, col)
		}
	}
	return img
}

// Perturbation draws adv − x as a diverging heat map: blue where values
// fell, red where they rose, white where unchanged; the colour scale
// saturates at ±limit (limit <= 0: the largest change). Channels are summed.
func Perturbation(adv, x []float32, h, w, c, scale int, limit float64) *image.RGBA {
	d := make([]float64, h*w)
	for p := range d {
		for ch := range c {
			d[p] += float64(adv[p*c+ch] - x[p*c+ch])
		}
	}
	if limit <= 0 {
		for _, v := range d {
			limit = math.Max(limit, math.Abs(v))
		}
		if limit == 0 {
			limit = 1
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for p, v := range d {
		fill(img, (p%w)*scale, (p/w)*scale, scale, Diverging(v/limit))
	}
	return img
}

// Diverging maps t in [-1, 1] to blue (−1), white (0) and red (+1).
func Diverging(t float64) color.RGBA {
	t = math.Max(-1, math.Min(1, t))
	if t >= 0 {
		f := byte(255 * (1 - t))
		return color.RGBA{255, f, f, 255}
	}
	f := byte(255 * (1 + t))
	return color.RGBA{f, f, 255, 255}
}

// Row lays pictures side by side with gap pixels of dark grey between them.
func Row(gap int, parts ...*image.RGBA) *image.RGBA {
	w, h := 0, 0
	for i, p := range parts {
		if i > 0 {
			w += gap
		}
		w += p.Bounds().Dx()
		h = max(h, p.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(out, 0, 0, max(w, h), color.RGBA{40, 40, 40, 255})
	x := 0
	for _, p := range parts {
		for yy := range p.Bounds().Dy() {
			copy(out.Pix[yy*out.Stride+4*x:], p.Pix[yy*p.Stride:yy*p.Stride+4*p.Bounds().Dx()])
		}
		x += p.Bounds().Dx() + gap
	}
	return out
}

// Column stacks pictures vertically with gap pixels between them.
func Column(gap int, parts ...*image.RGBA) *image.RGBA {
	w, h := 0, 0
	for i, p := range parts {
		if i > 0 {
			h += gap
		}
		h += p.Bounds().Dy()
		w = max(w, p.Bounds().Dx())
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(out, 0, 0, max(w, h), color.RGBA{40, 40, 40, 255})
	y := 0
	for _, p := range parts {
		for yy := range p.Bounds().Dy() {
			copy(out.Pix[(y+yy)*out.Stride:], p.Pix[yy*p.Stride:yy*p.Stride+4*p.Bounds().Dx()])
		}
		y += p.Bounds().Dy() + gap
	}
	return out
}

func fill(img *image.RGBA, x0, y0, size int, c color.RGBA) {
	b := img.Bounds()
	for y := y0; y < min(y0+size, b.Dy()); y++ {
		for x := x0; x < min(x0+size, b.Dx()); x++ {
			i := y*img.Stride + 4*x
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
}

func byte8(v float32) byte {
	return byte(math.Round(float64(max(0, min(1, v))) * 255))
}
