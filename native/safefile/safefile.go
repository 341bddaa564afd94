// Package safefile writes the files the CLI produces so that a crash never
// leaves a half-written one and a write never replaces what is not a
// regular file: each write goes to a temporary file in the target's folder
// (".NAME.tmp-RANDOM"), is synced, and is renamed into place only if the
// target is missing or a regular file. A symlink, FIFO, device node or
// folder at the target is refused, not replaced. Prepare checks an output
// before the work that produces it starts, and removes the temporary files
// a killed run left. Read reads a file whose size it checks first.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// tempPrefix is how the temporary files of path begin.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// checkTarget refuses a path where something other than a regular file
// stands; a missing path is fine.
func checkTarget(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s); refusing to replace it", path, kind(st.Mode()))
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0:
		return "a device node"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// Write writes b to path atomically.
func Write(path string, b []byte) error {
	return WriteFrom(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteFrom writes what write produces to path atomically: if write fails,
// path is left as it was and the temporary file removed.
func WriteFrom(path string, write func(io.Writer) error) error {
	if err := checkTarget(path); err != nil {
		return fmt.Errorf("write %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Again, just before the rename: the work may have taken hours.
	if err := checkTarget(path); err != nil {
		return fmt.Errorf("write %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Prepare checks, before the work that produces it, that path can be
// written: it is missing or a regular file, and its folder exists (it is
// created) and takes new files. It removes the temporary files of path
// that an interrupted write left.
func Prepare(path string) error {
	if err := checkTarget(path); err != nil {
		return fmt.Errorf("output %w", err)
	}
	dir := filepath.Dir(path)
	if err := PrepareDir(dir, tempPrefix(path)); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	return nil
}

// PrepareDir checks that dir is (or can be created as) a folder that takes
// new files, and removes the temporary files in it whose names begin with
// prefix ("" = every file this package's writes leave: ".*.tmp-*").
func PrepareDir(dir, prefix string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	probe, err := os.CreateTemp(dir, ".tadd-probe-*")
	if err != nil {
		return fmt.Errorf("folder %s does not take new files: %w", dir, err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		ours := strings.HasPrefix(n, prefix) && strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-")
		if ours && e.Type().IsRegular() && !writerAlive(n) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// writerAlive reports whether the process that created the temporary file
// name (".NAME.tmp-PID-RANDOM") is still running, so that a write in
// progress in another process is never removed. Names without a PID (older
// versions) count as left behind.
func writerAlive(name string) bool {
	rest := name[strings.LastIndex(name, ".tmp-")+len(".tmp-"):]
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// Read reads the regular file at path (a symlink to one is followed) if it
// holds at most limit bytes; the size is checked before anything is read.
func Read(path string, limit int64) ([]byte, error) {
	f, err := open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew beyond %d bytes while being read", path, limit)
	}
	return b, nil
}

// open opens a regular file of at most limit bytes. Stat comes first, so
// that a FIFO is never opened (which would block).
func open(path string, limit int64) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, kind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes is more than the %d this file may have", path, st.Size(), limit)
	}
	return os.Open(path)
}
