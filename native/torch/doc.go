// Package torch holds TADD's PyTorch bridge, tadd_torch.py: a Python 3
// module (torch only) that builds the MNIST and CIFAR networks in PyTorch
// and loads TADD's safetensors model files into them, with the input shift,
// the conv and dense weight layouts, the NHWC flatten order of dense1 and
// the F16 conversion applied and the metadata checked.
//
// The package has no Go API. Its tests run the bridge with /usr/bin/python3
// (Debian's python3-torch) and check that PyTorch gives TADD's logits and
// test accuracy for the shipped models, and that the README's PyTorch
// example runs; they skip when python3-torch is missing, and fail instead
// when the environment variable CI is set.
package torch
