package data

import (
	"fmt"
	"math/rand/v2"
)

// Set is a labelled image dataset. Image i is
// Images[i*H*W*C : (i+1)*H*W*C] in NHWC order with values in [0, 1].
type Set struct {
	Name    string
	H, W, C int
	Images  []float32
	Labels  []uint8
}

// Len is the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// ImageSize is the number of floats per image.
func (s *Set) ImageSize() int { return s.H * s.W * s.C }

// Image returns image i (a view, not a copy).
func (s *Set) Image(i int) []float32 {
	n := s.ImageSize()
	return s.Images[i*n : (i+1)*n]
}

// Subset returns the first n images (all of them when n <= 0 or n > Len).
func (s *Set) Subset(n int) *Set {
	if n <= 0 || n > s.Len() {
		n = s.Len()
	}
	return &Set{Name: s.Name, H: s.H, W: s.W, C: s.C, Images: s.Images[:n*s.ImageSize()], Labels: s.Labels[:n]}
}

// Split returns the first n images and the rest, e.g. for a validation set.
func (s *Set) Split(n int) (*Set, *Set, error) {
	if n < 0 || n > s.Len() {
		return nil, nil, fmt.Errorf("split %s at %d: out of range [0, %d]", s.Name, n, s.Len())
	}
	k := s.ImageSize()
	a := &Set{Name: s.Name, H: s.H, W: s.W, C: s.C, Images: s.Images[:n*k], Labels: s.Labels[:n]}
	b := &Set{Name: s.Name, H: s.H, W: s.W, C: s.C, Images: s.Images[n*k:], Labels: s.Labels[n:]}
	return a, b, nil
}

// OneHot returns the labels as n×classes one-hot rows.
func (s *Set) OneHot(classes int) []float32 {
	out := make([]float32, s.Len()*classes)
	for i, l := range s.Labels {
		out[i*classes+int(l)] = 1
	}
	return out
}

// Permutation returns a seeded random order of 0..n-1 for epoch e: the same
// seed and epoch always give the same order.
func Permutation(n int, seed uint64, epoch int) []int {
	r := rand.New(rand.NewPCG(seed, uint64(epoch)+0x5eed))
	return r.Perm(n)
}
