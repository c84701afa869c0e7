// Chapter 0 solutions. Same API as exercises/Chapter00/TensorExercises.swift.

import ExerciseSupport
import Tensor

/// Sums a gradient shaped like a broadcast result back to `shape`, the shape of the input that
/// was broadcast: over the leading axes the input lacks, and over the axes where it had size 1.
func unbroadcast(_ g: Tensor, to shape: [Int]) -> Tensor {
    let lead = g.rank - shape.count
    var axes = Array(0..<lead)  // axes the input does not have at all
    for (i, n) in shape.enumerated() where n == 1 && g.shape[lead + i] != 1 {
        axes.append(lead + i)  // axes stretched from size 1
    }
    return g.sum(axes: axes, keepDims: true).reshaped(shape)
}

public func mulBackward(a: Tensor, b: Tensor, gradOutput: Tensor) throws -> (Tensor, Tensor) {
    (unbroadcast(gradOutput * b, to: a.shape),  // ∂(a·b)/∂a = b
     unbroadcast(gradOutput * a, to: b.shape))  // ∂(a·b)/∂b = a
}

public func matmulBackward(a: Tensor, b: Tensor, gradOutput: Tensor) throws -> (Tensor, Tensor) {
    (gradOutput.matmul(b.transposed()),  // [M, N]·[N, K] -> [M, K]
     a.transposed().matmul(gradOutput))  // [K, M]·[M, N] -> [K, N]
}

public func sumBackward(x: Tensor, axis: Int, gradOutput: Tensor) throws -> Tensor {
    var kept = x.shape
    kept[axis] = 1                                      // [..., n, ...] -> [..., 1, ...]
    return gradOutput.reshaped(kept).expand(to: x.shape)  // repeated n times along the axis
}

public func softmaxBackward(x: Tensor, gradOutput: Tensor) throws -> Tensor {
    let y = x.softmax(axis: -1)
    let dot = (gradOutput * y).sum(axes: [-1], keepDims: true)  // Σ_j G_j·y_j per row: [..., 1]
    return y * (gradOutput - dot)
}
