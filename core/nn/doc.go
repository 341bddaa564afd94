// Package nn holds the convolutional networks of the paper: layers with their
// Forward and Backward side by side, the three architectures, and softmax and
// cross-entropy at temperature T.
//
// Tensors are float32 slices in NHWC order: a batch of n images of height H,
// width W and C channels is x[((i*H+y)*W+x)*C+c]. Convolution weights are
// stored HWIO, (3, 3, Cin, Cout), and dense weights (In, Out), so that both
// forward passes are one row-major GEMM.
//
// A Model owns one flat parameter slice and one flat gradient slice; every
// layer's weights and bias are views into them, so optimizers and the weight
// file walk all parameters in one loop. A Replica shares the parameters but
// has its own gradients and activations: one replica per core gives
// data-parallel training and batched attacks.
package nn
