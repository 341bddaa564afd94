//go:build js && wasm

// Command wasm is the TADD web demo: vugu components over demo.App,
// compiled to WebAssembly and served with the pretrained models.
package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall/js"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"

	"github.com/tadd-project/tadd/core/demo"
	"github.com/tadd-project/tadd/wasm/kernels"
)

// engineText says where the page computes, for the controls panel.
func engineText(kernels string, workers int) string {
	where := "on the page's thread"
	if workers == 1 {
		where = "in 1 Web Worker"
	} else if workers > 1 {
		where = fmt.Sprintf("in %d Web Workers", workers)
	}
	return fmt.Sprintf("Kernels: %s. Attacks run %s.", kernels, where)
}

// startAttackWorkers moves the attacks into Web Workers, one per core (at
// most 4) unless the page was opened with ?workers=0 or the browser cannot.
// Until a worker is ready, and if none gets ready, the page runs attacks
// itself.
func startAttackWorkers(app *demo.App) {
	boot := js.Global().Get("taddBoot")
	if boot.Type() != js.TypeObject || boot.Get("module").IsUndefined() || js.Global().Get("Worker").IsUndefined() {
		return
	}
	n := 2
	if hc := js.Global().Get("navigator").Get("hardwareConcurrency"); hc.Type() == js.TypeNumber {
		n = hc.Int()
	}
	if w := boot.Get("workers"); w.Type() == js.TypeString {
		fmt.Sscanf(w.String(), "%d", &n)
	}
	n = min(max(n, 0), 4)
	if n == 0 {
		return
	}
	startWorkers(boot, n, func(p *workerPool) {
		app.Lock()
		app.Runner = p
		app.Engine = engineText(p.Kernels(), p.Parallel())
		app.Unlock()
		app.Notify()
		js.Global().Get("document").Get("body").Call("setAttribute", "data-workers", p.Parallel())
	}, func(err error) {
		js.Global().Get("console").Call("warn", "TADD: "+err.Error()+"; attacks run on the page")
	})
}

// fetch gets a path relative to the page with the browser's fetch (net/http
// would add a megabyte to the wasm). It blocks, so call it from a goroutine.
func fetch(path string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	var onResponse, onBody, onError js.Func
	release := func() { onResponse.Release(); onBody.Release(); onError.Release() }
	onError = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "network error"
		if len(args) > 0 {
			msg = args[0].Call("toString").String()
		}
		done <- result{err: errors.New(msg)}
		return nil
	})
	onBody = js.FuncOf(func(_ js.Value, args []js.Value) any {
		arr := js.Global().Get("Uint8Array").New(args[0])
		b := make([]byte, arr.Get("length").Int())
		js.CopyBytesToGo(b, arr)
		done <- result{b: b}
		return nil
	})
	onResponse = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resp := args[0]
		if !resp.Get("ok").Bool() {
			done <- result{err: fmt.Errorf("GET %s: %d %s", path, resp.Get("status").Int(), resp.Get("statusText").String())}
			return nil
		}
		resp.Call("arrayBuffer").Call("then", onBody, onError)
		return nil
	})
	js.Global().Call("fetch", path).Call("then", onResponse, onError)
	r := <-done
	release()
	return r.b, r.err
}

// yieldToBrowser blocks until a setTimeout(0) callback runs: with every
// goroutine blocked, the Go runtime returns to JavaScript's event loop, which
// paints the page and handles clicks (Stop) before resuming the attack.
func yieldToBrowser() {
	done := make(chan struct{})
	var cb js.Func
	cb = js.FuncOf(func(js.Value, []js.Value) any {
		cb.Release()
		close(done)
		return nil
	})
	js.Global().Call("setTimeout", cb, 0)
	<-done
}

