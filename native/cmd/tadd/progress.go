package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the one progress-bar setup of the commands: a count, a
// predicted time, redrawn at most five times a second and cleared when
// done. Quiet, it draws nothing.
type progress struct {
	w     io.Writer
	quiet bool
	bar   *progressbar.ProgressBar
	last  int
}

// set shows done of total with a description; a count that goes back (a
// new epoch, a new attack) starts a new bar.
func (p *progress) set(done, total int, desc string) {
	if p.quiet {
		return
	}
	if p.bar == nil || done < p.last {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	p.last = done
	p.bar.Describe(desc)
	p.bar.Set(done)
}

// finish ends the bar being drawn, if any.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	p.last = 0
}
