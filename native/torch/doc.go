// Package torch holds TADD's PyTorch bridge, tadd_torch.py: a Python 3
// module (torch only) that builds the MNIST and CIFAR networks in PyTorch
// and loads TADD's safetensors model files into them, with the input shift,
// the conv and dense weight layouts, the NHWC flatten order of dense1 and
// the F16 conversion applied and the metadata checked.
//
// It also holds onnx_eval.py, which checks a file written by `tadd export
// --onnx` with onnx.checker and evaluates its graph with torch operators.
//
// The package has no Go API. Its tests run both scripts with /usr/bin/python3
// (Debian's python3-torch and python3-onnx) and check that PyTorch gives
// TADD's logits and test accuracy for the shipped models, that the README's
// PyTorch example runs, and that exported ONNX graphs are valid and give
// TADD's logits; they skip when those packages are missing, and fail instead
// when the environment variable CI is set.
package torch
