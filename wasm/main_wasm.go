//go:build js && wasm

// Command wasm is the TADD web demo: vugu components over demo.App,
// compiled to WebAssembly and served with the pretrained models.
package main

import (
	"fmt"
	"io"
	"net/http"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/domrender"
	"github.com/vugu/vugu/js"

	"github.com/tadd-project/tadd/wasm/demo"
)

// fetch gets a path relative to the page over HTTP.
func fetch(path string) ([]byte, error) {
	base := js.Global().Get("document").Get("baseURI").String()
	resp, err := http.Get(base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func main() {
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
	app.Lock, app.Unlock = env.Lock, env.UnlockOnly
	app.Notify = func() { env.Lock(); env.UnlockRender() }
	root := &Root{App: app}
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
		t, step := app.T, app.Step
		app.Unlock()
		app.Choose(t, step)
		js.Global().Get("document").Get("body").Call("setAttribute", "data-ready", "1")
	}()
	for ok := true; ok; ok = renderer.EventWait() {
		if err := renderer.Render(buildEnv.RunBuild(root)); err != nil {
			panic(err)
		}
	}
}
