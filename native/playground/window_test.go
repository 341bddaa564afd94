//go:build playground

package playground

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWindowUnderXvfb builds the playground, runs its self-test in a real
// window under Xvfb (draw a 7 with the mouse path, target 3, run L2), and
// checks the screenshot's pixels: ink on the canvas, the target's bar in
// red, the success line in green, and an adversarial image that differs
// from the original. TADD_SCREENSHOTS keeps the screenshot.
func TestWindowUnderXvfb(t *testing.T) {
	if _, err := exec.LookPath("xvfb-run"); err != nil {
		t.Fatal("xvfb-run is not installed (Debian package xvfb; .ci/run installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tadd-playground")
	if out, err := exec.Command("go", "build", "-tags", "playground", "-o", bin, "../cmd/tadd-playground").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	shot := filepath.Join(dir, "png")
	if d := os.Getenv("TADD_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		shot = filepath.Join(d, "png")
	}
	cmd := exec.Command("xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", bin, "--selftest", shot, "--out", dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("self-test: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
		t.Fatalf("screenshot %v, want %dx%d", b, Width, Height)
	}
	count := func(r Rect, want func(c color.RGBA) bool) int {
		n := 0
		for y := r.Y0; y < r.Y1; y++ {
			for x := r.X0; x < r.X1; x++ {
				if want(rgba(img, x, y)) {
					n++
				}
			}
		}
		return n
	}
	white := func(c color.RGBA) bool { return c.R > 240 && c.G > 240 && c.B > 240 }
	black := func(c color.RGBA) bool { return c.R < 15 && c.G < 15 && c.B < 15 }
	red := func(c color.RGBA) bool { return c.R > 170 && c.G < 80 && c.B < 70 }
	green := func(c color.RGBA) bool { return c.G > 120 && c.R < 60 && c.B < 110 }
	area := (Canvas.X1 - Canvas.X0) * (Canvas.Y1 - Canvas.Y0)
	if ink, bg := count(Canvas, white), count(Canvas, black); ink < area/50 || bg < area/2 {
		t.Errorf("canvas: %d ink and %d background pixels of %d", ink, bg, area)
	}
	if n := count(Bars, red); n < 200 {
		t.Errorf("adversarial probabilities: %d red pixels (the target's bar)", n)
	}
	if n := count(Results, green); n < 30 {
		t.Errorf("result: %d green pixels (\"Adversarial example found\")", n)
	}
	// The original and the adversarial image sit side by side.
	w := (Images.X1 - Images.X0 - 20) / 3
	diff := 0
	for y := 0; y < w; y++ {
		for x := 0; x < w; x++ {
			a := rgba(img, Images.X0+x, Images.Y0+y)
			b := rgba(img, Images.X0+w+10+x, Images.Y0+y)
			if a != b {
				diff++
			}
		}
	}
	if diff < w*w/20 {
		t.Errorf("adversarial image differs from the original in %d of %d pixels", diff, w*w)
	}
}

func rgba(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}
