#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures that Tests/NNTests/TorchParityTests.swift reads.

    /work/venv/bin/python scripts/torch_parity.py      # any Python with torch and numpy

Optional: the fixtures are committed, and nothing a learner runs needs Python. Run it again only
to change a case; it rewrites Tests/NNTests/Fixtures/TorchParity/ and prints each file and its size.

Each case is one safetensors file (written by hand below, F32 only, as the Swift reader wants):

    input.<name>        the inputs, float32, from a seeded generator
    param.<name>        the parameters, under the Swift module's `namedParameters` names
    R                   a fixed random tensor shaped like the output; the loss is sum(output * R),
                        so every gradient is a different, non-trivial function of the output
    output              the forward result
    grad.input.<name>   d loss / d input
    grad.param.<name>   d loss / d parameter

The reference is PyTorch evaluated in float64 on the float32 inputs and weights, then rounded to
float32: the tolerance in the Swift test then bounds the Swift code's float32 error alone. The
same case run by PyTorch in float32 is compared with that reference too, and its error is printed
and kept in the metadata ("torch_float32_error": tensor -> [max |torch32 - ref|, max |ref|]), so
the Swift errors can be set beside PyTorch's own.

The whole bench UNet (Sources/BenchModels/BenchModels.swift, 368,739 parameters) would take 1.5 MB
of weights and as much of gradients, so its weights are not stored but made on both sides by the
counter-based generator `parity_uniform` below (integer hashing, then only exactly rounded float32
operations, so both sides make the same bits); the file keeps a strided sample of every
parameter's weights (to check the two generators agree) and of every parameter's gradient.
"""
import json
import math
from pathlib import Path
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent.parent / "Tests" / "NNTests" / "Fixtures" / "TorchParity"
REFERENCE = f"PyTorch {torch.__version__} in float64 on the float32 inputs and weights, rounded to float32"


# MARK: - The file format

def write_safetensors(path, tensors, metadata):
    """8-byte little-endian header length, the JSON header (padded with spaces to 8 bytes), then
    every tensor's little-endian float32 values back to back, in name order."""
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        assert np.isfinite(a).all(), f"{path.name}: {name} is not finite"
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        chunks.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))


# MARK: - One case: forward, loss = sum(output * R), backward

def run(forward, inputs, params, dtype, R=None):
    """Runs `forward` in `dtype`; returns output, R, and the gradients of sum(output * R)."""
    ins = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in inputs.items()}
    ps = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}
    y = forward(ins, ps)
    if R is None:
        R = np.random.default_rng(99).standard_normal(tuple(y.shape)).astype(np.float32)
    (y * torch.tensor(R, dtype=dtype)).sum().backward()
    grads = {f"grad.input.{k}": t.grad for k, t in ins.items()}
    grads.update({f"grad.param.{k}": t.grad for k, t in ps.items()})
    return y.detach(), R, {k: g.detach() for k, g in grads.items()}


def float32_error(forward, inputs, params, R, reference):
    """PyTorch's own float32 error against the float64 reference: name -> [max abs error, max |ref|]."""
    y, _, grads = run(forward, inputs, params, torch.float32, R)
    computed = {"output": y, **grads}
    return {k: [float((computed[k].double() - torch.tensor(ref, dtype=torch.float64)).abs().max()),
                float(np.abs(ref).max())] for k, ref in reference.items()}


def summary(errors):
    """The worst of PyTorch float32's errors, each as a fraction of its tensor's largest value. A
    tensor that is zero in exact arithmetic (the key bias's gradient: softmax ignores a constant
    added to a row of scores) has only rounding noise for a reference, and is named apart."""
    worst = max((e / m, k) for k, (e, m) in errors.items() if m > 1e-9)
    zeros = [f"{k} (error {e:.1e}, exactly 0)" for k, (e, m) in errors.items() if m <= 1e-9]
    return f"PyTorch float32 worst error {worst[0]:.1e} of the tensor's max, in {worst[1]}" + "".join("; " + z for z in zeros)


def case(name, description, forward, inputs, params, **meta):
    y, R, grads = run(forward, inputs, params, torch.float64)
    reference = {"output": y.numpy().astype(np.float32), **{k: g.numpy().astype(np.float32) for k, g in grads.items()}}
    errors = float32_error(forward, inputs, params, R, reference)
    tensors = {**{f"input.{k}": v for k, v in inputs.items()}, **{f"param.{k}": v for k, v in params.items()},
               "R": R, **reference}
    metadata = {"case": description, "reference": REFERENCE, "loss": "sum(output * R)",
                "torch_float32_error": json.dumps(errors), **{k: str(v) for k, v in meta.items()}}
    write_safetensors(OUT / f"{name}.safetensors", tensors, metadata)
    print(f"  {name}: {description}; {summary(errors)}")


