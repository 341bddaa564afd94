//go:build playground

// Command tadd-playground is the native desktop playground: the web demo's
// experience in an ebiten window. Draw a digit with the mouse, see the 28×28
// input and the class probabilities, choose T and the network (buttons or
// arrow keys), run L2, L0 and L∞ attacks and watch them animate, stop them,
// and save the adversarial example as PNG. The state and behaviour are
// native/playground's; this file only draws them and forwards input.
//
//	tadd-playground [--models DIR] [--out DIR]
package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/basicfont"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/demo"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/render"
	"github.com/tadd-project/tadd/native/playground"
	"github.com/tadd-project/tadd/pretrained"
)

var (
	face    = text.NewGoXFace(basicfont.Face7x13)
	bg      = color.RGBA{0xf3, 0xf4, 0xf7, 0xff}
	ink     = color.RGBA{0x1d, 0x23, 0x30, 0xff}
	muted   = color.RGBA{0x5b, 0x64, 0x78, 0xff}
	accent  = color.RGBA{0x2b, 0x5c, 0xd6, 0xff}
	bad     = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	good    = color.RGBA{0x1f, 0x8f, 0x4e, 0xff}
	panel   = color.RGBA{0xff, 0xff, 0xff, 0xff}
	rule    = color.RGBA{0xd5, 0xd9, 0xe2, 0xff}
	barBack = color.RGBA{0xe6, 0xe8, 0xee, 0xff}
)

// texture caches an ebiten image of a 28×28 float image, rebuilt only when
// the values change.
type texture struct {
	src []float32
	img *ebiten.Image
}

func (t *texture) get(x []float32, build func([]float32) image.Image) *ebiten.Image {
	if t.img != nil && slices.Equal(t.src, x) {
		return t.img
	}
	t.src = append(t.src[:0], x...)
	if t.img != nil {
		t.img.Deallocate()
	}
	t.img = ebiten.NewImageFromImage(build(x))
	return t.img
}

type game struct {
	ui               *playground.UI
	input, adv, heat texture
	gallery          []*ebiten.Image
	selftest         string // write a screenshot here and quit
	step             int
	deadline         time.Time
	shot             bool
	err              error
	started          time.Time
	fpsMin, fpsSum   float64
	fpsN             int
	padImg           *ebiten.Image
	padKey           [3]int
}

// pad returns the drawing pad with the strokes, redrawn only when they
// change: anti-aliased thick lines are the costliest thing on screen.
func (g *game) pad(strokes []data.Stroke) *ebiten.Image {
	c := playground.Canvas
	key := [3]int{len(strokes), 0, 0}
	for _, s := range strokes {
		key[1] += len(s)
	}
	if n := len(strokes); n > 0 && len(strokes[n-1]) > 0 {
		p := strokes[n-1][len(strokes[n-1])-1]
		key[2] = int(p.X)*1000 + int(p.Y)
	}
	if g.padImg != nil && key == g.padKey {
		return g.padImg
	}
	if g.padImg == nil {
		g.padImg = ebiten.NewImage(c.X1-c.X0, c.Y1-c.Y0)
	}
	g.padKey = key
	g.padImg.Fill(color.Black)
	for _, s := range strokes {
		for i, p := range s {
			q := p
			if i > 0 {
				q = s[i-1]
			}
			vector.StrokeLine(g.padImg, float32(q.X), float32(q.Y), float32(p.X), float32(p.Y), playground.PenWidth, color.White, true)
			vector.DrawFilledCircle(g.padImg, float32(p.X), float32(p.Y), playground.PenWidth/2, color.White, true)
		}
	}
	return g.padImg
}

func (g *game) Update() error {
	if g.err != nil {
		return g.err
	}
	x, y := ebiten.CursorPosition()
	switch {
	case inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft):
		g.ui.PointerDown(x, y)
	case ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft):
		g.ui.PointerMove(x, y)
	}
	if inpututil.IsMouseButtonJustReleased(ebiten.MouseButtonLeft) {
		g.ui.PointerUp()
	}
	for _, k := range inpututil.AppendJustPressedKeys(nil) {
		if name, ok := keys[k]; ok {
			g.ui.Key(name)
		}
	}
	if g.selftest != "" {
		return g.script()
	}
	return nil
}

var keys = map[ebiten.Key]string{
	ebiten.KeyArrowLeft: "left", ebiten.KeyArrowRight: "right", ebiten.KeyArrowUp: "up", ebiten.KeyArrowDown: "down",
	ebiten.KeyDigit1: "1", ebiten.KeyDigit2: "2", ebiten.KeyDigit3: "3", ebiten.KeyR: "r", ebiten.KeyK: "k",
	ebiten.KeyS: "s", ebiten.KeyC: "c", ebiten.KeyU: "u", ebiten.KeyP: "p", ebiten.KeyG: "g",
}

