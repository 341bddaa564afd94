package data

import "math/rand/v2"

// Bars is a small synthetic dataset that a tiny CNN learns in seconds, for
// fast tests of training and distillation: size×size grey images whose
// class c (0..9) is a bright horizontal bar at row c+3, over uniform noise.
// size must be at least 13.
func Bars(n, size int, seed uint64) *Set {
	r := rand.New(rand.NewPCG(seed, 2))
	s := &Set{Name: "bars", H: size, W: size, C: 1, Images: make([]float32, n*size*size), Labels: make([]uint8, n)}
	for i := range n {
		c := r.IntN(10)
		s.Labels[i] = uint8(c)
		img := s.Image(i)
		for p := range img {
			img[p] = r.Float32() * 0.3
		}
		for x := range size {
			img[(c+3)*size+x] = 0.7 + r.Float32()*0.3
		}
	}
	return s
}