def randn(rng, *shape, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


# MARK: - Layers and ops

def conv_cases():
    for name, k, stride, padding, cout in [("conv_3x3_stride1_pad1", 3, 1, 1, 5),
                                           ("conv_3x3_stride2_pad1", 3, 2, 1, 5),
                                           ("conv_1x1", 1, 1, 0, 6)]:
        rng = np.random.default_rng(1)
        fan_in = 4 * k * k
        inputs = {"x": randn(rng, 2, 4, 7, 9)}  # H ≠ W, odd: a swapped axis or an off-by-one border shows
        params = {"weight": randn(rng, cout, 4, k, k, scale=1 / math.sqrt(fan_in)), "bias": randn(rng, cout, scale=0.5)}
        case(name, f"conv2d {k}x{k}, stride {stride}, padding {padding}, with bias, x [2, 4, 7, 9]",
             lambda i, p, s=stride, q=padding: F.conv2d(i["x"], p["weight"], p["bias"], stride=s, padding=q),
             inputs, params, kernel=k, stride=stride, padding=padding)


def norm_cases():
    rng = np.random.default_rng(2)
    inputs = {"x": randn(rng, 2, 8, 5, 6, scale=2, shift=3)}  # mean 3, not 0: the mean must be subtracted
    params = {"weight": randn(rng, 8, scale=0.5, shift=1), "bias": randn(rng, 8, scale=0.5)}
    case("groupnorm", "GroupNorm(4 groups, 8 channels, eps 1e-5), x [2, 8, 5, 6]",
         lambda i, p: F.group_norm(i["x"], 4, p["weight"], p["bias"], eps=1e-5), inputs, params, groups=4, epsilon=1e-5)

    rng = np.random.default_rng(3)
    inputs = {"x": randn(rng, 3, 5, 16, scale=2, shift=-1)}
    params = {"weight": randn(rng, 16, scale=0.5, shift=1), "bias": randn(rng, 16, scale=0.5)}
    case("layernorm", "LayerNorm(16, eps 1e-5) over the last axis, x [3, 5, 16]",
         lambda i, p: F.layer_norm(i["x"], (16,), p["weight"], p["bias"], eps=1e-5), inputs, params, epsilon=1e-5)


def activation_cases():
    rng = np.random.default_rng(4)
    x = np.concatenate([np.linspace(-12, 12, 97), rng.standard_normal(159) * 3]).astype(np.float32).reshape(2, 128)
    case("silu", "SiLU, x [2, 128] (a grid over [-12, 12] and N(0, 9) draws)", lambda i, p: F.silu(i["x"]), {"x": x}, {})
    case("gelu", "GELU, tanh approximation, x [2, 128] (as silu)",
         lambda i, p: F.gelu(i["x"], approximate="tanh"), {"x": x}, {})

    rng = np.random.default_rng(5)
    x = randn(rng, 3, 4, 10, scale=3)
    x[0, 0] = [80, -80, 79, 0, 80, -79.5, 1, 2, -3, 78]  # e^80 overflows float32: only max-subtraction survives
    x[1, 2] = [-80] * 9 + [-79]                          # all far below 0: e^-80 underflows without it
    x[2, 1, ::2] += 70                                   # half the row large, half ordinary
    case("softmax", "softmax over the last axis, x [3, 4, 10] with rows of ±80",
         lambda i, p: torch.softmax(i["x"], dim=-1), {"x": x}, {}, axis=-1)


# MARK: - Attention, written with matmuls to mirror Sources/NN/Attention.swift

def linear(x, p, name):
    return x @ p[f"{name}.weight"].T + p[f"{name}.bias"]  # weight [out, in], as Swift's Linear


def multi_head_attention(x, context, p, heads):
    """MultiHeadAttention.attend: q from x, k and v from context; head i owns features
    i·dh ..< (i+1)·dh of each projection; softmax(q·kᵀ / √dh)·v; heads concatenated, projected."""
    b, l, _ = x.shape
    s = context.shape[1]
    def split(t, n):  # [B, n, h·dh] -> [B, h, n, dh]
        return t.reshape(b, n, heads, -1).permute(0, 2, 1, 3)
    q, k, v = split(linear(x, p, "query"), l), split(linear(context, p, "key"), s), split(linear(context, p, "value"), s)
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)  # [B, h, L, S]
    merged = (weights @ v).permute(0, 2, 1, 3).reshape(b, l, -1)                     # [B, L, dim]
    return linear(merged, p, "output")


