// Package playground is the state and behaviour of the native desktop
// playground (native/cmd/tadd-playground), in plain Go so that it is tested
// without a window: the layout, what a click or a key does, the drawing in
// progress, and saving the adversarial example. The model, the drawing's
// 28×28 input and the attacks are core/demo's App, the same code the web
// demo runs.
package playground

import (
	"bytes"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/demo"
	"github.com/tadd-project/tadd/core/render"
)

// Window size, in pixels.
const (
	Width  = 1000
	Height = 640
)

// Rect is a screen rectangle; Max is exclusive.
type Rect struct{ X0, Y0, X1, Y1 int }

// Contains says whether the point is inside r.
func (r Rect) Contains(x, y int) bool { return x >= r.X0 && x < r.X1 && y >= r.Y0 && y < r.Y1 }

// The fixed areas of the window.
var (
	Canvas  = Rect{20, 50, 300, 330}   // the drawing pad, 280×280
	Preview = Rect{20, 350, 104, 434}  // what the model sees, 28×28 at 3×
	Probs   = Rect{330, 360, 620, 600} // class probabilities
	Images  = Rect{650, 50, 980, 160}  // original, adversarial, perturbation
	LiveBox = Rect{650, 170, 980, 210} // the attack's live state, up to 3 lines
	Bars    = Rect{650, 360, 980, 600} // probabilities of the adversarial image
	Results = Rect{650, 210, 980, 350} // result or chain comparison
	Gallery = Rect{130, 350, 300, 434} // a few real MNIST digits
)

// PenWidth is the drawing pen's width in canvas pixels.
const PenWidth = 20

// Button is a clickable control.
type Button struct {
	ID      string // "T20", "step1", "atk-l2", "run", ...
	Label   string
	Rect    Rect
	On      bool // selected
	Enabled bool
}

// UI is the playground: the demo App plus the desktop's own state.
type UI struct {
	App     *demo.App
	SaveDir string // where Save writes PNGs
	Status  string // last message (saved file, error)

	drawing bool
	base    []data.Stroke // the finished strokes when the current one began
	current data.Stroke
}

// New loads the manifest, models and gallery from models (pretrained.FS,
// or a folder of the same layout), picks the first model, and runs attacks
// on up to all cores at once.
func New(models fs.FS, saveDir string) (*UI, error) {
	app := demo.New(func(path string) ([]byte, error) {
		name, ok := strings.CutPrefix(path, "pretrained/")
		if !ok {
			return nil, fmt.Errorf("%s: not a model file", path)
		}
		return fs.ReadFile(models, name)
	})
	app.Runner = demo.LocalRunner(app, runtime.NumCPU())
	if err := app.Init(); err != nil {
		return nil, err
	}
	app.Choose(app.T, app.Step)
	if app.Error != "" {
		return nil, fmt.Errorf("loading the first model: %s", app.Error)
	}
	return &UI{App: app, SaveDir: saveDir}, nil
}

// Buttons returns the controls as they are now. Call with the lock held.
func (u *UI) Buttons() []Button {
	a := u.App
	var bs []Button
	x, y := 330, 50
	add := func(id, label string, w int, on, enabled bool) {
		bs = append(bs, Button{ID: id, Label: label, Rect: Rect{x, y, x + w, y + 26}, On: on, Enabled: enabled})
		x += w + 6
	}
	row := func(ny int) { x, y = 330, ny }
	for _, t := range a.Temperatures() {
		add(fmt.Sprintf("T%g", t), fmt.Sprintf("T=%g", t), 48, t == a.T, !a.Running)
	}
	row(96)
	for _, s := range a.Steps() {
		add(fmt.Sprintf("step%d", s.Step), s.DisplayName(), 78, s.Step == a.Step, !a.Running)
	}
	row(160)
	for _, atk := range attack.Defaults().Attacks() {
		// The bitmap font has no ∞.
		label := strings.ReplaceAll(atk.Norm().String(), "∞", "inf")
		add("atk-"+atk.Name(), label, 56, a.Attack == atk.Name(), !a.Running)
	}
	row(194)
	for _, t := range []struct{ id, label string }{{"untargeted", "any class"}, {"least", "least likely"}, {"all", "every class"}} {
		add("target-"+t.id, t.label, 96, a.Target == t.id, !a.Running)
	}
	row(228)
	for d := range 10 {
		id := fmt.Sprint(d)
		add("target-"+id, id, 22, a.Target == id, !a.Running && d != a.Predicted())
	}
	can := !a.Running && !a.Blank() && len(a.Probs) > 0
	row(266)
	add("run", "Run", 60, false, can)
	add("compare", "Compare chain", 120, false, can)
	add("stop", "Stop", 60, false, a.Running)
	row(300)
	add("clear", "Clear", 60, false, !a.Running)
	add("undo", "Undo", 60, false, !a.Running && len(a.Strokes) > 0)
	add("save", "Save PNG", 90, false, a.Live != nil && !a.Running && len(a.Outcomes) > 0)
	return bs
}

