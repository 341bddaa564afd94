package demo

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/tadd-project/tadd/core/attack"
)

// Query is the page's state as URL parameters, for a link that restores
// it: temperature, network, attack, target and the gallery digit.
func (a *App) Query() url.Values {
	q := url.Values{}
	q.Set("T", fmt.Sprint(a.T))
	q.Set("net", fmt.Sprint(a.Step))
	q.Set("attack", a.Attack)
	q.Set("target", a.Target)
	if a.Picked >= 0 && len(a.Strokes) == 0 {
		q.Set("digit", fmt.Sprint(a.Picked))
	}
	return q
}

// ApplyQuery restores what Query wrote (values that do not parse or do not
// exist are ignored) and returns the temperature and step to Choose. Call
// with the lock held, after Init.
func (a *App) ApplyQuery(q url.Values) (t float64, step int) {
	t, step = a.T, a.Step
	if v, err := strconv.ParseFloat(q.Get("T"), 64); err == nil {
		for _, have := range a.Temperatures() {
			if have == v {
				t = v
			}
		}
	}
	if v, err := strconv.Atoi(q.Get("net")); err == nil && v >= 0 && v <= 6 {
		step = v
	}
	if v := q.Get("attack"); attack.CheckName(v) == nil {
		a.Attack = v
	}
	switch v := q.Get("target"); v {
	case "untargeted", "least", "all", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9":
		a.Target = v
	}
	if v, err := strconv.Atoi(q.Get("digit")); err == nil && a.Gallery != nil && v >= 0 && v < a.Gallery.Len() {
		a.UseGallery(v)
	}
	return t, step
}
