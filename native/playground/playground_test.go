package playground

import (
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tadd-project/tadd/pretrained"
)

func newUI(t *testing.T) *UI {
	t.Helper()
	u, err := New(pretrained.FS(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func waitIdle(t *testing.T, u *UI) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		u.App.Lock()
		running := u.App.Running
		u.App.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("attack did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seven draws a 7 with the mouse: a bar and a diagonal.
func seven(u *UI) {
	u.Draw([][2]int{{70, 60}, {200, 60}, {120, 240}})
}

func TestDrawingPredictsAndUndoes(t *testing.T) {
	u := newUI(t)
	seven(u)
	u.App.Lock()
	pred, strokes := u.App.Predicted(), len(u.App.Strokes)
	u.App.Unlock()
	if pred != 7 || strokes != 1 {
		t.Fatalf("drew a 7: predicted %d, %d strokes", pred, strokes)
	}
	u.Key("u")
	u.App.Lock()
	blank := u.App.Blank()
	u.App.Unlock()
	if !blank {
		t.Fatal("undo left ink")
	}
	// A click outside the canvas draws nothing.
	u.PointerDown(5, 5)
	u.PointerMove(10, 10)
	u.PointerUp()
	u.App.Lock()
	blank = u.App.Blank()
	u.App.Unlock()
	if !blank {
		t.Fatal("drawing outside the canvas")
	}
}

func TestButtonsAndKeys(t *testing.T) {
	u := newUI(t)
	u.App.Lock()
	bs := u.Buttons()
	u.App.Unlock()
	ids := map[string]Button{}
	for _, b := range bs {
		ids[b.ID] = b
	}
	for _, id := range []string{"T1", "step0", "step1", "step2", "atk-l2", "atk-l0", "atk-linf", "run", "compare", "stop", "clear", "save"} {
		if _, ok := ids[id]; !ok {
			t.Fatalf("no button %q", id)
		}
	}
	if ids["run"].Enabled || ids["stop"].Enabled {
		t.Fatal("run or stop enabled on a blank canvas")
	}
	// Buttons do not overlap each other or the canvas.
	for i, a := range bs {
		for _, b := range bs[i+1:] {
			if a.Rect.X0 < b.Rect.X1 && b.Rect.X0 < a.Rect.X1 && a.Rect.Y0 < b.Rect.Y1 && b.Rect.Y0 < a.Rect.Y1 {
				t.Fatalf("buttons %s and %s overlap", a.ID, b.ID)
			}
		}
		if a.Rect.X1 > Width || a.Rect.Y1 > Height || a.Rect.X0 < Canvas.X1 {
			t.Fatalf("button %s at %+v is off the control area", a.ID, a.Rect)
		}
	}
	// Clicking the L0 button, then key 3 (L∞), then down (the assistant).
	r := ids["atk-l0"].Rect
	u.Click(r.X0+2, r.Y0+2)
	u.App.Lock()
	if u.App.Attack != "l0" {
		t.Fatalf("attack %q after clicking L0", u.App.Attack)
	}
	u.App.Unlock()
	u.Key("3")
	u.Key("down")
	deadline := time.Now().Add(10 * time.Second)
	for {
		u.App.Lock()
		step, atk := u.App.Step, u.App.Attack
		u.App.Unlock()
		if step == 1 && atk == "linf" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("step %d attack %q after keys", step, atk)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The gallery: a click shows a real digit.
	u.Click(Gallery.X0+3, Gallery.Y0+3)
	u.App.Lock()
	blank := u.App.Blank()
	u.App.Unlock()
	if blank {
		t.Fatal("gallery click left the input blank")
	}
}

func TestAttackStopAndSave(t *testing.T) {
	u := newUI(t)
	seven(u)
	if _, err := u.Save(); err == nil {
		t.Fatal("saved before any attack")
	}
	u.Do("target-3")
	u.Key("r")
	waitIdle(t, u)
	u.App.Lock()
	if len(u.App.Outcomes) != 1 || !u.App.Outcomes[0].Result.Success || u.App.Outcomes[0].Result.Predicted != 3 {
		t.Fatalf("attack: %q, outcomes %+v", u.App.Error, u.App.Outcomes)
	}
	u.App.Unlock()
	u.Key("p")
	if !strings.HasPrefix(u.Status, "saved ") {
		t.Fatalf("status %q", u.Status)
	}
	path := strings.TrimPrefix(u.Status, "saved ")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 28 {
		t.Fatalf("saved PNG: %v, %v", err, img.Bounds())
	}
	// Compare runs teacher, assistant and student; Stop stops a run.
	u.Key("k")
	waitIdle(t, u)
	u.App.Lock()
	n := len(u.App.Outcomes)
	u.App.Unlock()
	if n != 3 {
		t.Fatalf("compare gave %d outcomes", n)
	}
	u.Do("atk-l0")
	u.Do("target-untargeted")
	u.Key("r")
	u.Key("s")
	waitIdle(t, u)
	u.App.Lock()
	defer u.App.Unlock()
	if !u.App.Stopped || u.App.Error != "" {
		t.Fatalf("after stop: stopped %v, error %q", u.App.Stopped, u.App.Error)
	}
}
