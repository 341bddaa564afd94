package demo

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"math"

	"github.com/tadd-project/tadd/core/render"
)

// PNG returns a data URL of a 28×28 image (value 0..1, white on black).
func PNG(x []float32) string {
	if len(x) != 784 {
		x = make([]float32, 784)
	}
	return dataURL(render.Image(x, 28, 28, 1, 1))
}

// HeatPNG returns a data URL of the perturbation adv − x as a diverging map,
// amplified to full contrast: full colour is the largest change
// (LargestChange).
func HeatPNG(adv, x []float32) string {
	if len(adv) != 784 || len(x) != 784 {
		return PNG(nil)
	}
	return dataURL(render.Perturbation(adv, x, 28, 28, 1, 1, 0))
}

func dataURL(img *image.RGBA) string {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// StripPNG returns a data URL of the original, the adversarial image and
// the perturbation (amplified to full contrast) side by side, each 28×28
// pixels times scale: the download of the Watch panel.
func StripPNG(orig, adv []float32, scale int) string {
	if len(orig) != 784 || len(adv) != 784 {
		return ""
	}
	scale = max(scale, 1)
	return dataURL(render.Row(0, render.Image(orig, 28, 28, 1, scale), render.Image(adv, 28, 28, 1, scale),
		render.Perturbation(adv, orig, 28, 28, 1, scale, 0)))
}

// LargestChange is the largest |adv − x| of any pixel: the colour scale's
// end in the perturbation map.
func LargestChange(adv, x []float32) float64 {
	m := 0.0
	for i := range min(len(adv), len(x)) {
		m = math.Max(m, math.Abs(float64(adv[i]-x[i])))
	}
	return m
}
