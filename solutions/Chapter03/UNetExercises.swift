// Solutions to chapter 3's exercises (exercises/Chapter03/UNetExercises.swift).

import ExerciseSupport
import NN
import Tensor

/// Exercise 3.1: H_out = ⌊(H + 2p − k)/s⌋ + 1.
public func convOutputSize(input: Int, kernel: Int, stride: Int, padding: Int) throws -> Int {
    (input + 2 * padding - kernel) / stride + 1
}

/// Exercise 3.2: avgPool(SiLU(GroupNorm(conv(x)))).
public func downBlock(_ x: Tensor, conv: Conv2d, norm: GroupNorm) throws -> Tensor {
    norm(conv(x)).silu().avgPool2x2()  // [B, Cin, H, W] -> [B, Cout, H/2, W/2]
}

/// Exercise 3.3: up(x) ⊕ skip along channels.
public func skipConcat(_ x: Tensor, skip: Tensor) throws -> Tensor {
    Tensor.concat([x.upsampleNearest2x(), skip], axis: 1)  // [B, C, H/2, W/2] -> [B, C + C_skip, H, W]
}

/// Solution 3.4 — the hourglass: down with skips, up with the skips concatenated (or zeros).
public func hourglass(_ x: Tensor, stem: (Tensor) -> Tensor, down1: (Tensor) -> Tensor, down2: (Tensor) -> Tensor,
                      middle: (Tensor) -> Tensor, up2: (Tensor) -> Tensor, up1: (Tensor) -> Tensor, head: (Tensor) -> Tensor,
                      skips: Bool) throws -> Tensor {
    let s1 = down1(stem(x))                                   // [B, c, H, W]
    let s2 = down2(s1.avgPool2x2())                           // [B, 2c, H/2, W/2]
    let m = middle(s2.avgPool2x2())                           // [B, 2c, H/4, W/4]
    let h2 = up2(try skipConcat(m, skip: skips ? s2 : Tensor.zeros(s2.shape)))   // [B, 4c, H/2, W/2] -> [B, 2c, …]
    return head(up1(try skipConcat(h2, skip: skips ? s1 : Tensor.zeros(s1.shape))))  // [B, 3c, H, W] -> [B, 3, H, W]
}
