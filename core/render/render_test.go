package render

import (
	"image/color"
	"testing"
)

func TestImageAndPerturbation(t *testing.T) {
	x := []float32{0, 1, 0.5, 0}
	adv := []float32{0, 0.5, 0.5, 1}
	img := Image(x, 2, 2, 1, 3)
	if img.Bounds().Dx() != 6 || img.RGBAAt(4, 1) != (color.RGBA{255, 255, 255, 255}) || img.RGBAAt(1, 4).R != 128 {
		t.Fatalf("image pixels wrong: %v %v", img.RGBAAt(4, 1), img.RGBAAt(1, 4))
	}
	p := Perturbation(adv, x, 2, 2, 1, 1, 0)
	if p.RGBAAt(1, 0) != (color.RGBA{127, 127, 255, 255}) { // −0.5 of max 1: half blue
		t.Fatalf("fall colour %v", p.RGBAAt(1, 0))
	}
	if p.RGBAAt(1, 1) != (color.RGBA{255, 0, 0, 255}) || p.RGBAAt(0, 0) != (color.RGBA{255, 255, 255, 255}) {
		t.Fatalf("rise/unchanged colours %v %v", p.RGBAAt(1, 1), p.RGBAAt(0, 0))
	}
	row := Row(2, img, img)
	if row.Bounds().Dx() != 14 || row.RGBAAt(6, 0) != (color.RGBA{40, 40, 40, 255}) {
		t.Fatalf("row %v", row.Bounds())
	}
	col := Column(1, img, row)
	if col.Bounds().Dy() != 13 || col.Bounds().Dx() != 14 {
		t.Fatalf("column %v", col.Bounds())
	}
}
