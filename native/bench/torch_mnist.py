"""PyTorch CPU reference for BENCHMARKS.md: the same MNIST network, timed the
same way as TADD's Go benchmarks (training samples/s at batch 128, inference
images/s at batch 1 and 128, and one iteration of each C&W attack at batch
1, 16, 64 and 128, as core/attack's BenchmarkAttackIteration).

    python3 native/bench/torch_mnist.py [threads [all|attack [seconds]]]

"attack" times only the attack iterations (native/bench/attack.sh uses it);
seconds is the least time each measurement runs (3).
"""
import sys
import time

import torch
import torch.nn as nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
what = sys.argv[2] if len(sys.argv) > 2 else "all"
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
if what not in ("all", "attack"):
    sys.exit(f"usage: {sys.argv[0]} [threads [all|attack [seconds]]]")
torch.set_num_threads(threads)
torch.manual_seed(0)


def mnist_net():
    # NCHW is PyTorch's native layout; same layers as core/nn.MNISTArch.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1024, 200), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))


def timeit(f, min_seconds=None):
    min_seconds = seconds if min_seconds is None else min_seconds
    f()  # warm up
    n, start = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - start < min_seconds:
        f()
        n += 1
    return (time.perf_counter() - start) / n


model = mnist_net()
if what == "all":
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

model.eval()
for p in model.parameters():
    p.requires_grad_(False)


def attack_iteration(name, n):
    """One iteration of the C&W attack name on n images, as core/attack runs
    it: x' = tanh(w + δ)/2 + 1/2, the logits and their hinge, the attack's
    distance term, the gradient with respect to δ, one Adam step on δ."""
    img = torch.rand(n, 1, 28, 28) * 0.98 + 0.01
    tw = torch.atanh((img - 0.5) * 2 * 0.999999)
    mod = torch.zeros_like(tw, requires_grad=True)
    adam = torch.optim.Adam([mod], lr=1e-2)
    tlab = torch.zeros(n, 10)
    tlab[:, 1] = 1
    c = torch.full((n,), 1e-3)
    allowed = (torch.rand(n, 1, 28, 28) < 0.9).float()  # L0: the allowed set
    tau = 0.5  # L∞: the bound

    def step():
        new = torch.tanh(tw + mod) / 2 + 0.5
        if name == "l0":
            new = allowed * new + (1 - allowed) * img
        z = model(new)
        real = (tlab * z).sum(1)
        other = ((1 - tlab) * z - tlab * 10000).max(1).values
        if name == "linf":
            dist = torch.clamp((new - img).abs() - tau, min=0).sum((1, 2, 3))
            margin = 0.0
        else:
            dist = ((new - img) ** 2).sum((1, 2, 3))
            margin = 0.01 if name == "l0" else 0.0
        loss = dist + c * torch.clamp(other - real + margin, min=0)
        adam.zero_grad()
        loss.sum().backward()
        adam.step()

    return step


# The lines native/bench/attack.sh reads: attack, batch, ms per iteration.
for name in ("l2", "l0", "linf"):
    for n in (1, 16, 64, 128):
        t = timeit(attack_iteration(name, n))
        print(f"attack {name} batch{n}: {t * 1000:.3f} ms/iter {n / t:.0f} image-iters/s")
