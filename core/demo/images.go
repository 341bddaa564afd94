package demo

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"image"
	"image/png"
	"math"
	"sync"

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

// Pictures remembers the data URLs of the images the page has shown
// (PNG, HeatPNG and StripPNG of the same pixels give the same URL), so
// that a render encodes only images it has not shown before. The page
// renders every 50 ms while an attack runs; encoding the gallery's
// thumbnails and the input again each time was a third of the page
// thread's samples during an L2 attack (Chromium's profiler, loaded 2-core
// machine: 33% in PNG, the components' builds 9% in all once remembered),
// time that a 2-core machine takes from the attack's worker. It holds at
// most pictureLimit URLs and starts afresh when full. Safe for concurrent
// use.
type Pictures struct {
	mu   sync.Mutex
	urls map[string]string
	key  []byte
}

// pictureLimit bounds Pictures: the gallery, the input and its base, and a
// run's images (three per shown report) fit many times over.
const pictureLimit = 512

// PNG is the package's PNG of x, remembered.
func (p *Pictures) PNG(x []float32) string {
	return p.url(func() string { return PNG(x) }, 'p', 0, x)
}

// HeatPNG is the package's HeatPNG of adv and x, remembered.
func (p *Pictures) HeatPNG(adv, x []float32) string {
	return p.url(func() string { return HeatPNG(adv, x) }, 'h', 0, adv, x)
}

// StripPNG is the package's StripPNG of orig and adv, remembered.
func (p *Pictures) StripPNG(orig, adv []float32, scale int) string {
	return p.url(func() string { return StripPNG(orig, adv, scale) }, 's', scale, orig, adv)
}

// url returns the remembered URL for the kind of picture, its scale and
// its images' exact bits, making it with draw when there is none.
func (p *Pictures) url(draw func() string, kind byte, scale int, images ...[]float32) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := append(p.key[:0], kind)
	k = binary.LittleEndian.AppendUint32(k, uint32(scale))
	for _, x := range images {
		k = binary.LittleEndian.AppendUint32(k, uint32(len(x)))
		for _, v := range x {
			k = binary.LittleEndian.AppendUint32(k, math.Float32bits(v))
		}
	}
	p.key = k
	if u, ok := p.urls[string(k)]; ok {
		return u
	}
	if p.urls == nil || len(p.urls) >= pictureLimit {
		p.urls = map[string]string{}
	}
	u := draw()
	p.urls[string(k)] = u
	return u
}
