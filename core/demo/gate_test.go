package demo

import "testing"

// TestProgressGate: a worker posts a job's next progress report only after
// the page acknowledged the last one of that job; a late ack of the
// previous job does not open the gate for the next, so that at most one
// report is in flight.
func TestProgressGate(t *testing.T) {
	var g ProgressGate
	g.Start(1)
	if !g.Post() {
		t.Fatal("job 1: the first report is held back")
	}
	if g.Post() {
		t.Fatal("job 1: a second report is posted before the ack")
	}
	// Job 1 ends with its report in flight; job 2 starts.
	g.Start(2)
	if !g.Post() {
		t.Fatal("job 2: the first report is held back by job 1's")
	}
	g.Ack(1) // the page's late ack of job 1's report
	if g.Post() {
		t.Fatal("job 2: job 1's late ack let a second report through before job 2's ack")
	}
	g.Ack(2)
	if !g.Post() {
		t.Fatal("job 2: the report after the ack is held back")
	}
}
