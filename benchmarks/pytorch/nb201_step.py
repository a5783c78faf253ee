"""PyTorch speed anchor for issue 5: one first-order DARTS search step on the NAS-Bench-201 supernet.

A straightforward PyTorch transcription (every edge a MixedOp summing its five candidates, as in the
papers' code), timed like `NasFlatness.Benchmarks time`: batch 64, 32x32, 10 classes, synthetic data,
architecture pass on a validation batch (gradient w.r.t. alpha only, Adam) then weight pass on a training
batch (SGD, clip 5). Prints the median of N steps after one warm-up step.

Usage: /usr/bin/python3 benchmarks/pytorch/nb201_step.py SHAPE [steps] [threads] [mkldnn on|off]
       /usr/bin/python3 benchmarks/pytorch/nb201_step.py check   (oneDNN conv gradient check, as onednn-check)
SHAPE: C16N5, C16N1 or C8N1. Debian's python3-torch (1.13) lives at /usr/bin/python3.
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ReluConvBn(nn.Sequential):
    def __init__(self, cin, cout, k, stride, pad, affine):
        super().__init__(nn.ReLU(), nn.Conv2d(cin, cout, k, stride, pad, bias=False), nn.BatchNorm2d(cout, affine=affine))


class Edge(nn.Module):
    """none, skip, conv 1x1, conv 3x3, avg pool 3x3, weighted by softmax(alpha_edge)."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = ReluConvBn(c, c, 1, 1, 0, affine=False)
        self.conv3 = ReluConvBn(c, c, 3, 1, 1, affine=False)

    def forward(self, x, w):
        pool = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return w[0] * x.mul(0.0) + w[1] * x + w[2] * self.conv1(x) + w[3] * self.conv3(x) + w[4] * pool


class Cell(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.edges = nn.ModuleList(Edge(c) for _ in range(6))

    def forward(self, x, weights):
        nodes, e = [x], 0
        for i in range(1, 4):
            total = 0
            for j in range(i):
                total = total + self.edges[e](nodes[j], weights[e])
                e += 1
            nodes.append(total)
        return nodes[-1]


class ResNetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = ReluConvBn(cin, cout, 3, 2, 1, affine=True)
        self.b = ReluConvBn(cout, cout, 3, 1, 1, affine=True)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x):
        return self.shortcut(x) + self.b(self.a(x))


class Supernet(nn.Module):
    def __init__(self, c, n, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers = []
        for stage in range(3):
            width = c << stage
            if stage > 0:
                layers.append(ResNetBlock(width // 2, width))
            layers += [Cell(width) for _ in range(n)]
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU())
        self.classifier = nn.Linear(4 * c, classes)
        self.alpha = nn.Parameter(1e-3 * torch.randn(6, 5))

    def weights(self):
        return [p for name, p in self.named_parameters() if name != "alpha"]

    def forward(self, x):
        w = self.alpha.softmax(-1)
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, w) if isinstance(layer, Cell) else layer(x)
        x = F.adaptive_avg_pool2d(self.head(x), 1).flatten(1)
        return self.classifier(x)


def time_steps(shape, steps, threads):
    c, n = {"C16N5": (16, 5), "C16N1": (16, 1), "C8N1": (8, 1)}[shape]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Supernet(c, n)
    sgd = torch.optim.SGD(net.weights(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    adam = torch.optim.Adam([net.alpha], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    train = (torch.randn(64, 3, 32, 32), torch.randint(10, (64,)))
    valid = (torch.randn(64, 3, 32, 32), torch.randint(10, (64,)))

    def step():
        adam.zero_grad()
        loss = F.cross_entropy(net(valid[0]), valid[1])
        (net.alpha.grad,) = torch.autograd.grad(loss, [net.alpha])
        adam.step()
        sgd.zero_grad()
        F.cross_entropy(net(train[0]), train[1]).backward()
        nn.utils.clip_grad_norm_(net.weights(), 5.0)
        sgd.step()

    step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    mkldnn = "on" if torch.backends.mkldnn.enabled else "off"
    print(f"PyTorch {torch.__version__} {shape} darts-1st mkldnn={mkldnn} threads={threads}: "
          f"median {statistics.median(times):.0f} ms, min {min(times):.0f}, max {max(times):.0f}")


def check():
    """Float32 conv gradients against float64, as `NasFlatness.Benchmarks onednn-check on grid`."""
    torch.manual_seed(1)
    bad = total = 0
    for cin in (3, 4, 8, 12, 16, 24, 32):
        for cout in (4, 8, 16, 24, 32, 48):
            for k in (1, 3):
                for stride in (1, 2):
                    x = torch.randn(64, cin, 32, 32)
                    w = torch.randn(cout, cin, k, k)
                    x32 = x.clone().requires_grad_(True)
                    y = F.conv2d(x32, w, stride=stride, padding=k // 2)
                    g = torch.randn_like(y)
                    (gx,) = torch.autograd.grad(y, [x32], [g])
                    x64 = x.double().requires_grad_(True)
                    y64 = F.conv2d(x64, w.double(), stride=stride, padding=k // 2)
                    (gx64,) = torch.autograd.grad(y64, [x64], [g.double()])
                    fwd = (y.double() - y64).abs().max().item()
                    err = (gx.double() - gx64).abs().max().item()
                    total += 1
                    if not (fwd < 1e-3 and err < 1e-3):
                        bad += 1
                        print(f"cin={cin} cout={cout} k={k} s={stride}: forward {fwd:.3g} input-grad {err:.3g}")
    print(f"PyTorch {torch.__version__} mkldnn={torch.backends.mkldnn.enabled}: {bad} of {total} wrong")


if __name__ == "__main__":
    if sys.argv[1] == "check":
        torch.set_num_threads(1)
        check()
    else:
        if len(sys.argv) > 4:
            torch.backends.mkldnn.enabled = sys.argv[4] == "on"
        time_steps(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7, int(sys.argv[3]) if len(sys.argv) > 3 else 2)
