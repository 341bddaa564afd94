//go:build !playground

// Command tadd-playground is the native desktop playground: draw a digit,
// pick a model in the distillation chain, and watch L2, L0 and L∞ attacks
// run, in an ebiten window. It needs cgo with X11 and OpenGL headers
// (Debian: libgl1-mesa-dev xorg-dev), so it is built with the playground
// tag: ./build.sh playground. Built without it, it says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "tadd-playground was built without its window (build tag playground): run ./build.sh playground")
	os.Exit(2)
}
