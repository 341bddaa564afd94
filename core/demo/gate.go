package demo

import "sync"

// ProgressGate is an attack worker's flow control of its progress reports
// (wasm/worker_wasm.go): a report of the running job goes out only once
// the page has acknowledged the last one, so that at most one is in
// flight. Safe for concurrent use; the zero value has nothing in flight.
type ProgressGate struct {
	mu      sync.Mutex
	job     int  // the running job's id
	waiting bool // a report of job is in flight
}

// Start begins job id: nothing of it is in flight.
func (g *ProgressGate) Start(id int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.job, g.waiting = id, false
}

// Post says whether a progress report of the running job may go out now;
// if so, it is in flight until its ack.
func (g *ProgressGate) Post() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waiting {
		return false
	}
	g.waiting = true
	return true
}

// Ack takes the page's acknowledgement of a report of job id. A late ack
// of an earlier job leaves the running job's report in flight.
func (g *ProgressGate) Ack(id int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if id == g.job {
		g.waiting = false
	}
}
