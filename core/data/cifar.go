package data

import (
	"io"
)

// CIFAR-10 binary batches are records of 1 label byte followed by 3072 pixel
// bytes: the 1024 red values of the 32×32 image in row-major order, then the
// green, then the blue.
const (
	cifarSide   = 32
	cifarPixels = cifarSide * cifarSide
	cifarRecord = 1 + 3*cifarPixels
	// maxCIFARImages is the size of the whole dataset (50,000 training and
	// 10,000 test images): no set read from batches grows beyond it.
	maxCIFARImages = 60000
)

// CIFARBatchRecords is how many records an official CIFAR-10 batch file
// holds, and the most ReadCIFARBatch reads from one; CIFARBatchBytes is
// that file's size.
const (
	CIFARBatchRecords = 10000
	CIFARBatchBytes   = CIFARBatchRecords * cifarRecord
)

// CIFAR10Classes names the ten CIFAR-10 classes in label order.
var CIFAR10Classes = [10]string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// ReadCIFARBatch reads one CIFAR-10 binary batch file (at most
// CIFARBatchRecords records; it stops reading beyond) and appends its
// images, converted to NHWC, to s (a new Set when s is nil).
func ReadCIFARBatch(name string, r io.Reader, s *Set) (*Set, error) {
	if s == nil {
		s = &Set{Name: name, H: cifarSide, W: cifarSide, C: 3}
	}
	raw, err := io.ReadAll(io.LimitReader(r, CIFARBatchBytes+1))
	if err != nil {
		return nil, formatErr(name, "reading: %v", err)
	}
	if len(raw) > CIFARBatchBytes {
		return nil, formatErr(name, "more than the %d bytes (%d records) of a CIFAR-10 batch", CIFARBatchBytes, CIFARBatchRecords)
	}
	if len(raw) == 0 {
		return nil, formatErr(name, "file is empty")
	}
	if len(raw)%cifarRecord != 0 {
		return nil, formatErr(name, "%d bytes is not a whole number of %d-byte records (truncated?)", len(raw), cifarRecord)
	}
	n := len(raw) / cifarRecord
	if s.Len()+n > maxCIFARImages {
		return nil, formatErr(name, "%d images with those already read, more than CIFAR-10's %d", s.Len()+n, maxCIFARImages)
	}
	base := len(s.Labels)
	s.Labels = append(s.Labels, make([]uint8, n)...)
	s.Images = append(s.Images, make([]float32, n*3*cifarPixels)...)
	for i := range n {
		rec := raw[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= 10 {
			return nil, formatErr(name, "record %d has label %d, not below 10", i, rec[0])
		}
		s.Labels[base+i] = rec[0]
		img := s.Images[(base+i)*3*cifarPixels:]
		for p := range cifarPixels {
			for c := range 3 {
				img[p*3+c] = float32(rec[1+c*cifarPixels+p]) / 255
			}
		}
	}
	return s, nil
}
