// Chapter 0 exercises: write the backward rule of four operations yourself.
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter00        (or `swift run progress` for every chapter)
//
// Each function gets the op's inputs and G = ∂L/∂(output), the gradient of some loss L with
// respect to the op's result, and returns ∂L/∂(each input), shaped exactly like that input.
// You may use any Tensor operation (nothing inside your function needs to be differentiable).
// The checks compare your answer with finite differences along a random direction and with
// the library's own backward: Sources/Tensor/Ops/Elementwise.swift (mul), Linalg.swift (matmul),
// Reduce.swift (sum) and Composite.swift (softmax) — try before you look.

import ExerciseSupport
import Tensor

/// Exercise 0.1 — the backward of elementwise multiply, with broadcasting.
///
/// The forward is `y = a * b` with NumPy broadcasting: `a` and `b` may have different shapes,
/// e.g. `[3, 1] * [1, 4] -> [3, 4]` or `[2, 3, 4] * [4] -> [2, 3, 4]` or `[] * [2, 3]`.
/// `gradOutput` is G = ∂L/∂y, shaped like y. Return (∂L/∂a, ∂L/∂b) with a's and b's shapes:
/// ```
/// ∂L/∂a = sum over a's broadcast axes of (G ⊙ b)
/// ∂L/∂b = sum over b's broadcast axes of (G ⊙ a)
/// ```
/// An element of `a` that broadcasting reused for several outputs collects the gradient of
/// every one of them (the chain rule adds the paths), hence the sum.
///
/// Hint: `gradOutput * b` has y's shape. To bring it back to a's shape, sum over the leading
/// axes that `a` does not have, and over every axis where `a` has size 1 but y does not
/// (`sum(axes:keepDims: true)`), then `reshaped(a.shape)`.
public func mulBackward(a: Tensor, b: Tensor, gradOutput: Tensor) throws -> (Tensor, Tensor) {
    throw NotAttempted()
}

/// Exercise 0.2 — the backward of matrix multiply.
///
/// The forward is `C = a.matmul(b)` with `a` of shape [M, K] and `b` of shape [K, N], so C is
/// [M, N] with C_ij = Σ_k A_ik·B_kj. `gradOutput` is G = ∂L/∂C, shape [M, N]. Return
/// (∂L/∂A, ∂L/∂B):
/// ```
/// ∂L/∂A = G · Bᵀ      [M, N]·[N, K] -> [M, K]
/// ∂L/∂B = Aᵀ · G      [K, M]·[M, N] -> [K, N]
/// ```
/// Hint: write C_ij = Σ_k A_ik·B_kj and ask which outputs A_ik touches (row i of C, through
/// B_kj). If you forget where the transpose goes, let the shapes tell you: only one order fits.
/// `transposed()` swaps the last two axes.
public func matmulBackward(a: Tensor, b: Tensor, gradOutput: Tensor) throws -> (Tensor, Tensor) {
    throw NotAttempted()
}

/// Exercise 0.3 — the backward of a sum over one axis.
///
/// The forward is `y = x.sum(axes: [axis])` (no keepDims): `axis` (in 0..<x.rank) disappears,
/// so `[3, 5]` summed over axis 0 gives `[5]`, and `[4]` summed over axis 0 gives a scalar `[]`.
/// `gradOutput` is G = ∂L/∂y, shaped like y. Return ∂L/∂x, shaped like x:
/// ```
/// y[..., j, ...] = Σ_i x[..., i, j, ...]   so   ∂L/∂x[..., i, j, ...] = G[..., j, ...] for every i
/// ```
/// Every element of x went into exactly one sum with weight 1, so it receives that sum's gradient.
///
/// Hint: put the axis back with size 1 (`reshaped`), then repeat it along that axis to x's
/// shape (`expand(to:)`, or add `Tensor.zeros(x.shape)` and let broadcasting repeat it).
public func sumBackward(x: Tensor, axis: Int, gradOutput: Tensor) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 0.4 — the backward of softmax over the last axis.
///
/// The forward is `y = x.softmax(axis: -1)`: along the last axis, y_i = e^(x_i) / Σ_j e^(x_j).
/// `gradOutput` is G = ∂L/∂y, shaped like x. Return ∂L/∂x, shaped like x. With
/// ∂y_j/∂x_i = y_j·(δ_ij − y_i), the chain rule gives, for each row,
/// ```
/// ∂L/∂x_i = Σ_j G_j·y_j·(δ_ij − y_i) = y_i · (G_i − Σ_j G_j·y_j)
/// ```
/// Hint: compute y = x.softmax(axis: -1) first; `(gradOutput * y).sum(axes: [-1], keepDims: true)`
/// is the per-row Σ_j G_j·y_j, shaped to broadcast back over the row.
public func softmaxBackward(x: Tensor, gradOutput: Tensor) throws -> Tensor {
    throw NotAttempted()
}