// Click acts on the button or gallery digit under (x, y), if any. Call
// without the lock.
func (u *UI) Click(x, y int) {
	a := u.App
	if Gallery.Contains(x, y) {
		a.Lock()
		if !a.Running {
			a.UseGallery(GalleryIndex(x, y))
		}
		a.Unlock()
		return
	}
	a.Lock()
	bs := u.Buttons()
	a.Unlock()
	for _, b := range bs {
		if b.Enabled && b.Rect.Contains(x, y) {
			u.Do(b.ID)
			return
		}
	}
}

// GalleryIndex is the gallery digit shown at (x, y) in the Gallery area:
// two rows of five, 28 pixels each with a 6-pixel gap.
func GalleryIndex(x, y int) int {
	col, row := (x-Gallery.X0)/34, (y-Gallery.Y0)/42
	return min(max(row, 0), 1)*5 + min(max(col, 0), 4)
}

// Do runs the action of a button ID. Call without the lock.
func (u *UI) Do(id string) {
	a := u.App
	switch {
	case strings.HasPrefix(id, "T"):
		var t float64
		if _, err := fmt.Sscanf(id, "T%g", &t); err == nil {
			a.Lock()
			step := a.Step
			a.Unlock()
			go a.Choose(t, step)
		}
	case strings.HasPrefix(id, "step"):
		var s int
		if _, err := fmt.Sscanf(id, "step%d", &s); err == nil {
			a.Lock()
			t := a.T
			a.Unlock()
			go a.Choose(t, s)
		}
	case strings.HasPrefix(id, "atk-"):
		a.Lock()
		a.Attack = strings.TrimPrefix(id, "atk-")
		a.Unlock()
	case strings.HasPrefix(id, "target-"):
		a.Lock()
		a.Target = strings.TrimPrefix(id, "target-")
		a.Unlock()
	case id == "run" || id == "compare":
		a.Lock()
		a.Start(id == "compare")
		a.Unlock()
	case id == "stop":
		a.Lock()
		a.Stop()
		a.Unlock()
	case id == "clear":
		a.Lock()
		a.Clear()
		a.Live, a.Outcomes = nil, nil
		a.Unlock()
	case id == "undo":
		a.Lock()
		if n := len(a.Strokes); n > 0 {
			a.SetDrawing(a.Strokes[:n-1], float64(Canvas.X1-Canvas.X0), float64(Canvas.Y1-Canvas.Y0), PenWidth)
		}
		a.Unlock()
	case id == "save":
		if p, err := u.Save(); err != nil {
			u.Status = "save failed: " + err.Error()
		} else {
			u.Status = "saved " + p
		}
	}
}

// Key maps a key name to an action: arrows change T (left, right) and the
// network (up, down); 1, 2, 3 pick L2, L0, L∞; R runs, K compares the chain,
// S stops, C clears, U undoes, P saves, G shows the next gallery digit.
func (u *UI) Key(k string) {
	a := u.App
	a.Lock()
	ts, steps, t, step, running := a.Temperatures(), a.Steps(), a.T, a.Step, a.Running
	a.Unlock()
	if running && k != "s" {
		return
	}
	switch k {
	case "left", "right":
		i := indexOf(ts, t)
		if k == "left" && i > 0 {
			u.Do(fmt.Sprintf("T%g", ts[i-1]))
		}
		if k == "right" && i+1 < len(ts) {
			u.Do(fmt.Sprintf("T%g", ts[i+1]))
		}
	case "up", "down":
		for i, s := range steps {
			if s.Step != step {
				continue
			}
			if k == "up" && i > 0 {
				u.Do(fmt.Sprintf("step%d", steps[i-1].Step))
			}
			if k == "down" && i+1 < len(steps) {
				u.Do(fmt.Sprintf("step%d", steps[i+1].Step))
			}
			break
		}
	case "1", "2", "3":
		u.Do("atk-" + attack.Names()[k[0]-'1'])
	case "r":
		u.Do("run")
	case "k":
		u.Do("compare")
	case "s":
		u.Do("stop")
	case "c":
		u.Do("clear")
	case "u":
		u.Do("undo")
	case "p":
		u.Do("save")
	case "g":
		a.Lock()
		if a.Gallery != nil {
			next := 0
			for i := range a.Gallery.Len() {
				if slices.Equal(a.Gallery.Image(i), a.Input) {
					next = (i + 1) % a.Gallery.Len()
				}
			}
			a.UseGallery(next)
		}
		a.Unlock()
	}
}

