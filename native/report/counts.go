package report

import (
	"fmt"
	"html"
	"strings"

	"github.com/tadd-project/tadd/core/eval"
)

// attackedText says which test images the attacks ran on: "the first 200
// of them", or per attack when the counts differ ("the first 200 of them
// (l0: the first 100)").
func (r *Results) attackedText() string {
	return fmt.Sprintf("the first %d of them", r.AttackSamples) + fewerText(r.Attacks, r.AttackSamples, r.AttackCounts)
}

// fewerText names, as " (l0: the first 100)", the attacks whose count
// differs from all ("" when none does).
func fewerText(attacks []string, all int, per map[string]int) string {
	c := eval.Counts{All: all, Per: per}
	var fewer []string
	for _, a := range attacks {
		if n := c.Of(a); n != all {
			fewer = append(fewer, fmt.Sprintf("%s: the first %d", a, n))
		}
	}
	if len(fewer) == 0 {
		return ""
	}
	return " (" + strings.Join(fewer, "; ") + ")"
}

// notEvaluatedHTML names the models the run left out ("" when none).
func notEvaluatedHTML(models []string) string {
	if len(models) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<p class="note">Models of the chains not evaluated (every figure and finding is over the others):</p><ul class="note">`)
	for _, m := range models {
		fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(m))
	}
	b.WriteString("</ul>")
	return b.String()
}
