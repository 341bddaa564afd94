package findings

import (
	"fmt"
	"math"
	"time"
)

// Provenance says, in a sentence for a reader, where and how long the
// run's models (models of them, at least r.Untimed) computed: the wall
// time summed over the samples files that record it, how many do not
// (their time is unknown, so the sum is a lower bound), and the machines.
// The report, the README's findings table and the web page all state it.
func (r Run) Provenance(models int) string {
	var s string
	switch {
	case r.WallSeconds > 0 && r.Untimed == 0:
		s = fmt.Sprintf("Computing took %s of wall time, summed over the samples files of the %d models", duration(r.WallSeconds), models)
	case r.WallSeconds > 0:
		files := "files do not"
		if r.Untimed == 1 {
			files = "file does not"
		}
		s = fmt.Sprintf("Computing took %s of wall time, summed over the samples files of %d of the %d models; the other %d %s record it (unknown)",
			duration(r.WallSeconds), models-r.Untimed, models, r.Untimed, files)
	default:
		s = "Compute time unknown: the samples files do not record it"
	}
	if r.Machine != "" {
		return s + "; machine: " + r.Machine + "."
	}
	return s + "; machine unknown."
}

// duration writes seconds as "3h12m5s" (as whole hours beyond what a
// time.Duration holds).
func duration(seconds float64) string {
	if seconds >= math.MaxInt64/float64(time.Second) {
		return fmt.Sprintf("%.0fh", seconds/3600)
	}
	return time.Duration(seconds * float64(time.Second)).Round(time.Second).String()
}
