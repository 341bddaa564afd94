//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall/js"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/demo"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
)

// The page and its attack workers (site/static/attack-worker.js) exchange
// plain objects {type, id, data}: the page posts "run" (data: a demo.Job as
// JSON), "stop" and "ack"; a worker answers "ready" once (data: its
// kernels), then "progress" (a demo.Live of the goal it watches; the page
// may drop some), "finished" (a demo.Live marking one goal's end; never
// dropped), and "done" (the job's []attack.Result, one per goal) or "error"
// (a message) for each job.
//
// Progress is flow-controlled (demo.ProgressGate): a worker posts the next
// "progress" only after the page has acknowledged the last one ("ack" with
// the job's id; a late ack of an earlier job does not count), and skips the
// reports in between. The page renders each report it takes, which can be
// slower than a worker makes them (every 50 ms): without the ack its queue
// of messages grew by seconds, so that the page showed "1 of 9 done" while
// the worker had finished five, and a Stop was answered only after the
// page had worked through that backlog.

// inWorker says whether this instance runs in a Web Worker (no document).
func inWorker() bool { return js.Global().Get("document").IsUndefined() }

// yieldToWorkerLoop blocks until a MessageChannel message arrives: with every
// goroutine blocked, the Go runtime returns to the worker's event loop,
// which delivers "stop" before the attack resumes. Unlike setTimeout, a
// message is not clamped to 4 ms.
func yieldToWorkerLoop(ch js.Value) {
	done := make(chan struct{})
	var cb js.Func
	cb = js.FuncOf(func(js.Value, []js.Value) any {
		cb.Release()
		close(done)
		return nil
	})
	ch.Get("port1").Set("onmessage", cb)
	ch.Get("port2").Call("postMessage", nil)
	<-done
}

// runWorker serves attack jobs until the worker is terminated. It runs one
// job at a time, with its own model cache and the kernels the worker loaded.
func runWorker(kern kernel.Kernels) {
	self := js.Global()
	post := func(typ string, id int, data string) {
		self.Call("postMessage", map[string]any{"type": typ, "id": id, "data": data})
	}
	var mu sync.Mutex
	cancels := map[int]context.CancelFunc{} // of the running or queued jobs
	type request struct {
		id  int
		job string
		ctx context.Context
	}
	jobs := make(chan request, 8)
	var gate demo.ProgressGate // a "progress" goes out once the page took the last one
	onMessage := js.FuncOf(func(_ js.Value, args []js.Value) any {
		d := args[0].Get("data")
		if d.Type() != js.TypeObject {
			return nil
		}
		id := d.Get("id").Int()
		switch d.Get("type").String() {
		case "run":
			ctx, cancel := context.WithCancel(context.Background())
			select {
			case jobs <- request{id, d.Get("data").String(), ctx}:
				mu.Lock()
				cancels[id] = cancel
				mu.Unlock()
			default:
				cancel()
				post("error", id, "worker busy")
			}
		case "stop":
			mu.Lock()
			if cancel, ok := cancels[id]; ok {
				cancel()
			}
			mu.Unlock()
		case "ack":
			gate.Ack(id)
		}
		return nil
	})
	self.Set("onmessage", onMessage)
	post("ready", 0, kern.Name())

	models := catalog.NewCache[*nn.Model](0)
	channel := js.Global().Get("MessageChannel").New()
	for req := range jobs {
		gate.Start(req.id)
		res, err := workerJob(req.ctx, req.job, models, kern, func(l demo.Live) {
			typ := "finished"
			if !l.Finished {
				if !gate.Post() {
					return
				}
				typ = "progress"
			}
			b, _ := json.Marshal(l)
			post(typ, req.id, string(b))
		}, func() { yieldToWorkerLoop(channel) })
		mu.Lock()
		if cancel, ok := cancels[req.id]; ok {
			cancel()
			delete(cancels, req.id)
		}
		mu.Unlock()
		if err != nil {
			post("error", req.id, err.Error())
			continue
		}
		post("done", req.id, res)
	}
}

// workerJob decodes and runs one job and returns its results as JSON.
func workerJob(ctx context.Context, jobJSON string, models *catalog.Cache[*nn.Model], kern kernel.Kernels,
	progress func(demo.Live), yield func()) (string, error) {
	var job demo.Job
	if err := json.Unmarshal([]byte(jobJSON), &job); err != nil {
		return "", fmt.Errorf("bad job: %w", err)
	}
	m, err := demo.FetchModel(models, fetch, job.Model.File, kern)
	if err != nil {
		return "", err
	}
	res, err := demo.RunJob(ctx, m, job, demo.Budgets(), progress, yield)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(res)
	return string(b), err
}
