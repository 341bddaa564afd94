"""What one epoch of the paper's schedule gives in PyTorch: the MNIST network
of core/nn.MNISTArch, SGD lr 0.01, momentum 0.9 (Nesterov), batch 128,
dropout 0.5, inputs in [0, 1], evaluated on the 10,000 test images.

    python3 native/bench/torch_one_epoch.py default|glorot [threads]

default = PyTorch's own initialisation; glorot = Glorot-uniform weights and
zero biases (Keras's default, and TADD's). Reads MNIST from the GoMNIST
module in the Go module cache.
"""
import glob
import gzip
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

mode = sys.argv[1] if len(sys.argv) > 1 else "glorot"
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
modcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip()
d = sorted(glob.glob(os.path.join(modcache, "github.com/petar/!go!m!n!i!s!t@*/data/")))[-1]


def images(f):
    b = gzip.open(d + f).read()
    return torch.tensor(np.frombuffer(b, np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255)


def labels(f):
    return torch.tensor(np.frombuffer(gzip.open(d + f).read(), np.uint8, offset=8).astype(np.int64))


xtr, ytr = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
xte, yte = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
for seed in (1, 2):
    torch.manual_seed(seed)
    m = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1024, 200), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
    if mode == "glorot":
        for layer in m.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    perm = torch.randperm(len(ytr))
    m.train()
    for i in range(0, len(ytr), 128):
        idx = perm[i:i + 128]
        opt.zero_grad()
        nn.functional.cross_entropy(m(xtr[idx]), ytr[idx]).backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        correct = sum((m(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, 10000, 1000))
    print(f"{mode} init, seed {seed}: {correct / 100:.2f}% after one epoch", flush=True)
