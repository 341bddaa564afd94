//go:build !(goexperiment.simd && amd64)

package kernel

func simdVariants() []Kernels { return nil }
