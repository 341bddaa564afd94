//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/demo"
)

// workerPool is the page's demo.Runner: Web Workers, each with its own
// instance of this wasm module, its own kernels and model cache, run the
// attacks, so the page's thread only renders. A run's jobs (a network's
// goals in one batch, or part of them) run on as many workers as there are.
type workerPool struct {
	mu      sync.Mutex
	ready   int
	kernels string
	idle    chan *attackWorker
	nextID  int
}

// attackWorker is one Web Worker and the messages it sent.
type attackWorker struct {
	w    js.Value
	msgs chan workerMsg
}

type workerMsg struct {
	typ  string
	id   int
	data string
}

// startWorkers starts n workers from the page's compiled module (boot.module)
// and calls onReady each time one is ready to take jobs. Failures are
// reported through onError; the page then keeps running attacks itself.
func startWorkers(boot js.Value, n int, onReady func(*workerPool), onError func(error)) *workerPool {
	p := &workerPool{idle: make(chan *attackWorker, n)}
	for range n {
		w := &attackWorker{msgs: make(chan workerMsg, 256)}
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%v", r)
				}
			}()
			w.w = js.Global().Get("Worker").New("attack-worker.js")
		}()
		if err != nil {
			onError(fmt.Errorf("starting a Web Worker: %w", err))
			return p
		}
		w.w.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
			d := args[0].Get("data")
			m := workerMsg{typ: d.Get("type").String(), id: d.Get("id").Int(), data: d.Get("data").String()}
			if m.typ == "ready" {
				p.mu.Lock()
				p.ready++
				p.kernels = m.data
				p.mu.Unlock()
				p.idle <- w
				go onReady(p)
				return nil
			}
			select {
			case w.msgs <- m:
			default:
				if m.typ != "progress" { // progress may be dropped, the end of a job not
					go func() { w.msgs <- m }()
				} else {
					w.w.Call("postMessage", map[string]any{"type": "ack", "id": m.id})
				}
			}
			return nil
		}))
		w.w.Set("onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
			msg := "worker failed"
			if len(args) > 0 && args[0].Get("message").Type() == js.TypeString {
				msg = args[0].Get("message").String()
			}
			go func() { w.msgs <- workerMsg{typ: "fatal", data: msg} }()
			return nil
		}))
		w.w.Call("postMessage", map[string]any{"type": "init", "module": boot.Get("module"), "kernels": boot.Get("kernels")})
	}
	return p
}

// Parallel is the number of workers ready.
func (p *workerPool) Parallel() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// Kernels names the kernels the workers loaded.
func (p *workerPool) Kernels() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kernels
}

// Run posts job to an idle worker and relays its progress until it ends.
// Cancelling ctx posts "stop"; Run still waits for the worker's answer so
// that the worker is idle when it goes back to the pool.
func (p *workerPool) Run(ctx context.Context, job demo.Job, progress func(demo.Live)) ([]attack.Result, error) {
	var w *attackWorker
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { p.idle <- w }()
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.mu.Unlock()
	b, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	w.w.Call("postMessage", map[string]any{"type": "run", "id": id, "data": string(b)})
	done := ctx.Done()
	for {
		select {
		case <-done:
			w.w.Call("postMessage", map[string]any{"type": "stop", "id": id})
			done = nil
		case m := <-w.msgs:
			if m.typ == "fatal" {
				return nil, errors.New("attack worker: " + m.data)
			}
			if m.id != id {
				continue // a late message of an earlier job
			}
			switch m.typ {
			case "progress", "finished":
				var l demo.Live
				if err := json.Unmarshal([]byte(m.data), &l); err == nil {
					progress(l)
				}
				if m.typ == "progress" {
					// The worker posts its next report only now (see
					// worker_wasm.go), so the page's queue stays short.
					w.w.Call("postMessage", map[string]any{"type": "ack", "id": id})
				}
			case "done":
				var rs []attack.Result
				if err := json.Unmarshal([]byte(m.data), &rs); err != nil {
					return nil, fmt.Errorf("attack worker: %w", err)
				}
				return rs, nil
			case "error":
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, errors.New(m.data)
			}
		case <-time.After(2 * time.Minute):
			if done == nil { // stopped, and the worker does not answer
				return nil, ctx.Err()
			}
		}
	}
}
