package main

import (
	"os"
	"strings"
	"testing"
)

// TestCommittedWATIsCurrent fails when gemm.wat or gemm_relaxed.wat differ
// from what the generator writes: run `go generate ./wasm/kernels`.
func TestCommittedWATIsCurrent(t *testing.T) {
	for file, relaxed := range map[string]bool{"../gemm.wat": false, "../gemm_relaxed.wat": true} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != module(relaxed) {
			t.Errorf("%s is stale: run go generate ./wasm/kernels", file)
		}
	}
	if strings.Contains(module(false), "relaxed_madd") || !strings.Contains(module(true), "relaxed_madd") {
		t.Error("relaxed_madd in the wrong module")
	}
}
