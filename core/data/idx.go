package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
)

// IDX magic numbers: two zero bytes, the type (0x08 = unsigned byte) and the
// number of dimensions.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
	// maxIDXImages bounds the count a header may claim, so that a corrupt
	// header cannot make us allocate gigabytes.
	maxIDXImages = 1 << 20
	// maxIDXBytes bounds the pixel bytes of one file (MNIST's training set
	// has 47 million).
	maxIDXBytes = 1 << 28
)

// maybeGunzip returns a reader of the uncompressed bytes of r, which may be
// gzip-compressed (detected by its magic bytes) or not.
func maybeGunzip(name string, r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err != nil {
		return nil, formatErr(name, "file is empty or unreadable: %v", err)
	}
	if head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, formatErr(name, "bad gzip header: %v", err)
		}
		return gzipReader{zr}, nil
	}
	return br, nil
}

// gzipReader marks the errors of a damaged compressed stream (a truncated
// one stays io.ErrUnexpectedEOF), so that they are reported as such and
// not as a fault of the IDX content being read.
type gzipReader struct{ zr *gzip.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		err = corruptGzipError{err}
	}
	return n, err
}

type corruptGzipError struct{ err error }

func (e corruptGzipError) Error() string { return "corrupt gzip data: " + e.err.Error() }

// readErr describes an error of reading what.
func readErr(name string, err error, what string) error {
	var cg corruptGzipError
	if errors.As(err, &cg) {
		return formatErr(name, "%v (while reading %s)", cg, what)
	}
	return formatErr(name, "reading %s: %v", what, err)
}

func readFull(name string, r io.Reader, buf []byte, what string) error {
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return formatErr(name, "truncated while reading %s", what)
		}
		return readErr(name, err, what)
	}
	return nil
}

// ReadIDXImages reads an IDX3 unsigned-byte image file (gzip or not) and
// returns count, rows, cols and the pixels scaled to [0, 1].
func ReadIDXImages(r io.Reader) (pixels []float32, count, rows, cols int, err error) {
	const name = "IDX images"
	r, err = maybeGunzip(name, r)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	var hdr [16]byte
	if err := readFull(name, r, hdr[:], "header"); err != nil {
		return nil, 0, 0, 0, err
	}
	if m := binary.BigEndian.Uint32(hdr[0:]); m != idxImagesMagic {
		return nil, 0, 0, 0, formatErr(name, "magic %#08x, want %#08x", m, idxImagesMagic)
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	h := binary.BigEndian.Uint32(hdr[8:])
	w := binary.BigEndian.Uint32(hdr[12:])
	if n == 0 || n > maxIDXImages || h == 0 || w == 0 || h > 1024 || w > 1024 {
		return nil, 0, 0, 0, formatErr(name, "implausible shape %d×%d×%d", n, h, w)
	}
	total := int64(n) * int64(h) * int64(w)
	if total > maxIDXBytes {
		return nil, 0, 0, 0, formatErr(name, "implausible shape %d×%d×%d (%d bytes)", n, h, w, total)
	}
	// Read before allocating in full: a lying header in a short file fails
	// on the data actually present, not on a huge allocation.
	var buf bytes.Buffer
	if got, err := io.CopyN(&buf, r, total); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, 0, 0, formatErr(name, "truncated while reading pixels (%d of %d bytes)", got, total)
		}
		return nil, 0, 0, 0, readErr(name, err, "pixels")
	}
	raw := buf.Bytes()
	if err := expectEOF(name, r); err != nil {
		return nil, 0, 0, 0, err
	}
	pixels = make([]float32, len(raw))
	for i, b := range raw {
		pixels[i] = float32(b) / 255
	}
	return pixels, int(n), int(h), int(w), nil
}

// ReadIDXLabels reads an IDX1 unsigned-byte label file (gzip or not); every
// label must be below classes.
func ReadIDXLabels(r io.Reader, classes int) ([]uint8, error) {
	const name = "IDX labels"
	r, err := maybeGunzip(name, r)
	if err != nil {
		return nil, err
	}
	var hdr [8]byte
	if err := readFull(name, r, hdr[:], "header"); err != nil {
		return nil, err
	}
	if m := binary.BigEndian.Uint32(hdr[0:]); m != idxLabelsMagic {
		return nil, formatErr(name, "magic %#08x, want %#08x", m, idxLabelsMagic)
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if n == 0 || n > maxIDXImages {
		return nil, formatErr(name, "implausible count %d", n)
	}
	labels := make([]uint8, n)
	if err := readFull(name, r, labels, "labels"); err != nil {
		return nil, err
	}
	if err := expectEOF(name, r); err != nil {
		return nil, err
	}
	for i, l := range labels {
		if int(l) >= classes {
			return nil, formatErr(name, "label %d of item %d is not below %d", l, i, classes)
		}
	}
	return labels, nil
}

// expectEOF rejects trailing bytes: a file longer than its header says is
// as suspect as a shorter one. A damaged gzip stream can also decompress
// to too many bytes: the rest of it is read (boundedly) to tell the two
// apart.
func expectEOF(name string, r io.Reader) error {
	var b [1]byte
	n, err := r.Read(b[:])
	if n > 0 {
		if _, err := io.Copy(io.Discard, io.LimitReader(r, maxIDXBytes)); err != nil {
			return readErr(name, err, "past the end")
		}
		return formatErr(name, "unexpected data after the last item")
	}
	if err != nil && err != io.EOF {
		return readErr(name, err, "past the end")
	}
	return nil
}

// ReadMNIST combines an image file and a label file into a Set.
func ReadMNIST(name string, images, labels io.Reader) (*Set, error) {
	px, n, h, w, err := ReadIDXImages(images)
	if err != nil {
		return nil, err
	}
	ls, err := ReadIDXLabels(labels, 10)
	if err != nil {
		return nil, err
	}
	if len(ls) != n {
		return nil, formatErr(name, "%d images but %d labels", n, len(ls))
	}
	return &Set{Name: name, H: h, W: w, C: 1, Images: px, Labels: ls}, nil
}