// script is the self-test: draw a 7 with the mouse path, target 3, run L2,
// wait for the result, take a screenshot, quit.
func (g *game) script() error {
	a := g.ui.App
	switch g.step {
	case 0:
		// Let the frame rate settle with nothing running, then draw and run.
		if g.started.IsZero() {
			g.started = time.Now()
		}
		if time.Since(g.started) < 2*time.Second {
			return nil
		}
		fmt.Printf("self-test: frame rate idle: %.0f fps\n", ebiten.ActualFPS())
		g.deadline = time.Now().Add(3 * time.Minute)
		g.started = time.Now()
		g.ui.Draw([][2]int{{70, 60}, {200, 60}, {120, 240}})
		g.ui.Do("target-3")
		g.ui.Do("run")
		g.step++
	case 1:
		a.Lock()
		done := !a.Running && len(a.Outcomes) == 1
		failed := a.Error
		a.Unlock()
		if failed != "" {
			return fmt.Errorf("self-test: %s", failed)
		}
		if time.Since(g.started) > time.Second { // the frame rate while the attack runs
			fps := ebiten.ActualFPS()
			if g.fpsN == 0 || fps < g.fpsMin {
				g.fpsMin = fps
			}
			g.fpsSum += fps
			g.fpsN++
		}
		if done {
			g.step++ // the next Draw shows the result and takes the shot
			fmt.Printf("self-test: L2 attack finished in %.1fs", time.Since(g.started).Seconds())
			if g.fpsN > 0 {
				fmt.Printf("; frame rate while it ran: min %.0f, mean %.0f fps", g.fpsMin, g.fpsSum/float64(g.fpsN))
			}
			fmt.Println()
		}
	case 3:
		return ebiten.Termination
	}
	if time.Now().After(g.deadline) {
		return errors.New("self-test: the attack did not finish in 3 minutes")
	}
	return nil
}

