"""Check and evaluate an ONNX file written by `tadd export --onnx`, with
Debian's python3-onnx and torch only (onnxruntime is not packaged there).

    python3 onnx_eval.py MODEL.onnx IMAGES OUT

checks the model with onnx.checker (full check, with shape inference),
then runs its graph node by node with the equivalent torch operators on
IMAGES (raw little-endian float32 in TADD's layout, N x H x W x C, in
[0, 1]) and writes the graph's output to OUT (N x classes float32). Only the
operators and attributes tadd's export uses are implemented; anything else
is an error, so the evaluator can never silently skip a node.
"""
import struct
import sys

import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _expect(node, attrs, **allowed):
    # Every attribute must be one the evaluator knows, with the value it
    # implements (None: any value, which the operator's code then uses).
    for k, v in attrs.items():
        want = allowed.get(k, "unknown")
        if isinstance(v, tuple):
            v = list(v)
        if want == "unknown" or (want is not None and v != want):
            raise ValueError(f"node {node.name}: attribute {k}={v!r} not supported")


def run(model, x):
    """Evaluates model's graph on x (N x C x H x W float32) and returns its
    single output."""
    values = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in values]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise ValueError("want one graph input and one output")
    values[inputs[0].name] = x
    for node in model.graph.node:
        a = _attrs(node)
        ins = [values[n] for n in node.input]
        op = node.op_type
        if op == "Sub":
            _expect(node, a)
            y = ins[0] - ins[1]
        elif op == "Conv":
            _expect(node, a, kernel_shape=list(ins[1].shape[2:]), strides=[1, 1], pads=[0, 0, 0, 0])
            y = F.conv2d(ins[0], ins[1], ins[2] if len(ins) > 2 else None)
        elif op == "Relu":
            _expect(node, a)
            y = F.relu(ins[0])
        elif op == "MaxPool":
            _expect(node, a, kernel_shape=[2, 2], strides=[2, 2])
            y = F.max_pool2d(ins[0], 2, 2)
        elif op == "Transpose":
            _expect(node, a, perm=None)
            y = ins[0].permute(*a["perm"])
        elif op == "Flatten":
            _expect(node, a, axis=1)
            y = ins[0].flatten(1)
        elif op == "Gemm":
            _expect(node, a, alpha=1.0, beta=1.0, transA=0, transB=0)
            y = ins[0] @ ins[1] + ins[2]
        elif op == "Identity":
            _expect(node, a)
            y = ins[0]
        else:
            raise ValueError(f"node {node.name}: operator {op} not supported by this evaluator")
        if len(node.output) != 1:
            raise ValueError(f"node {node.name}: {len(node.output)} outputs")
        values[node.output[0]] = y
    return values[model.graph.output[0].name]


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, images, out = argv
    torch.set_num_threads(2)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    c, h, w = dims
    with open(images, "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    x = x.reshape(-1, h, w, c).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        z = run(model, x)
    with open(out, "wb") as f:
        f.write(struct.pack(f"<{z.numel()}f", *z.flatten().tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
