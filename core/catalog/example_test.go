package catalog_test

import (
	"fmt"
	"testing/fstest"

	"github.com/tadd-project/tadd/core/catalog"
)

// A model folder is read through any fs.FS (here one in memory), looked up
// by chain position or file name, and written through a function.
func Example() {
	man := &catalog.Manifest{}
	for step := range 4 {
		id := catalog.Identity{Dataset: "mnist", Arch: "mnist", Temperature: 20, Step: step, Role: catalog.Role(step)}
		if step > 0 {
			id.Parent = catalog.ModelName("mnist", 20, step-1)
		}
		man.Put(catalog.EntryFor(catalog.ModelName("mnist", 20, step), id, []byte{byte(step)}))
	}
	b, _ := man.Marshal()
	folder := fstest.MapFS{catalog.FileName: {Data: b}}

	read, err := catalog.Read(folder)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range read.Models {
		fmt.Printf("%-9s %-7s %s\n", e.Role, e.DisplayName(), e.File)
	}
	e, _ := read.Find("mnist", 20, 1)
	fmt.Println("the assistant learned from", e.Parent)
	// Natively the CLI writes with an atomic file write into the folder.
	read.Write(func(name string, b []byte) error { fmt.Println("write", name); return nil })
	// Output:
	// teacher   teacher mnist-T20-step0-teacher.safetensors
	// assistant assistant mnist-T20-step1-assistant.safetensors
	// student   student mnist-T20-step2-student.safetensors
	// step3     step 3  mnist-T20-step3-step3.safetensors
	// the assistant learned from mnist-T20-step0-teacher.safetensors
	// write manifest.json
}

// A Cache loads each value once; a failed load is tried again next time.
func ExampleCache() {
	models := catalog.NewCache[string](0)
	loads := 0
	load := func() (string, int64, error) { loads++; return "weights", 7, nil }
	models.Get("mnist-T1-step0-teacher.safetensors", load)
	v, _ := models.Get("mnist-T1-step0-teacher.safetensors", load)
	fmt.Println(v, loads)
	// Output: weights 1
}

func ExampleDisplayName() {
	for step := range 5 {
		fmt.Printf("%d: %s (%s)\n", step, catalog.DisplayName(step), catalog.Role(step))
	}
	// Output:
	// 0: teacher (teacher)
	// 1: assistant (assistant)
	// 2: student (student)
	// 3: step 3 (step3)
	// 4: step 4 (step4)
}
