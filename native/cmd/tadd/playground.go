package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// runPlayground starts the desktop playground, a separate binary
// (tadd-playground, built by ./build.sh playground with cgo, X11 and
// OpenGL), beside this one or on PATH. It checks for a display first: the
// window library cannot start without one.
func runPlayground(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display (DISPLAY and WAYLAND_DISPLAY are unset); on a headless machine use xvfb-run, or the web demo: tadd serve")
	}
	bin, err := playgroundBinary()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("playground exited with status %d", exit.ExitCode())
		}
		return fmt.Errorf("playground: %w", err)
	}
	return nil
}

// playgroundBinary finds tadd-playground next to this executable, else on
// PATH.
func playgroundBinary() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "tadd-playground")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("tadd-playground"); err == nil {
		return p, nil
	}
	return "", errors.New("tadd-playground is not built (it needs cgo and the X11/OpenGL headers: ./build.sh playground)")
}
