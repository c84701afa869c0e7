// The benchmark models: a fixed MLP and a fixed UNet, simple enough to write the same way in other
// frameworks, so their step times can be set side by side. Not the chapters' models.
// A library of their own so that the parity tests (Tests/NNTests/TorchParityTests.swift) can run
// the same UNet that the bench times against its PyTorch twin (scripts/torch_parity.py).

import NN
import Tensor

/// Sinusoidal embedding of timesteps: half = d/2, freq_i = exp(−ln(10000)·i/half),
/// embedding = [sin(t·freq), cos(t·freq)]. `[B] -> [B, d]`.
public func sinusoidalEmbedding(_ t: [Float], dim: Int) -> Tensor {
    let half = dim / 2
    var values = [Float](repeating: 0, count: t.count * dim)
    for (b, tb) in t.enumerated() {
        for i in 0..<half {
            let freq = Float(Foundation.exp(-Foundation.log(10_000.0) * Double(i) / Double(half)))
            values[b * dim + i] = Foundation.sin(tb * freq)
            values[b * dim + half + i] = Foundation.cos(tb * freq)
        }
    }
    return Tensor(values, shape: [t.count, dim])
}

/// mlp: [x, emb(t)] (34) -> 128 -> 128 -> 128 -> 2, SiLU between. 37,762 parameters.
public struct BenchMLP: Module {
    let net: Sequential
    public init(using rng: inout RandomGenerator) {
        net = Sequential([Linear(34, 128, using: &rng), SiLU(), Linear(128, 128, using: &rng), SiLU(),
                          Linear(128, 128, using: &rng), SiLU(), Linear(128, 2, using: &rng)])
    }
    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("net", net) }
    public func callAsFunction(_ x: Tensor, _ t: [Float]) -> Tensor {
        net(Tensor.concat([x, sinusoidalEmbedding(t, dim: 32)], axis: 1))  // [B, 2] ++ [B, 32] -> [B, 34]
    }
}

/// Block(cin, cout): conv3×3 + Linear(128→cout)(e) over H×W -> GN(8) -> SiLU -> conv3×3 -> GN(8) -> SiLU.
public struct BenchBlock: Module {
    let conv1: Conv2d, time: Linear, norm1: GroupNorm, conv2: Conv2d, norm2: GroupNorm
    public init(_ cin: Int, _ cout: Int, using rng: inout RandomGenerator) {
        conv1 = Conv2d(cin, cout, kernelSize: 3, padding: 1, using: &rng)
        time = Linear(128, cout, using: &rng)
        norm1 = GroupNorm(groups: 8, channels: cout)
        conv2 = Conv2d(cout, cout, kernelSize: 3, padding: 1, using: &rng)
        norm2 = GroupNorm(groups: 8, channels: cout)
    }
    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("conv1", conv1) + scoped("time", time) + scoped("norm1", norm1) + scoped("conv2", conv2) + scoped("norm2", norm2)
    }
    public func callAsFunction(_ x: Tensor, _ e: Tensor) -> Tensor {
        let te = time(e)                                                  // [B, 128] -> [B, cout]
        let h = conv1(x) + te.reshaped([te.shape[0], te.shape[1], 1, 1])  // broadcast over H×W
        return norm2(conv2(norm1(h).silu())).silu()
    }
}

/// Attention(ch = 64, 4 heads): GN(8) -> 1×1 conv to q, k, v -> attention over H·W per head -> 1×1 conv -> + x.
public struct BenchAttention: Module {
    let norm: GroupNorm, qkv: Conv2d, proj: Conv2d
    let heads = 4
    public init(_ ch: Int, using rng: inout RandomGenerator) {
        norm = GroupNorm(groups: 8, channels: ch)
        qkv = Conv2d(ch, 3 * ch, kernelSize: 1, using: &rng)
        proj = Conv2d(ch, ch, kernelSize: 1, using: &rng)
    }
    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("norm", norm) + scoped("qkv", qkv) + scoped("proj", proj) }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let dh = c / heads
        // [B, 3C, H, W] -> [B, 3, heads, dh, HW] -> [3, B, heads, HW, dh]
        let t = qkv(norm(x)).reshaped([b, 3, heads, dh, h * w]).permuted([1, 0, 2, 4, 3])
        let parts = t.split([1, 1, 1], axis: 0).map { $0.reshaped([b * heads, h * w, dh]) }
        let (o, _) = scaledDotProductAttention(parts[0], parts[1], parts[2])      // [B·heads, HW, dh]
        let merged = o.reshaped([b, heads, h * w, dh]).permuted([0, 1, 3, 2]).reshaped([b, c, h, w])
        return x + proj(merged)
    }
}

/// The bench UNet (unet16 / unet32). 368,739 parameters.
public struct BenchUNet: Module {
    let time1: Linear, time2: Linear
    let stem: Conv2d
    let s1: BenchBlock, s2: BenchBlock, mid: BenchBlock, attn: BenchAttention, u2: BenchBlock, u1: BenchBlock
    let out: Conv2d
    public init(using rng: inout RandomGenerator) {
        time1 = Linear(32, 128, using: &rng); time2 = Linear(128, 128, using: &rng)
        stem = Conv2d(3, 32, kernelSize: 3, padding: 1, using: &rng)
        s1 = BenchBlock(32, 32, using: &rng); s2 = BenchBlock(32, 64, using: &rng)
        mid = BenchBlock(64, 64, using: &rng); attn = BenchAttention(64, using: &rng)
        u2 = BenchBlock(128, 64, using: &rng); u1 = BenchBlock(96, 32, using: &rng)
        out = Conv2d(32, 3, kernelSize: 3, padding: 1, using: &rng)
    }
    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("time1", time1) + scoped("time2", time2) + scoped("stem", stem) + scoped("s1", s1) + scoped("s2", s2)
            + scoped("mid", mid) + scoped("attn", attn) + scoped("u2", u2) + scoped("u1", u1) + scoped("out", out)
    }
    public func callAsFunction(_ x: Tensor, _ t: [Float]) -> Tensor {
        let e = time2(time1(sinusoidalEmbedding(t, dim: 32)).silu())   // [B, 128]
        let a = s1(stem(x), e)                                           // [B, 32, H, W]
        let b = s2(a.avgPool2x2(), e)                                    // [B, 64, H/2, W/2]
        let m = attn(mid(b.avgPool2x2(), e))                             // [B, 64, H/4, W/4]
        let c = u2(Tensor.concat([m.upsampleNearest2x(), b], axis: 1), e)  // [B, 128, H/2, W/2] -> [B, 64, ...]
        let d = u1(Tensor.concat([c.upsampleNearest2x(), a], axis: 1), e)  // [B, 96, H, W] -> [B, 32, H, W]
        return out(d)
    }
}

import Foundation
