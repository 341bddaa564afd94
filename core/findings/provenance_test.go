package findings

import "testing"

// TestProvenance: the sentence on where and how long a run computed says
// when the summed wall time leaves models out (their files do not record
// it), rather than passing a partial sum for the whole.
func TestProvenance(t *testing.T) {
	cases := []struct {
		name   string
		run    Run
		models int
		want   string
	}{
		{"all timed", Run{WallSeconds: 10800, Machine: "2 × AMD EPYC cores, simd-avx512 kernels"}, 6,
			"Computing took 3h0m0s of wall time, summed over the samples files of the 6 models; machine: 2 × AMD EPYC cores, simd-avx512 kernels."},
		{"one untimed", Run{WallSeconds: 300, Untimed: 1, Machine: "A; B"}, 6,
			"Computing took 5m0s of wall time, summed over the samples files of 5 of the 6 models; the other 1 file does not record it (unknown); machine: A; B."},
		{"some untimed", Run{WallSeconds: 11160, Untimed: 2, Machine: "A"}, 11,
			"Computing took 3h6m0s of wall time, summed over the samples files of 9 of the 11 models; the other 2 files do not record it (unknown); machine: A."},
		{"none timed", Run{Untimed: 6}, 6, "Compute time unknown: the samples files do not record it; machine unknown."},
		{"none timed, one machine", Run{Untimed: 6, Machine: "A"}, 6, "Compute time unknown: the samples files do not record it; machine: A."},
		{"older summary", Run{}, 6, "Compute time unknown: the samples files do not record it; machine unknown."},
		{"beyond a time.Duration", Run{WallSeconds: 3.6e12}, 1,
			"Computing took 1000000000h of wall time, summed over the samples files of the 1 models; machine unknown."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.run.Provenance(c.models); got != c.want {
				t.Errorf("Provenance(%d) = %q, want %q", c.models, got, c.want)
			}
		})
	}
}
