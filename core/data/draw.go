package data

import "math"

// Point is a position on a drawing surface, in that surface's pixels.
type Point struct{ X, Y float64 }

// Stroke is one continuous pen movement.
type Stroke []Point

// The MNIST recipe (LeCun et al.): the digit is scaled to fit a 20×20 box
// keeping its aspect ratio, anti-aliased, and placed in a 28×28 image so
// that its centre of mass is at the centre.
const (
	mnistSide = 28
	mnistBox  = 20
	// rasterSide is the working resolution of the pen before downsampling.
	rasterSide = 112
)

// Rasterize turns strokes drawn on a width×height surface with a pen of
// diameter penWidth (in surface pixels) into an MNIST-style 28×28 image with
// values in [0, 1] (white digit on black). An empty drawing gives an all-zero
// image.
func Rasterize(strokes []Stroke, width, height, penWidth float64) []float32 {
	out := make([]float32, mnistSide*mnistSide)
	if width <= 0 || height <= 0 || !(penWidth > 0) {
		return out
	}
	// 1. Draw the strokes as thick lines on a square working canvas.
	side := math.Max(width, height)
	scale := rasterSide / side
	canvas := make([]float64, rasterSide*rasterSide)
	r := penWidth * scale / 2
	any := false
	for _, s := range strokes {
		for i := range s {
			a := s[i]
			b := a
			if i+1 < len(s) {
				b = s[i+1]
			}
			if !finite(a) || !finite(b) {
				continue
			}
			stamp(canvas, Point{a.X * scale, a.Y * scale}, Point{b.X * scale, b.Y * scale}, r)
			any = true
		}
	}
	if !any {
		return out
	}
	// 2. Bounding box of the ink.
	x0, y0, x1, y1 := rasterSide, rasterSide, -1, -1
	for y := range rasterSide {
		for x := range rasterSide {
			if canvas[y*rasterSide+x] > 0 {
				x0, y0 = min(x0, x), min(y0, y)
				x1, y1 = max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return out
	}
	// 3. Fit the box into 20×20 keeping the aspect ratio: each output pixel
	// of the 20×20 box averages the canvas area it covers (anti-aliasing).
	bw, bh := float64(x1-x0+1), float64(y1-y0+1)
	f := mnistBox / math.Max(bw, bh)
	ow, oh := max(1, int(math.Round(bw*f))), max(1, int(math.Round(bh*f)))
	box := make([]float64, ow*oh)
	for oy := range oh {
		for ox := range ow {
			// Canvas area [sx0, sx1) × [sy0, sy1) maps to this pixel.
			sx0, sx1 := float64(x0)+float64(ox)/f, float64(x0)+float64(ox+1)/f
			sy0, sy1 := float64(y0)+float64(oy)/f, float64(y0)+float64(oy+1)/f
			box[oy*ow+ox] = areaMean(canvas, sx0, sx1, sy0, sy1)
		}
	}
	// 4. Centre of mass of the box, placed at the image centre (14, 14).
	var mass, mx, my float64
	for y := range oh {
		for x := range ow {
			v := box[y*ow+x]
			mass += v
			mx += v * (float64(x) + 0.5)
			my += v * (float64(y) + 0.5)
		}
	}
	if mass == 0 {
		return out
	}
	offX := int(math.Round(mnistSide/2 - mx/mass))
	offY := int(math.Round(mnistSide/2 - my/mass))
	for y := range oh {
		for x := range ow {
			tx, ty := x+offX, y+offY
			if tx >= 0 && tx < mnistSide && ty >= 0 && ty < mnistSide {
				out[ty*mnistSide+tx] = float32(math.Min(1, box[y*ow+x]))
			}
		}
	}
	return out
}

func finite(p Point) bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}

// stamp draws the segment a–b with a round pen of radius r, with a soft
// one-pixel edge.
func stamp(canvas []float64, a, b Point, r float64) {
	minX := int(math.Floor(math.Min(a.X, b.X) - r - 1))
	maxX := int(math.Ceil(math.Max(a.X, b.X) + r + 1))
	minY := int(math.Floor(math.Min(a.Y, b.Y) - r - 1))
	maxY := int(math.Ceil(math.Max(a.Y, b.Y) + r + 1))
	dx, dy := b.X-a.X, b.Y-a.Y
	l2 := dx*dx + dy*dy
	for y := max(minY, 0); y <= min(maxY, rasterSide-1); y++ {
		for x := max(minX, 0); x <= min(maxX, rasterSide-1); x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			t := 0.0
			if l2 > 0 {
				t = math.Max(0, math.Min(1, ((px-a.X)*dx+(py-a.Y)*dy)/l2))
			}
			d := math.Hypot(px-(a.X+t*dx), py-(a.Y+t*dy))
			v := math.Max(0, math.Min(1, r+0.5-d))
			i := y*rasterSide + x
			canvas[i] = math.Max(canvas[i], v)
		}
	}
}

// areaMean is the mean of canvas over the rectangle [x0,x1)×[y0,y1),
// weighting partly covered pixels by their covered fraction.
func areaMean(canvas []float64, x0, x1, y0, y1 float64) float64 {
	var sum, area float64
	for y := int(math.Floor(y0)); float64(y) < y1; y++ {
		hy := math.Min(y1, float64(y+1)) - math.Max(y0, float64(y))
		if y < 0 || y >= rasterSide || hy <= 0 {
			continue
		}
		for x := int(math.Floor(x0)); float64(x) < x1; x++ {
			wx := math.Min(x1, float64(x+1)) - math.Max(x0, float64(x))
			if x < 0 || x >= rasterSide || wx <= 0 {
				continue
			}
			sum += canvas[y*rasterSide+x] * wx * hy
			area += wx * hy
		}
	}
	if area == 0 {
		return 0
	}
	return sum / area
}
