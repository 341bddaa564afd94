//go:build unix

package connlimit

import "syscall"

// DefaultMax is a bound on connections that leaves a server room for its
// other files: the process's limit on open files less 64, at most 4096
// (half the limit when it is under 128).
func DefaultMax() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return fromFileLimit(rl.Cur)
}
