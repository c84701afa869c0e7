// Chapter 3 exercises: the pieces of a UNet — a convolution's output size, a down block and a
// skip connection (warm-ups), and the hourglass that wires the network (a build exercise, which
// `swift run -c release 03-unet --mine` trains and samples with). Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter03
// The library's UNet is in Sources/Diffusion/UNet.swift — try before you look.

import ExerciseSupport
import NN
import Tensor

/// Exercise 3.1 — the output size of a convolution (warm-up).
///
/// A k×k convolution with stride s and zero padding p on each side turns an input of side H into
/// ```
/// H_out = ⌊(H + 2p − k) / s⌋ + 1
/// ```
/// (the number of positions where the kernel fits, stepping s pixels at a time). Return H_out.
/// Hint: integer division already floors for non-negative numbers. A 3×3, stride 2, padding 1
/// convolution halves an even side: (16 + 2 − 3)/2 + 1 = 8.
public func convOutputSize(input: Int, kernel: Int, stride: Int, padding: Int) throws -> Int {
    throw NotAttempted()
}

/// Exercise 3.2 — a down block of the UNet's contracting path (warm-up).
///
/// Apply, in order: the convolution, the group norm, SiLU, and 2×2 average pooling:
/// ```
/// y = avgPool₂ₓ₂( SiLU( GroupNorm( conv(x) ) ) )        [B, Cin, H, W] -> [B, Cout, H/2, W/2]
/// ```
/// Layers are values called like functions: `conv(x)`, `norm(h)`. SiLU(x) = x·σ(x) is `Tensor.silu()`,
/// the pooling `Tensor.avgPool2x2()`. The result must stay differentiable.
public func downBlock(_ x: Tensor, conv: Conv2d, norm: GroupNorm) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 3.3 — a skip connection of the expanding path (warm-up; your 3.4 can use it).
///
/// `x` comes from one level deeper, at half the resolution; `skip` is the contracting path's
/// feature map at this level. Upsample x by 2 (nearest neighbour), then concatenate along the
/// channel axis, the upsampled features first:
/// ```
/// [B, C, H/2, W/2] -> up -> [B, C, H, W];   [up(x) ⊕ skip] : [B, C + C_skip, H, W]
/// ```
/// Hint: `Tensor.upsampleNearest2x()` and `Tensor.concat(_:axis:)`; the channel axis of [B, C, H, W] is 1.
public func skipConcat(_ x: Tensor, skip: Tensor) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 3.4 — the hourglass (build: `03-unet --mine` trains and samples the UNet wired by yours).
///
/// The UNet's seven layers are given as functions; wire them into the network of this chapter:
/// ```
/// s₁ = down1(stem(x))                                  [B, c, H, W]        skip 1
/// s₂ = down2(avgPool(s₁))                              [B, 2c, H/2, W/2]   skip 2
/// m  = middle(avgPool(s₂))                             [B, 2c, H/4, W/4]
/// h₂ = up2( upsample(m)  ⊕ s₂ )                        [B, 4c, …] -> [B, 2c, H/2, W/2]
/// ε̂  = head( up1( upsample(h₂) ⊕ s₁ ) )                [B, 3c, …] -> [B, c, H, W] -> [B, 3, H, W]
/// ```
/// ⊕ is concatenation along the channels, the upsampled features first (`Tensor.concat([u, s], axis: 1)`);
/// avgPool is `avgPool2x2()`, upsample `upsampleNearest2x()`. With `skips == false` (the chapter's
/// ablation) concatenate zeros of the skip's shape instead (`Tensor.zeros(s.shape)`).
/// Hint: your `skipConcat` (3.3) does one ⊕ with its upsampling.
public func hourglass(_ x: Tensor, stem: (Tensor) -> Tensor, down1: (Tensor) -> Tensor, down2: (Tensor) -> Tensor,
                      middle: (Tensor) -> Tensor, up2: (Tensor) -> Tensor, up1: (Tensor) -> Tensor, head: (Tensor) -> Tensor,
                      skips: Bool) throws -> Tensor {
    throw NotAttempted()
}
