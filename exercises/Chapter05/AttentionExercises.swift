// Chapter 5 exercises: the pieces of attention — a softmax that cannot overflow, one head's
// attention weights, and splitting a sequence's features into heads and merging them back.
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter05
// The library's versions are in Sources/NN/Attention.swift and Sources/Tensor/Ops/Composite.swift.

import ExerciseSupport
import NN
import Tensor

/// Exercise 5.1 — a numerically stable softmax (warm-up).
///
/// ```
/// softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m),   m = max_j x_j
/// ```
/// Subtracting the maximum changes nothing mathematically (it cancels) but keeps every exp ≤ 1, so
/// scores like [1000, 1001, 1002] — where exp overflows to ∞ and ∞/∞ is NaN — work too.
/// Hint: `x.max()!`, `Foundation.exp` (or `Float.exp` via `import Foundation`).
public func stableSoftmax(_ x: [Float]) throws -> [Float] {
    throw NotAttempted()
}

/// Exercise 5.2 — one head's attention weights, Vaswani et al. 2017 eq. (1) (warm-up; your 5.4 can use it).
///
/// Queries `q` `[L, d]` and keys `k` `[S, d]`; return the `[L, S]` weights
/// ```
/// A = softmax(q·kᵀ / √d)        softmax over each row (the S keys)
/// ```
/// Row i says how much query i reads from each key. Hint: `q.matmul(k, transposeOther: true)`,
/// multiply by a Float, `.softmax(axis: -1)`. Keep it differentiable (Tensor ops).
public func attentionWeights(q: Tensor, k: Tensor) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 5.3a — split the features of a sequence into heads (warm-up; your 5.4 can use it).
///
/// `x` is `[B, L, h·dh]`: each token's features, the h heads' slices side by side. Return
/// `[B·h, L, dh]`, head-major within each example: row block (b·h + j) holds head j of example b,
/// i.e. result[b·h + j, l, e] = x[b, l, j·dh + e].
/// Hint: reshape to [B, L, h, dh], permute to [B, h, L, dh], reshape to [B·h, L, dh].
public func splitHeads(_ x: Tensor, heads: Int) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 5.3b — merge heads back, the inverse of `splitHeads` (warm-up; your 5.4 can use it).
///
/// `x` is `[B·h, L, dh]`; return `[B, L, h·dh]` with result[b, l, j·dh + e] = x[b·h + j, l, e].
/// Hint: the three steps of 5.3a backwards.
public func mergeHeads(_ x: Tensor, heads: Int) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 5.4 — the whole self-attention block (build: `05-attention --mine` runs yours at the
/// UNet's 8×8 and 4×4 feature maps).
///
/// `h` `[B, C, H, W]`; the block's layers are given. Every position attends to every other:
/// ```
/// X = norm(h) as a sequence of H·W tokens of width C         [B, C, H, W] -> [B, C, H·W] -> [B, H·W, C]
/// Q, K, V = query(X), key(X), value(X)                        [B, H·W, C] each
/// per head (C split into `heads` groups of d = C/heads):      your splitHeads (5.3a): [B·heads, H·W, d]
///     O = softmax(Q·Kᵀ/√d)·V                                   your attentionWeights (5.2), then ·V
/// out = h + output(merged O) back in the map's shape          your mergeHeads (5.3b); [B, H·W, C] -> [B, C, H, W]
/// ```
/// Hint: `reshaped` and `permuted([0, 2, 1])` turn the map into tokens and back; the residual `h +`
/// is what lets a fresh block (its output layer starts at zero) pass h through unchanged.
public func selfAttentionBlock(_ h: Tensor, norm: GroupNorm, query: Linear, key: Linear, value: Linear, output: Linear,
                               heads: Int) throws -> Tensor {
    throw NotAttempted()
}
