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
