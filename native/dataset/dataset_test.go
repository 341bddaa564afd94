package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/tadd-project/tadd/core/data"
)

func TestRealMNISTFromModuleCache(t *testing.T) {
	src := Source{CacheDir: t.TempDir(), Offline: true}
	train, test, err := src.MNIST(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.H != 28 || train.C != 1 {
		t.Fatalf("MNIST sizes %d, %d", train.Len(), test.Len())
	}
	if test.Labels[0] != 7 || test.Labels[1] != 2 {
		t.Fatalf("first test labels %v", test.Labels[:2])
	}
	only, err := src.MNISTTest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(only, test) {
		t.Fatal("MNISTTest differs from MNIST's test set")
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestDownloadVerifiesChecksum(t *testing.T) {
	good := []byte("the real file")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good.bin":
			w.Write(good)
		case "/tampered.bin":
			w.Write([]byte("something else"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	src := Source{CacheDir: dir}
	p, err := src.download(context.Background(), File{"good.bin", sum(good)}, []string{srv.URL + "/missing/", srv.URL}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, good) {
		t.Fatal("downloaded bytes differ")
	}
	_, err = src.download(context.Background(), File{"tampered.bin", sum(good)}, []string{srv.URL}, dir)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("tampered download: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tampered.bin")); !os.IsNotExist(err) {
		t.Fatal("tampered file kept")
	}
}

func TestOfflineErrorIsClear(t *testing.T) {
	// Nothing listens on this port: the download fails at once.
	src := Source{Dir: t.TempDir(), CacheDir: t.TempDir(), Mirrors: []string{"http://127.0.0.1:1/"}}
	_, _, err := src.CIFAR10(context.Background())
	if !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "CIFAR-10") || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("error %v", err)
	}
	src.Offline = true
	_, _, err = src.CIFAR10(context.Background())
	if !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("offline error %v", err)
	}
}

// cifarArchive builds a small archive in the official layout: 5 training
// batches and a test batch of records in the CIFAR-10 binary format.
func cifarArchive(t *testing.T, perBatch int) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	files := append(append([]string{}, cifarTrain...), cifarTest...)
	for fi, name := range files {
		var rec []byte
		for i := range perBatch {
			r := make([]byte, 3073)
			r[0] = byte((fi + i) % 10)
			for p := 1; p < len(r); p++ {
				r[p] = byte(p + i)
			}
			rec = append(rec, r...)
		}
		tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + name, Mode: 0o644, Size: int64(len(rec)), Typeflag: tar.TypeReg})
		tw.Write(rec)
	}
	tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/readme.html", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi"))
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func TestCIFARDownloadAndLoad(t *testing.T) {
	archive := cifarArchive(t, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cifar-10-binary.tar.gz" {
			w.Write(archive)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	old := CIFAR10Archive
	CIFAR10Archive = File{old.Name, sum(archive)}
	defer func() { CIFAR10Archive = old }()
	cache := t.TempDir()
	src := Source{CacheDir: cache, Mirrors: []string{srv.URL}}
	train, test, err := src.CIFAR10(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 15 || test.Len() != 3 || train.H != 32 || train.C != 3 {
		t.Fatalf("sizes %d %d", train.Len(), test.Len())
	}
	// A second load finds the unpacked batches without the network.
	src.Offline = true
	if _, _, err := src.CIFAR10(context.Background()); err != nil {
		t.Fatal(err)
	}
	if only, err := src.CIFAR10Test(context.Background()); err != nil || !reflect.DeepEqual(only, test) {
		t.Fatalf("CIFAR10Test: %v, or it differs from CIFAR10's test set", err)
	}
	// A truncated batch in a user directory is a clear error.
	dir := t.TempDir()
	for _, n := range append(append([]string{}, cifarTrain...), cifarTest...) {
		os.WriteFile(filepath.Join(dir, n), make([]byte, 3073), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "data_batch_3.bin"), make([]byte, 3000), 0o644)
	_, _, err = Source{Dir: dir, Offline: true}.CIFAR10(context.Background())
	if err == nil || !strings.Contains(err.Error(), "data_batch_3.bin") || !strings.Contains(err.Error(), "whole number") {
		t.Fatalf("truncated batch: %v", err)
	}
}

// TestDatasetFilesAreCheckedBeforeReading: an oversized batch is refused by
// its size (the file is sparse: reading it would take its whole size in
// memory), and a FIFO in place of a file is refused instead of blocking.
func TestDatasetFilesAreCheckedBeforeReading(t *testing.T) {
	batches := append(append([]string{}, cifarTrain...), cifarTest...)
	cases := []struct {
		name string
		odd  func(t *testing.T, path string)
		want string
	}{
		{"oversized batch", func(t *testing.T, p string) {
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(10 * data.CIFARBatchBytes); err != nil {
				t.Fatal(err)
			}
		}, "more than the"},
		{"FIFO", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	}
	for _, c := range cases {
		t.Run("CIFAR "+c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range batches {
				os.WriteFile(filepath.Join(dir, n), make([]byte, 3073), 0o644)
			}
			os.Remove(filepath.Join(dir, "data_batch_2.bin"))
			c.odd(t, filepath.Join(dir, "data_batch_2.bin"))
			_, _, err := Source{Dir: dir, Offline: true}.CIFAR10(context.Background())
			if err == nil || !strings.Contains(err.Error(), "data_batch_2.bin") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming the file and saying %q", err, c.want)
			}
		})
	}
}
