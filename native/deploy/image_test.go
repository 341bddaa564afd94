package deploy

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImageBuildsAndRuns builds the container image with `./build.sh image`
// (buildah, FROM scratch, nothing pulled), exports it, unpacks its layers
// into a root file system and runs `tadd models --verify` inside it with
// chroot: the image holds everything the binary needs.
func TestImageBuildsAndRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	requireTools(t, "buildah", "buildah")
	image := "localhost/tadd-test:" + strconv.Itoa(os.Getpid())
	build := exec.Command("./build.sh", "image")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "TADD_IMAGE="+image)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("./build.sh image: %v\n%s", err, out)
	}
	defer exec.Command("buildah", "rmi", image).Run()
	dir := filepath.Join(t.TempDir(), "image")
	runOK(t, nil, "buildah", "push", "--quiet", image, "dir:"+dir)

	var manifest struct {
		Config struct{ Digest string }
		Layers []struct{ Digest string }
	}
	readJSON(t, filepath.Join(dir, "manifest.json"), &manifest)
	var config struct {
		Config struct{ Entrypoint []string }
	}
	readJSON(t, filepath.Join(dir, digestFile(manifest.Config.Digest)), &config)
	if strings.Join(config.Config.Entrypoint, " ") != "/tadd" {
		t.Errorf("entrypoint %q, want /tadd", config.Config.Entrypoint)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, l := range manifest.Layers {
		if err := untar(filepath.Join(dir, digestFile(l.Digest)), root); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("chroot", root, "/tadd", "models", "--verify").CombinedOutput()
	if err != nil {
		t.Fatalf("chroot %s /tadd models --verify: %v\n%s", root, err, out)
	}
	if n := strings.Count(string(out), "  ok"); n != 49 {
		t.Errorf("%d models verified in the image, want the 49 shipped:\n%s", n, out)
	}
}

func digestFile(d string) string { return strings.TrimPrefix(d, "sha256:") }

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// untar unpacks a (gzipped) layer tarball into dir: regular files,
// folders and symbolic links, nothing outside dir.
func untar(layer, dir string) error {
	f, err := os.Open(layer)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if zr, err := gzip.NewReader(f); err == nil {
		r = zr
	} else if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", layer, err)
		}
		name := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(name), 0o755); err == nil {
				var w *os.File
				if w, err = os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777); err == nil {
					_, err = io.Copy(w, tr)
					if cerr := w.Close(); err == nil {
						err = cerr
					}
				}
			}
		case tar.TypeSymlink:
			if err = os.MkdirAll(filepath.Dir(name), 0o755); err == nil {
				err = os.Symlink(h.Linkname, name)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", layer, h.Name, err)
		}
	}
}
