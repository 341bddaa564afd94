package demo

import (
	"fmt"
	"math"
	"strings"
)

// GoalText puts a target setting into words.
func GoalText(target string) string {
	switch target {
	case "untargeted":
		return "any other class"
	case "least":
		return "the least likely class"
	case "all":
		return "every other class"
	}
	return "class " + target
}

// StatusLine puts the shown run into words for the Watch panel: one
// attack's own state, or for several the run as a whole (how many are
// done, which one the panel watches, and the total time: attacks that ran
// at once shared the cores, so there are no honest times of each). Call
// with the lock held.
func (a *App) StatusLine() string {
	if a.Ran == nil || a.Live == nil {
		return ""
	}
	n := len(a.jobLive)
	if n <= 1 {
		who, details := a.Live.Describe(a.Running, a.Stopped)
		return who + " · " + strings.Join(details, " · ")
	}
	done := 0
	for _, d := range a.jobDone {
		if d {
			done++
		}
	}
	what := fmt.Sprintf("%s on %d networks at T=%g", AttackLabel(a.Ran.Attack), len(a.Ran.Models), a.Ran.T)
	switch {
	case a.Ran.Baseline:
		what = fmt.Sprintf("gradient sign and %s on %s at T=%g", AttackLabel(a.Ran.Attack), a.Ran.Models[0].DisplayName(), a.Ran.T)
	case !a.Compared:
		what = fmt.Sprintf("%s against %d target classes on %s", AttackLabel(a.Ran.Attack), n, a.Ran.Models[0].DisplayName())
	}
	if a.Running {
		s := fmt.Sprintf("%s · %d of %d done", what, done, n)
		if w := a.watched(); w != nil {
			_, details := w.Describe(true, false)
			s += " · watching " + w.Model + ": " + strings.Join(details, " · ")
		}
		return s
	}
	verb := "finished"
	if a.Stopped {
		verb = "stopped"
	}
	return fmt.Sprintf("%s · %s: %d of %d attacks done in %.1fs, %d at a time", what, verb, done, n, a.Ran.Elapsed.Seconds(), a.Ran.Parallel)
}

// WatchTitle says what the Watch panel's images show. Call with the lock
// held.
func (a *App) WatchTitle() string {
	if a.Ran == nil || a.Live == nil {
		return ""
	}
	goal := GoalText(a.Ran.Target)
	if a.Live.Target >= 0 {
		goal = fmt.Sprintf("class %d", a.Live.Target)
	}
	verb := "Showing"
	if a.Running {
		verb = "Watching"
	}
	return fmt.Sprintf("%s: %s at T=%g · %s · goal %s", verb, a.Live.Model, a.Ran.T, AttackLabel(a.Live.Attack), goal)
}

// ImageCaption says what the Watch panel's second image is. Call with the
// lock held.
func (a *App) ImageCaption() string {
	switch l := a.Live; {
	case l == nil:
		return "adversarial (run an attack)"
	case a.Running && l.Best:
		return "best adversarial so far"
	case a.Running:
		return "the search's current image (not adversarial yet)"
	case l.Best && a.Stopped:
		return "best adversarial found before the stop"
	case l.Best:
		return "adversarial example"
	case a.Stopped:
		return "the search's last image (not adversarial)"
	}
	return "no adversarial example found (the original)"
}

// StopNote explains a stopped run: what the image shown is. Call with the
// lock held.
func (a *App) StopNote() string {
	if !a.Stopped || a.Live == nil {
		return ""
	}
	l := a.Live
	s := fmt.Sprintf("Stopped after %d iterations", l.Iteration)
	if n := len(a.jobLive); n > 1 {
		s = fmt.Sprintf("Stopped with %d of %d attacks done; %s at iteration %d", len(a.Outcomes), n, l.Model, l.Iteration)
	}
	if l.Best {
		return s + ". The image is the best adversarial example found before the stop (" + AttackLabel(l.Attack) + " " +
			FormatDistance(l.Attack, l.Distance) + "); the whole search might have found a smaller change."
	}
	return s + ", before any adversarial example was found: the image is the search's last step, and it is not adversarial."
}

// SensitivityText writes a sensitivity for the page from its amplitude and
// log10 of it (eval.Log10Amplitudes): in powers of ten; where the amplitude
// is below float64's range (0), the power of ten its log gives, and that a
// gradient-following attack sees it as 0; "0" only where even the log is
// not finite.
func SensitivityText(amp, log10 float64) string {
	if amp > 0 && !math.IsInf(amp, 0) {
		e := int(math.Floor(math.Log10(amp)))
		return fmt.Sprintf("%.1f×10%s", amp/math.Pow(10, float64(e)), superscript(e))
	}
	if math.IsInf(log10, 0) || math.IsNaN(log10) {
		return "0: the gradient has vanished"
	}
	return fmt.Sprintf("about 10%s: the gradient has vanished (below the smallest float64, 10⁻³⁰⁸; an attack that follows it sees 0)", superscript(int(math.Floor(log10))))
}

// superscript writes an integer in superscript digits.
func superscript(e int) string {
	sup := map[rune]rune{'-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹'}
	var out []rune
	for _, r := range fmt.Sprint(e) {
		out = append(out, sup[r])
	}
	return string(out)
}

// Announcement is what the page's live region says to a screen reader:
// once when a run starts and once when it ends (its result, its stop or
// the comparison's totals), never each progress report. "" before any
// run. Call with the lock held.
func (a *App) Announcement() string {
	switch {
	case a.Ran == nil || a.Live == nil:
		return ""
	case a.Running:
		who := a.Ran.Models[0].DisplayName()
		if n := len(a.Ran.Models); n > 1 {
			who = fmt.Sprintf("%d networks", n)
		}
		return fmt.Sprintf("%s attack running on %s at T=%g.", AttackLabel(a.Ran.Attack), who, a.Ran.T)
	case a.Stopped:
		return a.StopNote()
	case len(a.jobLive) > 1 || a.Ran.Baseline:
		return a.StatusLine() + "."
	case len(a.Outcomes) != 1:
		return ""
	}
	r := a.Outcomes[0].Result
	if !r.Success {
		return fmt.Sprintf("Attack failed within its budget: the image is still classified %d.", r.Predicted)
	}
	return fmt.Sprintf("Adversarial example found: classified %d · L0 %d pixels · L2 %.3f · L∞ %.3f.", r.Predicted, r.L0, r.L2, r.LInf)
}