func (g *game) Draw(screen *ebiten.Image) {
	screen.Fill(bg)
	a := g.ui.App
	a.Lock()
	input := append([]float32(nil), a.Input...)
	probs := append([]float32(nil), a.Probs...)
	pred := a.Predicted()
	buttons := g.ui.Buttons()
	live := a.Live
	outcomes := append([]demo.Outcome(nil), a.Outcomes...)
	running, errText := a.Running, a.Error
	if a.Stopped && errText == "" {
		errText = "stopped"
	}
	allTargets, compared := a.AllTargets, a.Compared
	cur, _ := a.Current()
	loading := a.Loading
	t := a.T
	strokes := a.Strokes
	a.Unlock()

	say(screen, "TADD playground: defensive distillation with a teacher assistant, and the Carlini-Wagner attacks that break it", 20, 14, ink)

	// Drawing pad and what the model sees.
	c := playground.Canvas
	blit(screen, g.pad(strokes), c, 1)
	say(screen, "Draw a digit here (mouse). The model sees:", c.X0, c.Y1+4, muted)
	blit(screen, g.input.get(input, func(x []float32) image.Image { return render.Image(x, 28, 28, 1, 1) }), playground.Preview, 3)
	for i, img := range g.gallery {
		r := playground.Gallery
		x0, y0 := r.X0+(i%5)*34, r.Y0+(i/5)*42
		blit(screen, img, playground.Rect{X0: x0, Y0: y0, X1: x0 + 28, Y1: y0 + 28}, 1)
	}
	say(screen, "real MNIST digits (G: next)", playground.Gallery.X0, playground.Gallery.Y1-2, muted)

	// Controls.
	say(screen, "Temperature (left/right)", 330, 36, muted)
	say(screen, "Network (up/down)", 330, 82, muted)
	say(screen, "Attack (1 2 3) and target", 330, 146, muted)
	for _, b := range buttons {
		drawButton(screen, b)
	}
	info := "loading..."
	if !loading && cur.File != "" {
		info = fmt.Sprintf("%s, T=%g: %.2f%% accurate, %d epochs", cur.DisplayName(), t, 100*cur.TestAccuracy, cur.Epochs)
	}
	say(screen, info, 330, 126, ink)
	for i, line := range []string{"Keys:", "R run, K compare the chain, S stop", "C clear, U undo, P save the PNG", "G next gallery digit", "left/right: T, up/down: network", "1 2 3: L2, L0, Linf"} {
		say(screen, line, 20, 462+16*i, muted)
	}

	// The current input's probabilities.
	headline := "Prediction: -"
	if pred >= 0 {
		headline = fmt.Sprintf("Prediction: %d (%.1f%%)", pred, 100*probs[pred])
	}
	say(screen, headline, playground.Probs.X0, playground.Probs.Y0-16, ink)
	drawBars(screen, playground.Probs, probs, pred, -1)

	// The attack.
	im := playground.Images
	advImg := input
	if live != nil && len(live.Image) == 784 {
		advImg = live.Image
	}
	w := (im.X1 - im.X0 - 20) / 3
	for i, v := range []struct {
		img   *ebiten.Image
		label string
	}{
		{g.input.img, "original"},
		{g.adv.get(advImg, func(x []float32) image.Image { return render.Image(x, 28, 28, 1, 1) }), "adversarial"},
		{g.heat.get(advImg, func(x []float32) image.Image { return render.Perturbation(x, input, 28, 28, 1, 1, 1) }), "perturbation"},
	} {
		r := playground.Rect{X0: im.X0 + i*(w+10), Y0: im.Y0, X1: im.X0 + i*(w+10) + w, Y1: im.Y0 + w}
		blit(screen, v.img, r, float64(w)/28)
		say(screen, v.label, r.X0, r.Y1+2, muted)
	}
	if live != nil {
		col := ink
		if running {
			col = bad
		}
		box := playground.LiveBox
		for i, line := range liveLines(live, running, (box.X1-box.X0)/7) {
			say(screen, line, box.X0, box.Y0+1+13*i, col)
		}
		top := nn.Argmax(live.Probs)
		target := -1
		if len(outcomes) > 0 {
			target = outcomes[len(outcomes)-1].Result.Goal.Target
		}
		say(screen, "Probabilities of the adversarial image", playground.Bars.X0, playground.Bars.Y0-16, muted)
		drawBars(screen, playground.Bars, live.Probs, top, target)
	}
	r := playground.Results
	switch {
	case errText != "":
		say(screen, errText, r.X0, r.Y0+10, bad)
	case len(outcomes) == 1 && !running:
		o := outcomes[0].Result
		if o.Success {
			say(screen, "Adversarial example found", r.X0, r.Y0+10, good)
		} else {
			say(screen, "Attack failed within its budget", r.X0, r.Y0+10, bad)
		}
		say(screen, fmt.Sprintf("classified %d  L0 %d px  L2 %.3f  Linf %.3f", o.Predicted, o.L0, o.L2, o.LInf), r.X0, r.Y0+28, ink)
		say(screen, fmt.Sprintf("%d iterations in %.1fs", o.Iterations, outcomes[0].Elapsed.Seconds()), r.X0, r.Y0+46, muted)
	case len(outcomes) > 1:
		say(screen, "model       class  L0    L2     Linf   time", r.X0, r.Y0+10, muted)
		best := -1
		if live != nil {
			best = pick(outcomes, live.Attack, allTargets && !compared)
		}
		step := min(18, 120/len(outcomes))
		for i, o := range outcomes {
			col := ink
			if i == best && !running {
				col = good
			}
			name := o.Model.DisplayName()
			if allTargets {
				name = fmt.Sprintf("%.7s>%d", o.Model.DisplayName(), o.Result.Goal.Target)
			}
			say(screen, fmt.Sprintf("%-10s  -> %d  %4d  %.3f  %.3f  %.1fs", name, o.Result.Predicted, o.Result.L0, o.Result.L2,
				o.Result.LInf, o.Elapsed.Seconds()), r.X0, r.Y0+28+step*i, col)
		}
		if !running && allTargets && !compared {
			say(screen, "green: the nearest target (smallest change)", r.X0, r.Y0+28+step*len(outcomes), muted)
		} else if !running {
			say(screen, "green: needed the largest perturbation", r.X0, r.Y0+28+step*len(outcomes), muted)
		}
	}
	if g.ui.Status != "" {
		say(screen, g.ui.Status, 20, playground.Height-22, muted)
	}
	say(screen, "Budgets: "+shortBudget, 20, playground.Height-40, muted)

	if g.selftest != "" && g.step == 2 && !g.shot {
		g.shot = true
		if err := saveScreen(screen, g.selftest); err != nil {
			g.err = err
		}
		g.step++
	}
}

const shortBudget = "the web demo's: L2 4x100 iterations, L0 60 per c, Linf 60 per c (see the page for the paper's)"

func (g *game) Layout(int, int) (int, int) { return playground.Width, playground.Height }

