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

// CheckPair checks that a training set and a test set can be used
// together: both hold images, each consistently, of the same shape. Every
// pipeline that trains on one and measures on the other checks this before
// any work starts.
func CheckPair(train, test *Set) error {
	for _, s := range []struct {
		what string
		set  *Set
	}{{"training set", train}, {"test set", test}} {
		if s.set == nil {
			return fmt.Errorf("%s missing", s.what)
		}
		if s.set.Len() == 0 {
			return fmt.Errorf("%s %s has no images", s.what, s.set.Name)
		}
		if s.set.H <= 0 || s.set.W <= 0 || s.set.C <= 0 || len(s.set.Images) != s.set.Len()*s.set.ImageSize() {
			return fmt.Errorf("%s %s: %d pixel values for %d images of %d×%d×%d", s.what, s.set.Name, len(s.set.Images), s.set.Len(), s.set.H, s.set.W, s.set.C)
		}
	}
	if train.H != test.H || train.W != test.W || train.C != test.C {
		return fmt.Errorf("test set %s has images of %d×%d×%d, training set %s of %d×%d×%d", test.Name, test.H, test.W, test.C, train.Name, train.H, train.W, train.C)
	}
	return nil
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
