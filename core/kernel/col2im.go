package kernel

// col2imPortable adds the ((h-2)·(w-2))×(9c) patch-matrix gradient dcols of
// a 3×3 valid convolution onto the h×w×c NHWC image gradient dimg, in the
// (ky, kx, c) order of im2col: for each output pixel in row-major order,
// its three kernel rows of 3c contiguous values each. The order of the adds
// into each element is part of the result (float32 rounding): every
// Col2Im here keeps it.
func col2imPortable(dimg, dcols []float32, h, w, c int) {
	oh, ow := h-2, w-2
	rowLen := 3 * c
	k := 3 * rowLen
	for oy := range oh {
		for ox := range ow {
			src := dcols[(oy*ow+ox)*k:]
			for ky := range 3 {
				at := ((oy+ky)*w + ox) * c
				Add(dimg[at:at+rowLen], src[ky*rowLen:(ky+1)*rowLen])
			}
		}
	}
}

// Col2ImWith adds the patch-matrix gradient dcols onto the image gradient
// dimg (see col2imPortable) with kern's own Col2Im when it has one.
func Col2ImWith(kern Kernels, dimg, dcols []float32, h, w, c int) {
	if ck, ok := kern.(Col2Im); ok {
		ck.Col2Im(dimg, dcols, h, w, c)
		return
	}
	col2imPortable(dimg, dcols, h, w, c)
}
