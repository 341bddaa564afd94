package demo

import (
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/data"
)

func TestQueryRoundTrip(t *testing.T) {
	a := ready(t)
	a.Choose(20, 2)
	a.Lock()
	a.UseGallery(3)
	a.SetAttack("linf")
	a.SetTarget("5")
	q := a.Query()
	a.Unlock()
	if q.Has("ink") {
		t.Errorf("a gallery digit is sent as a drawing: %v", q)
	}
	b := ready(t)
	b.Lock()
	temp, step, err := b.ApplyQuery(q)
	b.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	b.Choose(temp, step)
	if b.T != 20 || b.Step != 2 || b.Attack != "linf" || b.Target != "5" || b.Picked != 3 || !reflect.DeepEqual(b.Input, a.Input) {
		t.Fatalf("restored T %g step %d attack %q target %q digit %d from %v", b.T, b.Step, b.Attack, b.Target, b.Picked, q)
	}
}

// A drawing (here strokes on a gallery digit) travels as ink and comes
// back as the same input to a 256th, with the same prediction.
func TestQueryRoundTripDrawing(t *testing.T) {
	a := ready(t)
	a.Lock()
	a.UseGallery(1)
	a.SetDrawing([]data.Stroke{{{X: 40, Y: 250}, {X: 140, Y: 200}, {X: 240, Y: 250}}}, 280, 280, 20)
	q := a.Query()
	want, wantClass := a.Input, a.Predicted()
	a.Unlock()
	if q.Has("digit") || !q.Has("ink") {
		t.Fatalf("a drawing on a gallery digit: query %v", q)
	}
	t.Logf("ink: %d characters", len(q.Get("ink")))
	b := ready(t)
	b.Lock()
	temp, step, err := b.ApplyQuery(q)
	b.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	b.Choose(temp, step)
	b.Lock()
	defer b.Unlock()
	for i := range want {
		if d := math.Abs(float64(b.Input[i] - want[i])); d > 0.5/255+1e-6 {
			t.Fatalf("pixel %d: %.4f, drawn %.4f", i, b.Input[i], want[i])
		}
	}
	if b.Predicted() != wantClass || b.Picked != -1 || len(b.Strokes) != 0 || b.Base == nil {
		t.Fatalf("restored: class %d (drawn %d), picked %d, %d strokes", b.Predicted(), wantClass, b.Picked, len(b.Strokes))
	}
	// The restored drawing writes the same link again.
	if got := b.Query().Get("ink"); got != q.Get("ink") {
		t.Errorf("the restored drawing's ink differs:\n%s\n%s", got, q.Get("ink"))
	}
	// A blank pad sends no input.
	b.Clear()
	if q := b.Query(); q.Has("ink") || q.Has("digit") {
		t.Errorf("blank pad: %v", q)
	}
}

func TestApplyQueryBadInput(t *testing.T) {
	long := strings.Repeat("A", MaxInk+1)
	zeros := EncodeInk(make([]float32, 784))
	for _, c := range []struct {
		name  string
		query url.Values
		says  []string
	}{
		{"temperature", url.Values{"T": {"7"}}, []string{"T=\"7\"", "no models"}},
		{"network", url.Values{"net": {"99"}}, []string{"net=\"99\"", "0 to 6"}},
		{"attack", url.Values{"attack": {"x"}}, []string{"attack=\"x\"", "l2, l0 or linf"}},
		{"target", url.Values{"target": {"11"}}, []string{"target=\"11\""}},
		{"digit", url.Values{"digit": {"-1"}}, []string{"digit=\"-1\"", "gallery"}},
		{"ink not base64", url.Values{"ink": {"a*b"}}, []string{"ink", "not base64url"}},
		{"ink not deflate", url.Values{"ink": {"____"}}, []string{"ink", "damaged"}},
		{"ink cut short", url.Values{"ink": {zeros[:len(zeros)-2]}}, []string{"ink"}},
		{"ink too few pixels", url.Values{"ink": {inkOfBytes(make([]byte, 100))}}, []string{"100 pixels"}},
		{"ink too many pixels", url.Values{"ink": {inkOfBytes(make([]byte, 5000))}}, []string{"785 or more pixels"}},
		{"ink too long", url.Values{"ink": {long}}, []string{"at most"}},
		{"everything", url.Values{"T": {"x"}, "net": {"-1"}, "attack": {""}, "target": {"x"}, "ink": {"!"}}, []string{"T=", "net=", "attack=", "target=", "ink:"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := ready(t)
			a.Lock()
			temp, step, err := a.ApplyQuery(c.query)
			a.Unlock()
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			// What could not be read is left as it was.
			if temp != 1 || step != 0 || a.Attack != "l2" || a.Target != "untargeted" || a.Picked != -1 || !a.Blank() {
				t.Errorf("after %v: T %g step %d attack %q target %q digit %d", c.query, temp, step, a.Attack, a.Target, a.Picked)
			}
		})
	}
}

// inkOfBytes deflates raw bytes as EncodeInk does, for malformed drawings.
func inkOfBytes(raw []byte) string { return encodeInkBytes(raw) }

func FuzzDecodeInk(f *testing.F) {
	x := make([]float32, 784)
	for i := range x {
		x[i] = float32(i%7) / 6
	}
	f.Add(EncodeInk(x))
	f.Add(EncodeInk(make([]float32, 784)))
	f.Add("")
	f.Add("____")
	f.Add(inkOfBytes(make([]byte, 783)))
	f.Fuzz(func(t *testing.T, s string) {
		x, err := DecodeInk(s)
		if err != nil {
			if x != nil || err.Error() == "" {
				t.Fatalf("error %v with %d values", err, len(x))
			}
			return
		}
		if len(x) != 784 {
			t.Fatalf("%d values", len(x))
		}
		for _, v := range x {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %v", v)
			}
		}
		if y, err := DecodeInk(EncodeInk(x)); err != nil || !reflect.DeepEqual(x, y) {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

func FuzzApplyQuery(f *testing.F) {
	f.Add("T=20&net=2&attack=linf&target=5&digit=3")
	f.Add("T=1&ink=" + EncodeInk(make([]float32, 784)))
	f.Add("T=NaN&net=1e9&digit=99999999999999999999")
	a := New(site(f))
	if err := a.Init(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		a.Lock()
		defer a.Unlock()
		temp, step, err := a.ApplyQuery(q)
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		if step < 0 || step > 6 || math.IsNaN(temp) {
			t.Fatalf("T %g step %d", temp, step)
		}
	})
}