def check_against_torch_mha(inputs, params, heads, cross):
    """The hand-written attention agrees with torch.nn.MultiheadAttention given the same weights."""
    p = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    x = torch.tensor(inputs["x"], dtype=torch.float64)
    c = torch.tensor(inputs["context"], dtype=torch.float64) if cross else x
    dim, cdim = x.shape[-1], c.shape[-1]
    mha = nn.MultiheadAttention(dim, heads, batch_first=True, kdim=cdim, vdim=cdim, dtype=torch.float64)
    with torch.no_grad():
        if mha._qkv_same_embed_dim:
            mha.in_proj_weight.copy_(torch.cat([p["query.weight"], p["key.weight"], p["value.weight"]]))
        else:
            mha.q_proj_weight.copy_(p["query.weight"]); mha.k_proj_weight.copy_(p["key.weight"]); mha.v_proj_weight.copy_(p["value.weight"])
        mha.in_proj_bias.copy_(torch.cat([p["query.bias"], p["key.bias"], p["value.bias"]]))
        mha.out_proj.weight.copy_(p["output.weight"]); mha.out_proj.bias.copy_(p["output.bias"])
        theirs, _ = mha(x, c, c, need_weights=False)
        ours = multi_head_attention(x, c, p, heads)
    assert torch.allclose(ours, theirs, rtol=1e-12, atol=1e-12), "hand-written attention differs from nn.MultiheadAttention"


def attention_params(rng, dim, cdim):
    params = {}
    for name, fan_in in [("query", dim), ("key", cdim), ("value", cdim), ("output", dim)]:
        params[f"{name}.weight"] = randn(rng, dim, fan_in, scale=1 / math.sqrt(fan_in))
        params[f"{name}.bias"] = randn(rng, dim, scale=0.2)
    return params


def attention_cases():
    rng = np.random.default_rng(6)
    inputs = {"x": randn(rng, 2, 6, 16)}
    params = attention_params(rng, 16, 16)
    check_against_torch_mha(inputs, params, 4, cross=False)
    case("attention_self", "MultiHeadAttention(dim 16, 4 heads), self-attention, x [2, 6, 16]",
         lambda i, p: multi_head_attention(i["x"], i["x"], p, 4), inputs, params, heads=4)

    rng = np.random.default_rng(7)
    inputs = {"x": randn(rng, 2, 5, 16), "context": randn(rng, 2, 7, 12)}
    params = attention_params(rng, 16, 12)
    check_against_torch_mha(inputs, params, 2, cross=True)
    case("attention_cross", "MultiHeadAttention(dim 16, 2 heads, context 12), x [2, 5, 16], context [2, 7, 12]",
         lambda i, p: multi_head_attention(i["x"], i["context"], p, 2), inputs, params, heads=2, context_dim=12)


# MARK: - The bench UNet, mirroring Sources/BenchModels/BenchModels.swift

def sinusoidal_embedding(t, dim, dtype):
    """As the Swift code computes it: freq_i = exp(−ln(10000)·i/half) in double, rounded to float;
    the angle t·freq_i a float product; then [sin, cos] of it (here in `dtype`)."""
    half = dim // 2
    freq = np.array([math.exp(-math.log(10_000.0) * i / half) for i in range(half)], dtype=np.float32)
    angle = torch.tensor(np.asarray(t, dtype=np.float32)[:, None] * freq[None, :], dtype=dtype)  # [B, half]
    return torch.cat([angle.sin(), angle.cos()], dim=1)                                          # [B, dim]


class Block(nn.Module):
    """conv3×3 + Linear(128→cout)(e) over H×W -> GN(8) -> SiLU -> conv3×3 -> GN(8) -> SiLU."""
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


class Attention(nn.Module):
    """GN(8) -> 1×1 conv to q, k, v -> attention over H·W per head -> 1×1 conv -> + x."""
    def __init__(self, ch, heads=4):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(8, ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        dh = c // self.heads
        t = self.qkv(self.norm(x)).reshape(b, 3, self.heads, dh, h * w).permute(1, 0, 2, 4, 3)  # [3, B, heads, HW, dh]
        q, k, v = t[0], t[1], t[2]
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)                # [B, heads, HW, HW]
        merged = (weights @ v).permute(0, 1, 3, 2).reshape(b, c, h, w)                          # [B, heads, dh, HW] -> [B, C, H, W]
        return x + self.proj(merged)


class UNet(nn.Module):
    """Modules registered in the order of the Swift `namedParameters`, so the names and their order agree."""
    def __init__(self):
        super().__init__()
        self.time1, self.time2 = nn.Linear(32, 128), nn.Linear(128, 128)
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.s1, self.s2, self.mid = Block(32, 32), Block(32, 64), Block(64, 64)
        self.attn = Attention(64)
        self.u2, self.u1 = Block(128, 64), Block(96, 32)
        self.out = nn.Conv2d(32, 3, 3, padding=1)

    def forward(self, x, t):
        e = self.time2(F.silu(self.time1(sinusoidal_embedding(t, 32, x.dtype))))          # [B, 128]
        a = self.s1(self.stem(x), e)                                                       # [B, 32, H, W]
        b = self.s2(F.avg_pool2d(a, 2), e)                                                 # [B, 64, H/2, W/2]
        m = self.attn(self.mid(F.avg_pool2d(b, 2), e))                                     # [B, 64, H/4, W/4]
        c = self.u2(torch.cat([F.interpolate(m, scale_factor=2, mode="nearest"), b], 1), e)  # [B, 128, ...] -> [B, 64, ...]
        d = self.u1(torch.cat([F.interpolate(c, scale_factor=2, mode="nearest"), a], 1), e)  # [B, 96, H, W] -> [B, 32, H, W]
        return self.out(d)


