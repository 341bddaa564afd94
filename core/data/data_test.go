package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
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

// TestCorruptGzipIsReportedAsSuch flips bytes of a gzipped IDX file's
// compressed stream: whatever the reader sees, a damaged stream is never
// called "data after the last item" (which would send one looking for a
// wrong header), and it is called a corrupt gzip stream.
func TestCorruptGzipIsReportedAsSuch(t *testing.T) {
	z := gz(idxImages(20, 8, 8, func(i int) byte { return byte(i * 7) }))
	corrupt := 0
	for i := 10; i < len(z); i++ {
		for _, x := range []byte{1, 0x80, 0xff} {
			c := append([]byte(nil), z...)
			c[i] ^= x
			_, _, _, _, err := ReadIDXImages(bytes.NewReader(c))
			if err == nil {
				continue
			}
			if bytes.Contains([]byte(err.Error()), []byte("after the last item")) {
				t.Fatalf("byte %d ^ %#x: %v", i, x, err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("corrupt gzip")) {
				corrupt++
			}
		}
	}
	if corrupt < 100 {
		t.Fatalf("only %d corruptions reported as a corrupt gzip stream", corrupt)
	}
	// Two whole gzip members are a valid stream with too much data.
	_, _, _, _, err := ReadIDXImages(bytes.NewReader(append(append([]byte(nil), z...), z...)))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("after the last item")) {
		t.Fatalf("two members: %v", err)
	}
}

// countingRecords yields n valid CIFAR records without holding them.
type countingRecords struct {
	n, pos int
	rec    []byte
}

func (c *countingRecords) Read(p []byte) (int, error) {
	total := c.n * len(c.rec)
	if c.pos >= total {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && c.pos < total {
		p[k] = c.rec[c.pos%len(c.rec)]
		k++
		c.pos++
	}
	return k, nil
}

func TestReadCIFARBoundsTheBatch(t *testing.T) {
	rec := cifarRecordBytes(3)
	r := &countingRecords{n: CIFARBatchRecords + 1, rec: rec}
	_, err := ReadCIFARBatch("big", r, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("more than")) {
		t.Fatalf("a batch of %d records: %v", CIFARBatchRecords+1, err)
	}
	if r.pos > CIFARBatchBytes+1 {
		t.Fatalf("read %d bytes of a batch that may have %d", r.pos, CIFARBatchBytes)
	}
	// Batches add up only to the size of the whole dataset.
	s := &Set{Name: "cifar", H: 32, W: 32, C: 3, Labels: make([]uint8, maxCIFARImages)}
	if _, err := ReadCIFARBatch("one more", bytes.NewReader(rec), s); err == nil {
		t.Fatal("appended beyond the size of CIFAR-10")
	}
}

func TestCheckPair(t *testing.T) {
	mk := func(n, h, w, c int) *Set {
		return &Set{Name: "s", H: h, W: w, C: c, Images: make([]float32, n*h*w*c), Labels: make([]uint8, n)}
	}
	broken := mk(3, 2, 2, 1)
	broken.Images = broken.Images[:5]
	cases := []struct {
		name        string
		train, test *Set
		want        string // "" = fine
	}{
		{"same shape", mk(5, 28, 28, 1), mk(2, 28, 28, 1), ""},
		{"test smaller", mk(5, 28, 28, 1), mk(2, 14, 14, 1), "14×14×1"},
		{"channels differ", mk(5, 32, 32, 3), mk(2, 32, 32, 1), "32×32×1"},
		{"empty test", mk(5, 28, 28, 1), mk(0, 28, 28, 1), "no images"},
		{"empty training", mk(0, 28, 28, 1), mk(2, 28, 28, 1), "no images"},
		{"missing test", mk(5, 28, 28, 1), nil, "missing"},
		{"pixels do not match labels", mk(5, 2, 2, 1), broken, "5 pixel values"},
	}
	for _, c := range cases {
		err := CheckPair(c.train, c.test)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}
