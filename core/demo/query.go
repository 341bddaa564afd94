package demo

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/tadd-project/tadd/core/attack"
)

// Query is the page's state as URL parameters, for a link that restores
// it: temperature, network, attack, target and the input — a gallery
// digit by its index, a drawing as ink (EncodeInk) when it is short
// enough. Call with the lock held.
func (a *App) Query() url.Values {
	q := url.Values{}
	q.Set("T", fmt.Sprint(a.T))
	q.Set("net", fmt.Sprint(a.Step))
	q.Set("attack", a.Attack)
	q.Set("target", a.Target)
	switch {
	case a.Picked >= 0 && len(a.Strokes) == 0:
		q.Set("digit", fmt.Sprint(a.Picked))
	case !a.Blank():
		if s := a.inkOf(a.Input); len(s) <= MaxInk {
			q.Set("ink", s)
		}
	}
	return q
}

// inkOf is EncodeInk(x), remembered for the last input: the page asks for
// its query after every render.
func (a *App) inkOf(x []float32) string {
	if len(x) == 0 || len(a.inkFor) != len(x) || &a.inkFor[0] != &x[0] {
		a.inkFor, a.ink = x, EncodeInk(x)
	}
	return a.ink
}

// ApplyQuery restores what Query wrote and returns the temperature and step
// to Choose. A parameter that does not parse or names nothing that exists
// is left out; the error says which and why. Call with the lock held,
// after Init.
func (a *App) ApplyQuery(q url.Values) (t float64, step int, err error) {
	t, step = a.T, a.Step
	var bad []string
	if v, ok := q["T"]; ok {
		f, perr := strconv.ParseFloat(v[0], 64)
		found := false
		for _, have := range a.Temperatures() {
			if perr == nil && have == f {
				t, found = f, true
			}
		}
		if !found {
			bad = append(bad, fmt.Sprintf("T=%.20q: no models at that temperature", v[0]))
		}
	}
	if v, ok := q["net"]; ok {
		if n, perr := strconv.Atoi(v[0]); perr == nil && n >= 0 && n <= 6 {
			step = n
		} else {
			bad = append(bad, fmt.Sprintf("net=%.20q: not a chain step 0 to 6", v[0]))
		}
	}
	if v, ok := q["attack"]; ok {
		if cerr := attack.CheckName(v[0]); cerr == nil {
			a.Attack = v[0]
		} else {
			names := attack.Names()
			bad = append(bad, fmt.Sprintf("attack=%.20q: not %s or %s", v[0], strings.Join(names[:len(names)-1], ", "), names[len(names)-1]))
		}
	}
	if v, ok := q["target"]; ok {
		switch v[0] {
		case "untargeted", "least", "all", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9":
			a.Target = v[0]
		default:
			bad = append(bad, fmt.Sprintf("target=%.20q: not a class 0 to 9, untargeted, least or all", v[0]))
		}
	}
	if v, ok := q["digit"]; ok {
		if n, perr := strconv.Atoi(v[0]); perr == nil && a.Gallery != nil && n >= 0 && n < a.Gallery.Len() {
			a.UseGallery(n)
		} else {
			bad = append(bad, fmt.Sprintf("digit=%.20q: not a gallery digit", v[0]))
		}
	} else if v, ok := q["ink"]; ok {
		if x, perr := DecodeInk(v[0]); perr == nil {
			a.UseImage(x)
		} else {
			bad = append(bad, "ink: "+perr.Error())
		}
	}
	if len(bad) > 0 {
		err = errors.New(strings.Join(bad, "; "))
	}
	return t, step, err
}

// MaxInk is the longest ink a link carries (a drawn digit takes a few
// hundred characters; a noisy image more, and its link keeps only the
// settings).
const MaxInk = 1500

// EncodeInk writes a 28×28 input compactly for a URL: each pixel rounded
// to one of 256 levels, the 784 bytes deflated, in unpadded base64url.
func EncodeInk(x []float32) string {
	raw := make([]byte, 784)
	for i := range min(len(x), len(raw)) {
		if v := float64(x[i]); v > 0 { // NaN and below 0 are 0
			raw[i] = byte(math.Round(math.Min(v, 1) * 255))
		}
	}
	return encodeInkBytes(raw)
}

// encodeInkBytes is EncodeInk's deflate and base64url of the pixel bytes.
func encodeInkBytes(raw []byte) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression) // the level is valid
	w.Write(raw)
	w.Close()
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// DecodeInk reads what EncodeInk wrote: a 28×28 input with values in
// [0, 1]. Anything else is an error that says what is wrong.
func DecodeInk(s string) ([]float32, error) {
	if len(s) > MaxInk {
		return nil, fmt.Errorf("the drawing is %d characters long, at most %d", len(s), MaxInk)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the drawing is not base64url: %w", err)
	}
	// 785 bytes at most: one more than an image tells a longer stream
	// from an exact one without inflating a bomb.
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), 785))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("the drawing is cut short")
		}
		return nil, fmt.Errorf("the drawing is damaged: %w", err)
	}
	if len(raw) != 784 {
		more := ""
		if len(raw) > 784 {
			more = " or more"
		}
		return nil, fmt.Errorf("the drawing has %d%s pixels, want 28×28 = 784", len(raw), more)
	}
	x := make([]float32, 784)
	for i, v := range raw {
		x[i] = float32(v) / 255
	}
	return x, nil
}