func main() {
	kern := kernels.Load()
	if inWorker() {
		runWorker(kern)
		return
	}
	renderer, err := domrender.New("#vugu_mount_point")
	if err != nil {
		panic(err)
	}
	defer renderer.Release()
	env := renderer.EventEnv()
	buildEnv, err := vugu.NewBuildEnv(env)
	if err != nil {
		panic(err)
	}
	app := demo.New(fetch)
	app.Kernels = kern
	app.Engine = engineText(kern.Name(), 0)
	app.Lock, app.Unlock = env.Lock, env.UnlockOnly
	app.Notify = func() { env.Lock(); env.UnlockRender() }
	app.Yield = yieldToBrowser
	root := &Root{App: app}
	// taddInput() and taddLogits() give tests the exact 28×28 input and
	// logits the page computes.
	js.Global().Set("taddInput", js.FuncOf(func(js.Value, []js.Value) any {
		app.Lock()
		defer app.Unlock()
		out := make([]any, len(app.Input))
		for i, v := range app.Input {
			out[i] = float64(v)
		}
		return out
	}))
	// taddBench(n, batch) times n forward passes plus input gradients of the
	// chosen model on this thread (one attack iteration), in ms each.
	js.Global().Set("taddBench", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 2 {
			return "usage: taddBench(iterations, batch)"
		}
		app.Lock()
		m := app.Model()
		app.Unlock()
		if m == nil {
			return "no model loaded"
		}
		return demo.TimeIteration(m, args[0].Int(), args[1].Int()).Seconds() * 1000
	}))
	// taddKernels() names the kernels the page's models run on.
	js.Global().Set("taddKernels", js.FuncOf(func(js.Value, []js.Value) any { return kern.Name() }))
	js.Global().Set("taddLogits", js.FuncOf(func(js.Value, []js.Value) any {
		app.Lock()
		defer app.Unlock()
		var z []float32
		if app.Model() != nil { // the chosen model's answer, not an earlier one's
			z = app.Logits
		}
		out := make([]any, len(z))
		for i, v := range z {
			out[i] = float64(v)
		}
		return out
	}))
	listenKeys(app, env)
	go func() {
		if err := app.Init(); err != nil {
			app.Lock()
			app.Error = err.Error()
			app.Unlock()
			app.Notify()
			return
		}
		app.Notify()
		app.Lock()
		// A shared link's state (see syncURL).
		q, _ := url.ParseQuery(strings.TrimPrefix(js.Global().Get("location").Get("search").String(), "?"))
		t, step, qerr := app.ApplyQuery(q)
		app.Unlock()
		app.Choose(t, step)
		if qerr != nil { // after Choose, which clears errors
			app.Lock()
			app.Error = "Part of this link could not be used: " + qerr.Error()
			app.Unlock()
			app.Notify()
		}
		js.Global().Get("document").Get("body").Call("setAttribute", "data-ready", "1")
		startAttackWorkers(app)
	}()
	for ok := true; ok; ok = renderer.EventWait() {
		if err := renderer.Render(buildEnv.RunBuild(root)); err != nil {
			panic(err)
		}
		syncURL(app)
	}
}

// listenKeys binds the main actions to keys, as the desktop playground
// does: R run, S or Escape stop, C clear, U undo, G gradient sign vs C&W.
// Keys typed into a form control are left alone.
func listenKeys(app *demo.App, env vugu.EventEnv) {
	js.Global().Get("document").Call("addEventListener", "keydown", js.FuncOf(func(_ js.Value, args []js.Value) any {
		e := args[0]
		if e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool() || e.Get("altKey").Bool() {
			return nil
		}
		switch e.Get("target").Get("tagName").String() {
		case "INPUT", "SELECT", "TEXTAREA":
			return nil
		}
		env.Lock()
		defer env.UnlockRender()
		switch strings.ToLower(e.Get("key").String()) {
		case "r":
			app.Start(false)
		case "s", "escape":
			app.Stop()
		case "c":
			app.Clear()
		case "u":
			if n := len(app.Strokes); n > 0 {
				app.SetDrawing(app.Strokes[:n-1], padSize, padSize, penWidth)
			}
		case "g":
			app.StartBaseline()
		}
		return nil
	}))
}

// syncURL keeps the address bar's query equal to the page's state
// (demo.App.Query), keeping other parameters (kernels, workers), so that
// the address is a link to what the visitor sees.
func syncURL(app *demo.App) {
	app.Lock()
	if len(app.Models) == 0 || app.Loading {
		app.Unlock()
		return
	}
	state := app.Query()
	app.Unlock()
	loc := js.Global().Get("location")
	q, _ := url.ParseQuery(strings.TrimPrefix(loc.Get("search").String(), "?"))
	for _, k := range []string{"T", "net", "attack", "target", "digit", "ink"} {
		q.Del(k)
	}
	for k, v := range state {
		q[k] = v
	}
	if want := "?" + q.Encode(); want != loc.Get("search").String() {
		js.Global().Get("history").Call("replaceState", nil, "", want)
	}
}
