#!/usr/bin/env python3
"""Side-by-side reference: PyTorch (CPU, eager) on the bench models of `swift run -c release bench`.

The same three training steps as the Swift bench's `models` section (Sources/BenchModels):
mlp (batch 256), unet16 and unet32 (the bench UNet, 368,739 parameters, batch 64), each step =
x_t = sqrt(a)*x0 + sqrt(1-a)*eps, forward, MSE on eps, backward, Adam (lr 1e-3); the median of
20 steps after 5 warm-up steps. Prints CSV lines `train_step,<model>,<threads>,<ms>,ms` like the
Swift bench, so the two can be set side by side:

    python3 scripts/torch_bench.py --threads 2
    swift run -c release bench --only models --threads 2

Optional: nothing in the package needs Python (a virtual environment with torch and numpy will do).
"""
import argparse, math, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal(t, dim):
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = t[:, None] * freq[None, :]
    return torch.cat([torch.sin(a), torch.cos(a)], dim=1)


class BenchMLP(nn.Module):  # [x, emb(t)] (34) -> 128 -> 128 -> 128 -> 2, SiLU between: 37,762 parameters
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(34, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(),
                                 nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, 2))

    def forward(self, x, t):
        return self.net(torch.cat([x, sinusoidal(t, 32)], dim=1))


class BenchBlock(nn.Module):  # conv3x3 + Linear(128->cout)(e) -> GN(8) -> SiLU -> conv3x3 -> GN(8) -> SiLU
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(128, cout)
        self.norm1 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(8, cout)

    def forward(self, x, e):
        h = self.conv1(x) + self.time(e)[:, :, None, None]
        return F.silu(self.norm2(self.conv2(F.silu(self.norm1(h)))))


class BenchAttention(nn.Module):  # GN(8) -> 1x1 conv to q, k, v -> attention per head (4) -> 1x1 conv -> + x
    def __init__(self, ch, heads=4):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(8, ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        dh = c // self.heads
        t = self.qkv(self.norm(x)).reshape(b, 3, self.heads, dh, h * w).permute(1, 0, 2, 4, 3)
        q, k, v = (p.reshape(b * self.heads, h * w, dh) for p in t)
        weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(dh), dim=-1)
        o = (weights @ v).reshape(b, self.heads, h * w, dh).permute(0, 1, 3, 2).reshape(b, c, h, w)
        return x + self.proj(o)


class BenchUNet(nn.Module):  # 368,739 parameters
    def __init__(self):
        super().__init__()
        self.time1, self.time2 = nn.Linear(32, 128), nn.Linear(128, 128)
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.s1, self.s2, self.mid = BenchBlock(32, 32), BenchBlock(32, 64), BenchBlock(64, 64)
        self.attn = BenchAttention(64)
        self.u2, self.u1 = BenchBlock(128, 64), BenchBlock(96, 32)
        self.out = nn.Conv2d(32, 3, 3, padding=1)

    def forward(self, x, t):
        e = self.time2(F.silu(self.time1(sinusoidal(t, 32))))
        a = self.s1(self.stem(x), e)
        b = self.s2(F.avg_pool2d(a, 2), e)
        m = self.attn(self.mid(F.avg_pool2d(b, 2), e))
        c = self.u2(torch.cat([F.interpolate(m, scale_factor=2, mode="nearest"), b], dim=1), e)
        d = self.u1(torch.cat([F.interpolate(c, scale_factor=2, mode="nearest"), a], dim=1), e)
        return self.out(d)


def alpha_bar(t):  # the Swift bench's stand-in schedule: cos^2(pi/2 * t/999) * 0.999 + 1e-4
    c = torch.cos(math.pi / 2 * t / 999)
    return c * c * 0.999 + 1e-4


def time_step(name, model, shape, batch, steps, warmup):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn((batch,) + shape, generator=g)
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        t = torch.randint(0, 1000, (batch,), generator=g).float()
        noise = torch.randn(x0.shape, generator=g)
        a = alpha_bar(t).reshape((batch,) + (1,) * len(shape))
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(xt, t), noise)
        loss.backward()
        opt.step()
        if step >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    print(f"train_step,{name},{torch.get_num_threads()},{statistics.median(times):.2f},ms", flush=True)
    print(f"params,{name},{torch.get_num_threads()},{sum(p.numel() for p in model.parameters())},count", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}", flush=True)
    print("name,size,threads,value,unit")
    mlp = BenchMLP()
    assert sum(p.numel() for p in mlp.parameters()) == 37_762
    time_step("mlp", mlp, (2,), 256, args.steps, args.warmup)
    for size in (16, 32):
        unet = BenchUNet()
        assert sum(p.numel() for p in unet.parameters()) == 368_739
        time_step(f"unet{size}", unet, (3, size, size), 64, args.steps, args.warmup)


if __name__ == "__main__":
    main()
