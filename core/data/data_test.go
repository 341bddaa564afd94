package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func idxImages(n, h, w int, fill func(i int) byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [4]uint32{idxImagesMagic, uint32(n), uint32(h), uint32(w)})
	for i := range n * h * w {
		b.WriteByte(fill(i))
	}
	return b.Bytes()
}

func idxLabels(labels ...byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [2]uint32{idxLabelsMagic, uint32(len(labels))})
	b.Write(labels)
	return b.Bytes()
}

func gz(p []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

func TestReadMNISTRoundTrip(t *testing.T) {
	imgs := idxImages(3, 2, 2, func(i int) byte { return byte(i * 20) })
	labels := idxLabels(7, 0, 9)
	for _, compress := range []bool{false, true} {
		ib, lb := imgs, labels
		if compress {
			ib, lb = gz(imgs), gz(labels)
		}
		s, err := ReadMNIST("test", bytes.NewReader(ib), bytes.NewReader(lb))
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != 3 || s.H != 2 || s.W != 2 || s.C != 1 {
			t.Fatalf("shape %d×%d×%d×%d", s.Len(), s.H, s.W, s.C)
		}
		if s.Labels[0] != 7 || s.Labels[2] != 9 {
			t.Fatalf("labels %v", s.Labels)
		}
		if got := s.Image(1)[1]; math.Abs(float64(got)-100.0/255) > 1e-7 {
			t.Fatalf("pixel %v", got)
		}
	}
}

func TestReadMNISTRejectsBadFiles(t *testing.T) {
	good := idxImages(2, 3, 3, func(int) byte { return 1 })
	goodL := idxLabels(1, 2)
	badMagic := append([]byte(nil), good...)
	badMagic[3] = 0x04
	cases := []struct {
		name         string
		images, lbls []byte
		want         string
	}{
		{"empty images", nil, goodL, "empty"},
		{"wrong magic", badMagic, goodL, "magic"},
		{"labels as images", idxLabels(1, 2, 3, 4, 5, 6, 7, 8), goodL, "magic"},
		{"truncated header", good[:10], goodL, "truncated"},
		{"truncated pixels", good[:len(good)-1], goodL, "truncated"},
		{"trailing data", append(append([]byte(nil), good...), 0), goodL, "after the last"},
		{"huge count", idxImages(0, 3, 3, nil)[:16], goodL, "implausible"},
		{"truncated gzip", gz(good)[:20], goodL, "truncated"},
		{"label out of range", good, idxLabels(1, 10), "not below 10"},
		{"count mismatch", good, idxLabels(1, 2, 3), "2 images but 3 labels"},
		{"truncated labels", good, idxLabels(1, 2)[:9], "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadMNIST("test", bytes.NewReader(c.images), bytes.NewReader(c.lbls))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// cifarRecordBytes writes one CIFAR-10 record whose pixel (y, x) of channel
// c has the value c*80 + (y*32+x)%50.
func cifarRecordBytes(label byte) []byte {
	rec := make([]byte, cifarRecord)
	rec[0] = label
	for c := range 3 {
		for p := range cifarPixels {
			rec[1+c*cifarPixels+p] = byte(c*80 + p%50)
		}
	}
	return rec
}

func TestReadCIFARBatch(t *testing.T) {
	var file []byte
	for _, l := range []byte{3, 9, 0} {
		file = append(file, cifarRecordBytes(l)...)
	}
	s, err := ReadCIFARBatch("batch", bytes.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err = ReadCIFARBatch("batch2", bytes.NewReader(cifarRecordBytes(5)), s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 4 || s.H != 32 || s.W != 32 || s.C != 3 {
		t.Fatalf("shape %d×%d×%d×%d", s.Len(), s.H, s.W, s.C)
	}
	if s.Labels[0] != 3 || s.Labels[3] != 5 {
		t.Fatalf("labels %v", s.Labels)
	}
	// NHWC: pixel 33 (y=1, x=1), channel 2 = 160 + 33.
	if got := s.Image(1)[33*3+2]; got != float32(160+33)/255 {
		t.Fatalf("pixel value %v", got*255)
	}
}

func TestReadCIFARRejectsBadFiles(t *testing.T) {
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"truncated", cifarRecordBytes(1)[:3000], "whole number"},
		{"bad label", cifarRecordBytes(10), "label 10"},
	}
	for _, c := range cases {
		_, err := ReadCIFARBatch("b", bytes.NewReader(c.file), nil)
		var fe *FormatError
		if !errors.As(err, &fe) || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: error %v, want a FormatError mentioning %q", c.name, err, c.want)
		}
	}
}

func TestPermutationSeeded(t *testing.T) {
	a, b := Permutation(100, 1, 0), Permutation(100, 1, 0)
	c := Permutation(100, 1, 1)
	same := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed and epoch, different order")
		}
		if a[i] == c[i] {
			same++
		}
	}
	if same > 20 {
		t.Fatal("next epoch has nearly the same order")
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxImages(2, 3, 3, func(i int) byte { return byte(i) }), idxLabels(1, 2))
	f.Add(gz(idxImages(1, 2, 2, func(int) byte { return 9 })), gz(idxLabels(3)))
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff}, []byte{0, 0, 8, 1})
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		s, err := ReadMNIST("fuzz", bytes.NewReader(images), bytes.NewReader(labels))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		if len(s.Images) != s.Len()*s.ImageSize() {
			t.Fatal("inconsistent set")
		}
		for _, v := range s.Images {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v outside [0,1]", v)
			}
		}
	})
}

func FuzzReadCIFAR(f *testing.F) {
	f.Add(cifarRecordBytes(2))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadCIFARBatch("fuzz", bytes.NewReader(b), nil)
		if err != nil {
			return
		}
		if s.Len()*cifarRecord != len(b) {
			t.Fatal("record count wrong")
		}
	})
}