def parity_uniform(k, n):
    """Element i of the k-th parameter: splitmix64(k·2³² + i), top 24 bits as u in [0, 1), as 2u − 1
    in [-1, 1). Every step is exact in float32, so TorchParityTests.swift makes the same bits."""
    z = (np.uint64(k) << np.uint64(32)) + np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -23) - np.float32(1)


def parity_weights(names_and_shapes):
    """Norm weights 1 + v/2 and biases v/4 (not 1 and 0, which would hide a swap); other weights
    v/√fanIn (PyTorch's default bound) and biases v/10; v = parity_uniform(k, count)."""
    values = {}
    for k, (name, shape) in enumerate(names_and_shapes):
        v = parity_uniform(k, int(np.prod(shape))).reshape(shape)
        if ".norm" in "." + name:
            values[name] = np.float32(1) + v * np.float32(0.5) if name.endswith("weight") else v * np.float32(0.25)
        elif name.endswith("weight"):
            values[name] = v * (np.float32(1) / np.sqrt(np.float32(np.prod(shape[1:]))))
        else:
            values[name] = v * np.float32(0.1)
    return values


def sample_stride(count, cap=512):
    """Every s-th element, s the least ≥ count/cap that is prime to 6: kernel positions (9) and
    rows of lengths 2ᵃ·3ᵇ are all visited."""
    s = max(1, -(-count // cap))
    while s > 1 and math.gcd(s, 6) != 1:
        s += 1
    return s


def unet_case():
    model = UNet()
    names_and_shapes = [(n, tuple(p.shape)) for n, p in model.named_parameters()]
    assert sum(math.prod(s) for _, s in names_and_shapes) == 368_739
    weights = parity_weights(names_and_shapes)
    rng = np.random.default_rng(8)
    x = randn(rng, 2, 3, 16, 16)
    t = [3.0, 517.0]

    def forward(i, p):  # the model's parameters replaced by `p` (float64 or float32), so gradients reach them
        return torch.func.functional_call(model, p, (i["x"], t))

    y, R, grads = run(forward, {"x": x}, weights, torch.float64)
    full = {"output": y.numpy().astype(np.float32), "grad.input.x": grads["grad.input.x"].numpy().astype(np.float32)}
    errors = float32_error(forward, {"x": x}, weights, R, {**full, **{k: g.numpy().astype(np.float32) for k, g in grads.items()}})
    tensors = {"input.x": x, "input.t": np.array(t, dtype=np.float32), "R": R, **full}
    parameters = []
    for name, shape in names_and_shapes:
        s = sample_stride(math.prod(shape))
        tensors[f"param.{name}"] = weights[name].reshape(-1)[::s]
        tensors[f"grad.param.{name}"] = grads[f"grad.param.{name}"].numpy().astype(np.float32).reshape(-1)[::s]
        parameters.append({"name": name, "shape": list(shape), "stride": s})
    metadata = {"case": "the bench UNet (368,739 parameters), batch 2, 16×16, t = [3, 517], weights from parity_uniform",
                "reference": REFERENCE, "loss": "sum(output * R)",
                "parameters": json.dumps(parameters),
                "sampling": "param.<name> and grad.param.<name> hold elements 0, s, 2s, … of the flattened tensor, s = stride",
                "torch_float32_error": json.dumps(errors)}
    write_safetensors(OUT / "unet.safetensors", tensors, metadata)
    print(f"  unet: {metadata['case']}; {summary(errors)}")


def main():
    torch.manual_seed(0)  # only UNet()'s default init draws from it, and those weights are replaced: every
                          # number written comes from numpy's seeded generators or from parity_uniform
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.safetensors"):
        old.unlink()
    print(f"writing {OUT}")
    conv_cases()
    norm_cases()
    activation_cases()
    attention_cases()
    unet_case()
    total = 0
    for f in sorted(OUT.glob("*.safetensors")):
        total += f.stat().st_size
        print(f"  {f.stat().st_size:>8,} bytes  {f.relative_to(OUT.parent.parent.parent.parent)}")
    print(f"  {total:>8,} bytes in all")


if __name__ == "__main__":
    main()
