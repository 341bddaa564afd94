"""Load TADD model files into PyTorch.

TADD stores its networks as safetensors files (F16 or F32) whose tensors are
laid out for its own NHWC code. This module builds the equivalent PyTorch
network and loads a file into it, so that PyTorch gives TADD's logits:

    import torch, tadd_torch                  # PYTHONPATH=native/torch
    model, meta = tadd_torch.load("pretrained/mnist-T1-step0-teacher.safetensors")
    logits = model(images)                    # images: N x C x H x W in [0, 1]

What the conversion takes care of (see README.md, "Weight files"):

- the input shift: TADD's networks see pixels in [-0.5, 0.5] but take images
  in [0, 1]; TADDNet subtracts 0.5 itself, so feed it [0, 1] images;
- conv weights are stored (3, 3, Cin, Cout) (HWIO) and become PyTorch's
  (Cout, Cin, 3, 3); dense weights are stored (In, Out) and become (Out, In);
- dense1 reads the last pooled feature map flattened in H, W, C order (NHWC),
  not PyTorch's C, H, W: TADDNet permutes before flattening;
- F16 tensors are converted to float32 (TADD computes in float32).

load() checks the metadata (format "tadd", format_version, arch, dataset)
and every tensor's name and shape. It uses the `safetensors` package when it
is installed and a short reader of the format otherwise (Debian has no
python3-safetensors). Needs only Python 3 and torch.

As a command, for scripts and TADD's tests:

    python3 tadd_torch.py info MODEL...
    python3 tadd_torch.py logits --images FILE --out-dir DIR MODEL...

`logits` reads FILE as raw little-endian float32 images in TADD's layout
(N x H x W x C, values in [0, 1]) and writes DIR/<model file name>.logits,
N x classes raw little-endian float32.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

# FORMAT_VERSION is the version of TADD's metadata this module reads
# (core/weights.FormatVersion).
FORMAT_VERSION = "1"

# ARCHS are TADD's architectures (core/nn/arch.go): input (H, W, C), the
# filters of the four 3x3 valid convolutions, the units of the two hidden
# dense layers, the classes, and the datasets a file of that arch may name.
ARCHS = {
    "mnist": dict(input=(28, 28, 1), filters=(32, 32, 64, 64), hidden=200, classes=10, datasets=("mnist",)),
    "cifar": dict(input=(32, 32, 3), filters=(64, 64, 128, 128), hidden=256, classes=10, datasets=("cifar10",)),
}

# CENTER is the input shift of TADD's first layer (core/nn "center"): the
# network sees x - 0.5.
CENTER = 0.5

_DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2)}
_MAX_HEADER = 100 << 20


class TADDNet(nn.Module):
    """TADD's MNIST or CIFAR network (Carlini & Wagner's): two blocks of
    conv3x3, ReLU, conv3x3, ReLU, 2x2 max pool, then dense, ReLU, dropout
    0.5, dense, ReLU, dense (the logits).

    forward takes images N x C x H x W with values in [0, 1] and returns the
    logits N x classes. Dropout is active only in train mode.
    """

    def __init__(self, arch="mnist"):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown architecture {arch!r} (known: {sorted(ARCHS)})")
        a = ARCHS[arch]
        self.arch = arch
        h, w, c = a["input"]
        f1, f2, f3, f4 = a["filters"]
        self.input_shape = (c, h, w)
        self.conv1 = nn.Conv2d(c, f1, 3)
        self.conv2 = nn.Conv2d(f1, f2, 3)
        self.conv3 = nn.Conv2d(f2, f3, 3)
        self.conv4 = nn.Conv2d(f3, f4, 3)
        # Spatial size after conv, conv, pool, conv, conv, pool (valid
        # convolutions, floor pooling, as TADD).
        s = (((h - 4) // 2) - 4) // 2
        self.dense1 = nn.Linear(s * s * f4, a["hidden"])
        self.dense2 = nn.Linear(a["hidden"], a["hidden"])
        self.dense3 = nn.Linear(a["hidden"], a["classes"])

    def forward(self, x):
        x = x - CENTER
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.max_pool2d(F.relu(self.conv4(F.relu(self.conv3(x)))), 2)
        # TADD flattens NHWC feature maps: dense1's inputs are in H, W, C order.
        x = x.permute(0, 2, 3, 1).flatten(1)
        x = F.dropout(F.relu(self.dense1(x)), 0.5, self.training)
        x = F.relu(self.dense2(x))
        return self.dense3(x)

    def load_tadd_tensors(self, tensors):
        """Copies TADD's tensors (name -> float32 tensor, TADD's layout) into
        the network. Every name and shape must match exactly."""
        want = {}
        for name, p in self.named_parameters():
            if p.dim() == 4:  # PyTorch (Cout, Cin, kh, kw) <- TADD (kh, kw, Cin, Cout)
                want[name] = (p.shape[2], p.shape[3], p.shape[1], p.shape[0])
            elif p.dim() == 2:  # PyTorch (Out, In) <- TADD (In, Out)
                want[name] = (p.shape[1], p.shape[0])
            else:
                want[name] = tuple(p.shape)
        names = {n for n in tensors if not n.startswith("optimizer.")}
        if names != set(want):
            raise ValueError(f"tensors {sorted(names)}, architecture {self.arch!r} has {sorted(want)}")
        state = {}
        for name, shape in want.items():
            t = tensors[name]
            if tuple(t.shape) != shape:
                raise ValueError(f"tensor {name!r} has shape {tuple(t.shape)}, architecture {self.arch!r} needs {shape}")
            t = t.float()
            if t.dim() == 4:
                t = t.permute(3, 2, 0, 1)
            elif t.dim() == 2:
                t = t.t()
            state[name] = t.contiguous()
        self.load_state_dict(state)


def read_safetensors(path):
    """Returns (tensors, metadata) of a safetensors file: name -> torch tensor
    in the stored dtype, and the __metadata__ string map."""
    try:
        from safetensors import safe_open
    except ImportError:
        return _read_safetensors(path)
    with safe_open(path, framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})


def _read_safetensors(path):
    # The format: an 8-byte little-endian header length N, N bytes of JSON
    # ({"__metadata__": {...}, name: {dtype, shape, data_offsets}}), then
    # the tensors' little-endian bytes back to back.
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes is too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > _MAX_HEADER or n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} does not fit in a {len(raw)}-byte file")
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise ValueError(f"{path}: header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    if sys.byteorder != "little":
        raise ValueError("this reader assumes a little-endian machine; install the safetensors package")
    data = bytearray(raw[8 + n:])
    meta = header.pop("__metadata__", None) or {}
    tensors, spans = {}, []
    for name, h in header.items():
        try:
            dtype, size = _DTYPES[h["dtype"]]
            shape = [int(d) for d in h["shape"]]
            begin, end = (int(v) for v in h["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: tensor {name!r}: bad header entry {h!r} (dtypes read: F32, F16)") from None
        count = 1
        for d in shape:
            count *= d
        if not (0 <= begin <= end <= len(data)) or end - begin != count * size:
            raise ValueError(f"{path}: tensor {name!r}: data offsets [{begin}, {end}] wrong for shape {shape} of {h['dtype']}")
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=begin) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape).clone()
        spans.append((begin, end))
    pos = 0
    for begin, end in sorted(spans):
        if begin != pos:
            raise ValueError(f"{path}: hole or overlap in the tensor data at byte {pos}")
        pos = end
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} bytes after the last tensor")
    return tensors, meta


def check_metadata(meta, path="model"):
    """Checks that meta (a file's __metadata__) is TADD's, of the version
    this module reads, for a known architecture and a dataset that fits it.
    Returns the architecture name."""
    if meta.get("format") != "tadd":
        raise ValueError(f"{path}: not a TADD model (metadata format {meta.get('format')!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {meta.get('format_version')!r}, this module reads {FORMAT_VERSION!r}")
    arch = meta.get("arch")
    if arch not in ARCHS:
        raise ValueError(f"{path}: architecture {arch!r} is not one of {sorted(ARCHS)}")
    ds = meta.get("dataset", "")
    if ds not in ARCHS[arch]["datasets"]:
        raise ValueError(f"{path}: dataset {ds!r} does not fit architecture {arch!r} (want one of {ARCHS[arch]['datasets']})")
    return arch


def load(path):
    """Loads a TADD model file. Returns (model, metadata): a TADDNet in eval
    mode holding the file's weights as float32, and the file's metadata
    (strings: dataset, arch, temperature, role, step, parent, seed, epochs,
    test_accuracy, config, format, format_version)."""
    tensors, meta = read_safetensors(path)
    arch = check_metadata(meta, path)
    model = TADDNet(arch)
    try:
        model.load_tadd_tensors(tensors)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return model.eval(), meta


def read_mnist(images_path, labels_path=None):
    """Reads MNIST IDX files (gzipped or not): images N x 1 x 28 x 28 float32
    in [0, 1] (byte / 255, as TADD), and labels N (int64) when labels_path
    is given."""
    def idx(p, magic):
        import gzip
        with (gzip.open if p.endswith(".gz") else open)(p, "rb") as f:
            raw = f.read()
        m, = struct.unpack(">I", raw[:4])
        if m != magic:
            raise ValueError(f"{p}: magic {m:#x}, want {magic:#x}")
        dims = struct.unpack(">" + "I" * (magic & 0xff), raw[4:4 + 4 * (magic & 0xff)])
        return torch.frombuffer(bytearray(raw[4 + 4 * len(dims):]), dtype=torch.uint8).reshape(dims)
    x = idx(images_path, 0x803).unsqueeze(1).float() / 255
    if labels_path is None:
        return x
    return x, idx(labels_path, 0x801).long()


def _main(argv):
    import argparse
    p = argparse.ArgumentParser(prog="tadd_torch.py", description="TADD model files in PyTorch")
    sub = p.add_subparsers(dest="cmd", required=True)
    info = sub.add_parser("info", help="print each model's metadata as JSON")
    info.add_argument("models", nargs="+")
    lg = sub.add_parser("logits", help="write each model's logits on raw NHWC float32 images")
    lg.add_argument("--images", required=True, help="raw little-endian float32, N x H x W x C in [0, 1]")
    lg.add_argument("--out-dir", required=True)
    lg.add_argument("--batch", type=int, default=500)
    lg.add_argument("models", nargs="+")
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("TADD_TORCH_THREADS", "1")))
    try:
        if a.cmd == "info":
            for m in a.models:
                print(json.dumps(load(m)[1], sort_keys=True))
            return 0
        with open(a.images, "rb") as f:
            pixels = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
        for path in a.models:
            model, _ = load(path)
            c, h, w = model.input_shape
            if pixels.numel() % (h * w * c):
                raise ValueError(f"{a.images}: {pixels.numel()} floats is not a whole number of {h}x{w}x{c} images")
            x = pixels.reshape(-1, h, w, c).permute(0, 3, 1, 2)
            with torch.no_grad():
                z = torch.cat([model(x[i:i + a.batch]) for i in range(0, x.shape[0], a.batch)])
            out = os.path.join(a.out_dir, os.path.basename(path) + ".logits")
            with open(out, "wb") as f:
                f.write(struct.pack(f"<{z.numel()}f", *z.flatten().tolist()))
    except (OSError, ValueError) as e:
        print(f"tadd_torch.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