func indexOf(ts []float64, t float64) int {
	for i, v := range ts {
		if v == t {
			return i
		}
	}
	return 0
}

// PointerDown starts a stroke when (x, y) is on the canvas; otherwise it is
// a click. Call without the lock.
func (u *UI) PointerDown(x, y int) {
	if !Canvas.Contains(x, y) {
		u.Click(x, y)
		return
	}
	u.App.Lock()
	running := u.App.Running
	u.App.Unlock()
	if running {
		return
	}
	u.App.Lock()
	u.base = u.App.Strokes
	u.App.Unlock()
	u.drawing = true
	u.current = data.Stroke{{X: float64(x - Canvas.X0), Y: float64(y - Canvas.Y0)}}
	u.redraw()
}

// PointerMove extends the stroke being drawn.
func (u *UI) PointerMove(x, y int) {
	if !u.drawing {
		return
	}
	px := float64(min(max(x, Canvas.X0), Canvas.X1-1) - Canvas.X0)
	py := float64(min(max(y, Canvas.Y0), Canvas.Y1-1) - Canvas.Y0)
	last := u.current[len(u.current)-1]
	if (px-last.X)*(px-last.X)+(py-last.Y)*(py-last.Y) < 4 {
		return
	}
	u.current = append(u.current, data.Point{X: px, Y: py})
	u.redraw()
}

// PointerUp ends the stroke.
func (u *UI) PointerUp() {
	if !u.drawing {
		return
	}
	u.drawing = false
	u.redraw()
	u.base, u.current = nil, nil
}

// redraw re-rasterises the finished strokes plus the one in progress, so
// the prediction updates while drawing.
func (u *UI) redraw() {
	a := u.App
	a.Lock()
	defer a.Unlock()
	strokes := append(append([]data.Stroke(nil), u.base...), append(data.Stroke(nil), u.current...))
	a.SetDrawing(strokes, float64(Canvas.X1-Canvas.X0), float64(Canvas.Y1-Canvas.Y0), PenWidth)
	a.Live, a.Outcomes = nil, nil
}

// Draw adds a whole stroke (canvas coordinates), as a test or a script
// would draw it with the mouse.
func (u *UI) Draw(points [][2]int) {
	if len(points) == 0 {
		return
	}
	u.PointerDown(Canvas.X0+points[0][0], Canvas.Y0+points[0][1])
	for _, p := range points[1:] {
		// Move in small steps, as a mouse does.
		last := u.current[len(u.current)-1]
		tx, ty := float64(p[0]), float64(p[1])
		for s := 1; s <= 8; s++ {
			f := float64(s) / 8
			u.PointerMove(Canvas.X0+int(last.X+(tx-last.X)*f), Canvas.Y0+int(last.Y+(ty-last.Y)*f))
		}
	}
	u.PointerUp()
}

// Save writes the last adversarial example as a 28×28 PNG and an enlarged
// copy (×10) into SaveDir, and returns the 28×28 file's path.
func (u *UI) Save() (string, error) {
	a := u.App
	a.Lock()
	if a.Live == nil || len(a.Live.Image) != 784 || len(a.Outcomes) == 0 {
		a.Unlock()
		return "", fmt.Errorf("no adversarial example yet")
	}
	adv := append([]float32(nil), a.Live.Image...)
	a.Unlock()
	stem := filepath.Join(u.SaveDir, "adversarial-"+time.Now().Format("20060102-150405.000"))
	for _, v := range []struct {
		path  string
		scale int
	}{{stem + ".png", 1}, {stem + "-x10.png", 10}} {
		var b bytes.Buffer
		if err := png.Encode(&b, render.Image(adv, 28, 28, 1, v.scale)); err != nil {
			return "", err
		}
		if err := os.WriteFile(v.path, b.Bytes(), 0o644); err != nil {
			return "", fmt.Errorf("saving: %w", err)
		}
	}
	return stem + ".png", nil
}
