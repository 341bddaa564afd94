//go:build !unix

package connlimit

// DefaultMax is a bound on connections: 1024 where the limit on open files
// is not known.
func DefaultMax() int { return 1024 }
