// Package weights reads and writes models in the safetensors format
// (https://github.com/huggingface/safetensors), which PyTorch users load
// with one call (safetensors.torch.load_file):
//
//	8 bytes   little-endian uint64 N, the length of the JSON header
//	N bytes   JSON: {"__metadata__": {string: string},
//	                 "<tensor>": {"dtype": "F32"|"F16", "shape": [...],
//	                              "data_offsets": [begin, end]}, ...}
//	rest      the tensors' little-endian bytes, back to back, no holes
//
// Tensor names and shapes are those of nn.Model.NamedParams: conv weights
// are (3, 3, Cin, Cout) and dense weights (In, Out). The metadata records
// the model's catalog.Identity (dataset, architecture, temperature, role in
// the distillation chain, parent, seed, epochs and test accuracy) and its
// training configuration; see Metadata. Verify checks a file against its
// manifest entry.
//
// Decoding validates everything: header length, JSON, dtypes, shapes,
// offsets, holes and overlaps, and finite values. A bad file gives a
// *FormatError saying what is wrong, never a panic.
package weights
