//go:build goexperiment.simd && amd64

package kernel

import "simd/archsimd"

// simdVariants lists every SIMD configuration this CPU can run, so that the
// AVX2-only tiles are tested even on an AVX-512 machine.
func simdVariants() []Kernels {
	if !archsimd.X86.AVX2() || !archsimd.X86.FMA() {
		return nil
	}
	ks := []Kernels{SIMD{}}
	if archsimd.X86.AVX512() {
		ks = append(ks, SIMD{wide: true})
	}
	return ks
}