// liveLines is the live state in lines of at most width characters of
// the ASCII-only bitmap font.
func liveLines(l *demo.Live, running bool, width int) []string {
	who, details := l.Describe(running, false)
	lines := []string{strings.ReplaceAll(who, "∞", "inf") + ":"}
	for _, d := range details {
		d = strings.ReplaceAll(d, "τ", "tau")
		if last := &lines[len(lines)-1]; len(*last)+2+len(d) <= width {
			*last += " " + d + ","
			continue
		}
		lines = append(lines, d+",")
	}
	last := &lines[len(lines)-1]
	*last = strings.TrimSuffix(*last, ",")
	return lines
}

// pick is the outcome that needed the largest perturbation in the
// attack's own measure, or with smallest, the one that needed the least.
func pick(os []demo.Outcome, attack string, smallest bool) int {
	best, bestD := -1, 0.0
	for i, o := range os {
		d := demo.Distance(attack, o.Result)
		if math.IsInf(d, 1) {
			continue
		}
		if best < 0 || (smallest && d < bestD) || (!smallest && d > bestD) {
			best, bestD = i, d
		}
	}
	return best
}

func say(dst *ebiten.Image, s string, x, y int, c color.Color) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(float64(x), float64(y))
	op.ColorScale.ScaleWithColor(c)
	text.Draw(dst, s, face, op)
}

func blit(dst, img *ebiten.Image, r playground.Rect, scale float64) {
	if img == nil {
		return
	}
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(scale, scale)
	op.GeoM.Translate(float64(r.X0), float64(r.Y0))
	dst.DrawImage(img, op)
}

func drawButton(dst *ebiten.Image, b playground.Button) {
	r := b.Rect
	fill, fg := color.Color(panel), color.Color(ink)
	if b.On {
		fill, fg = accent, color.White
	}
	if !b.Enabled && !b.On {
		fg = rule
	}
	vector.DrawFilledRect(dst, float32(r.X0), float32(r.Y0), float32(r.X1-r.X0), float32(r.Y1-r.Y0), fill, false)
	vector.StrokeRect(dst, float32(r.X0), float32(r.Y0), float32(r.X1-r.X0), float32(r.Y1-r.Y0), 1, rule, false)
	w, _ := text.Measure(b.Label, face, 0)
	say(dst, b.Label, r.X0+(r.X1-r.X0-int(w))/2, r.Y0+6, fg)
}

// drawBars draws ten probability bars; hi is the top class (blue), target
// the attack's target (red).
func drawBars(dst *ebiten.Image, r playground.Rect, p []float32, hi, target int) {
	if len(p) != 10 {
		return
	}
	h := float32(r.Y1-r.Y0) / 10
	for i, v := range p {
		y := float32(r.Y0) + float32(i)*h
		say(dst, fmt.Sprint(i), r.X0, int(y)+3, ink)
		x0, w := float32(r.X0+14), float32(r.X1-r.X0-70)
		vector.DrawFilledRect(dst, x0, y+4, w, h-8, barBack, false)
		col := color.Color(muted)
		if i == hi {
			col = accent
		}
		if i == target {
			col = bad
		}
		vector.DrawFilledRect(dst, x0, y+4, w*float32(v), h-8, col, false)
		say(dst, fmt.Sprintf("%5.1f", 100*v), int(x0+w)+6, int(y)+3, ink)
	}
}

// saveScreen writes what is on screen as a PNG.
func saveScreen(screen *ebiten.Image, path string) error {
	b := screen.Bounds()
	pix := make([]byte, 4*b.Dx()*b.Dy())
	screen.ReadPixels(pix)
	img := &image.RGBA{Pix: pix, Stride: 4 * b.Dx(), Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() {
	modelDir := flag.String("models", "", "folder of models with manifest.json (default: the shipped ones)")
	out := flag.String("out", ".", "folder where P saves adversarial examples")
	selftest := flag.String("selftest", "", "draw a 7, run an L2 attack to 3, save a screenshot to this PNG and quit")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "tadd-playground: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	models := pretrained.FS()
	if *modelDir != "" {
		models = os.DirFS(*modelDir)
	}
	ui, err := playground.New(models, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tadd-playground:", err)
		os.Exit(1)
	}
	g := &game{ui: ui, selftest: *selftest}
	ui.App.Lock()
	if set := ui.App.Gallery; set != nil {
		for i := range min(10, set.Len()) {
			g.gallery = append(g.gallery, ebiten.NewImageFromImage(render.Image(set.Image(i), 28, 28, 1, 1)))
		}
	}
	ui.App.Unlock()
	ebiten.SetWindowSize(playground.Width, playground.Height)
	ebiten.SetWindowTitle("TADD playground")
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	if err := ebiten.RunGame(g); err != nil {
		fmt.Fprintln(os.Stderr, "tadd-playground:", err)
		os.Exit(1)
	}
}
