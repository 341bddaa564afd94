package safefile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// target makes what stands at a path before a write: nothing, a regular
// file, a symlink (to a file outside the folder), a FIFO or a folder.
type target struct {
	name string
	make func(t *testing.T, path string)
	ok   bool // the write may replace it
}

var targets = []target{
	{"missing", func(*testing.T, string) {}, true},
	{"regular file", func(t *testing.T, p string) { must(t, os.WriteFile(p, []byte("old"), 0o644)) }, true},
	{"symlink", func(t *testing.T, p string) {
		victim := filepath.Join(t.TempDir(), "victim")
		must(t, os.WriteFile(victim, []byte("victim"), 0o644))
		must(t, os.Symlink(victim, p))
	}, false},
	{"dangling symlink", func(t *testing.T, p string) { must(t, os.Symlink(filepath.Join(t.TempDir(), "nothing"), p)) }, false},
	{"FIFO", func(t *testing.T, p string) { must(t, syscall.Mkfifo(p, 0o644)) }, false},
	{"folder", func(t *testing.T, p string) { must(t, os.Mkdir(p, 0o755)) }, false},
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriteReplacesOnlyRegularFiles(t *testing.T) {
	for _, c := range targets {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.safetensors")
			c.make(t, p)
			before, _ := os.Lstat(p)
			err := Write(p, []byte("new"))
			if c.ok {
				must(t, err)
				if b, _ := os.ReadFile(p); string(b) != "new" {
					t.Fatalf("content %q after the write", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("write over a %s: error %v, want one saying it is not a regular file", c.name, err)
			}
			after, err := os.Lstat(p)
			if err != nil || after.Mode() != before.Mode() {
				t.Fatalf("the %s was replaced (mode %v, was %v; %v)", c.name, after.Mode(), before.Mode(), err)
			}
			leftovers(t, filepath.Dir(p), 0)
		})
	}
}

// leftovers fails unless dir holds n temporary files.
func leftovers(t *testing.T, dir string, n int) {
	t.Helper()
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if len(tmps) != n {
		t.Fatalf("temporary files %v, want %d", tmps, n)
	}
}

func TestPrepare(t *testing.T) {
	for _, c := range targets {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.safetensors")
			c.make(t, p)
			err := Prepare(p)
			if c.ok != (err == nil) {
				t.Fatalf("Prepare over a %s: %v", c.name, err)
			}
		})
	}
	t.Run("folder under a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		must(t, os.WriteFile(file, nil, 0o644))
		if err := Prepare(filepath.Join(file, "out.safetensors")); err == nil {
			t.Fatal("Prepare of a path under a regular file")
		}
	})
	t.Run("removes what a kill left", func(t *testing.T) {
		// A process that has exited: its PID names a dead writer.
		cmd := exec.Command("true")
		must(t, cmd.Run())
		dead := strconv.Itoa(cmd.Process.Pid)
		live := strconv.Itoa(os.Getpid())
		dir := t.TempDir()
		p := filepath.Join(dir, "out.safetensors")
		for _, n := range []string{".out.safetensors.tmp-123", ".out.safetensors.tmp-" + dead + "-9", ".other.safetensors.tmp-" + dead + "-1",
			".out.safetensors.tmp-" + live + "-5", "keep.json"} {
			must(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
		}
		must(t, Prepare(p))
		leftovers(t, dir, 2) // the other file's, and the one a running process is writing
		if _, err := os.Stat(filepath.Join(dir, "keep.json")); err != nil {
			t.Fatal(err)
		}
		must(t, PrepareDir(dir, ""))
		leftovers(t, dir, 1)
		if _, err := os.Stat(filepath.Join(dir, ".out.safetensors.tmp-"+live+"-5")); err != nil {
			t.Fatal("a running writer's temporary file was removed")
		}
	})
}

func TestWriteFromFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	must(t, os.WriteFile(p, []byte("old"), 0o644))
	err := WriteFrom(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("content %q", b)
	}
	leftovers(t, dir, 0)
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	must(t, os.WriteFile(small, []byte("12345"), 0o644))
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	must(t, err)
	must(t, f.Truncate(1<<30)) // sparse: nothing of it is read
	f.Close()
	fifo := filepath.Join(dir, "fifo")
	must(t, syscall.Mkfifo(fifo, 0o644))
	cases := []struct {
		path  string
		limit int64
		want  string // "" = success
	}{
		{small, 5, ""},
		{small, 4, "more than the 4"},
		{big, 1 << 20, "more than the"},
		{fifo, 10, "not a regular file"},
		{dir, 10, "not a regular file"},
		{filepath.Join(dir, "missing"), 10, "no such file"},
	}
	for _, c := range cases {
		b, err := Read(c.path, c.limit)
		if c.want == "" {
			if err != nil || string(b) != "12345" {
				t.Errorf("Read(%s): %q, %v", c.path, b, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%s, %d): error %v, want %q", c.path, c.limit, err, c.want)
		}
	}
}
