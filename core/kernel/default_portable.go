//go:build !(goexperiment.simd && amd64)

package kernel

// Default returns the fastest Kernels this build has: here, Portable.
func Default() Kernels { return Portable{} }
