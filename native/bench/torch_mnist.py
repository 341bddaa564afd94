"""PyTorch CPU reference for BENCHMARKS.md: the same MNIST network, timed the
same way as TADD's Go benchmarks (training samples/s at batch 128, inference
images/s at batch 1 and 128, and one C&W L2 iteration at batch 1, 9, 100).

    python3 native/bench/torch_mnist.py [threads]
"""
import sys
import time

import torch
import torch.nn as nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)


def mnist_net():
    # NCHW is PyTorch's native layout; same layers as core/nn.MNISTArch.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1024, 200), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))


def timeit(f, min_seconds=3.0):
    f()  # warm up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        f()
        n += 1
    return (time.perf_counter() - start) / n


model = mnist_net()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
x = torch.rand(128, 1, 28, 28)
y = torch.randint(0, 10, (128,))
loss_fn = nn.CrossEntropyLoss()


def train_step():
    model.train()
    opt.zero_grad()
    loss_fn(model(x) / 1.0, y).backward()
    opt.step()


t = timeit(train_step)
print(f"train batch128: {128 / t:.0f} samples/s")
model.eval()
with torch.no_grad():
    for n in (1, 128):
        t = timeit(lambda: model(x[:n]))
        print(f"inference batch{n}: {n / t:.0f} images/s")

for p in model.parameters():
    p.requires_grad_(False)
for n in (1, 9, 100):
    img = torch.rand(n, 1, 28, 28) * 0.98 + 0.01
    tw = torch.atanh((img - 0.5) * 2 * 0.999999)
    mod = torch.zeros_like(tw, requires_grad=True)
    adam = torch.optim.Adam([mod], lr=1e-2)
    tlab = torch.zeros(n, 10)
    tlab[:, 1] = 1
    c = torch.full((n,), 1e-3)

    def l2_iteration():
        new = torch.tanh(tw + mod) / 2 + 0.5
        z = model(new)
        real = (tlab * z).sum(1)
        other = ((1 - tlab) * z - tlab * 10000).max(1).values
        loss = ((new - img) ** 2).sum((1, 2, 3)) + c * torch.clamp(other - real, min=0)
        adam.zero_grad()
        loss.sum().backward()
        adam.step()

    t = timeit(l2_iteration)
    print(f"L2 iteration batch{n}: {t * 1000:.3f} ms")
