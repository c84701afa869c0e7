// Solutions to chapter 5's exercises (exercises/Chapter05/AttentionExercises.swift).

import ExerciseSupport
import Foundation
import NN
import Tensor

/// Exercise 5.1: exp(x − max) normalised.
public func stableSoftmax(_ x: [Float]) throws -> [Float] {
    let m = x.max() ?? 0
    let e = x.map { Foundation.exp($0 - m) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
}

/// Exercise 5.2: softmax(q·kᵀ/√d) over the keys.
public func attentionWeights(q: Tensor, k: Tensor) throws -> Tensor {
    let d = Float(q.shape[q.rank - 1])
    return (q.matmul(k, transposeOther: true) * (1 / d.squareRoot())).softmax(axis: -1)  // [L, d]·[S, d]ᵀ -> [L, S]
}

/// Exercise 5.3a: [B, L, h·dh] -> [B, L, h, dh] -> [B, h, L, dh] -> [B·h, L, dh].
public func splitHeads(_ x: Tensor, heads: Int) throws -> Tensor {
    let b = x.shape[0], l = x.shape[1]
    return x.reshaped([b, l, heads, -1]).permuted([0, 2, 1, 3]).reshaped([b * heads, l, -1])
}

/// Exercise 5.3b: [B·h, L, dh] -> [B, h, L, dh] -> [B, L, h, dh] -> [B, L, h·dh].
public func mergeHeads(_ x: Tensor, heads: Int) throws -> Tensor {
    let b = x.shape[0] / heads, l = x.shape[1]
    return x.reshaped([b, heads, l, -1]).permuted([0, 2, 1, 3]).reshaped([b, l, -1])
}

/// Solution 5.4 — GN, tokens, Q/K/V, heads, softmax(QKᵀ/√d)·V, merge, output projection, residual.
public func selfAttentionBlock(_ h: Tensor, norm: GroupNorm, query: Linear, key: Linear, value: Linear, output: Linear,
                               heads: Int) throws -> Tensor {
    let b = h.shape[0], c = h.shape[1], height = h.shape[2], width = h.shape[3]
    let tokens = norm(h).reshaped([b, c, height * width]).permuted([0, 2, 1])          // [B, H·W, C]
    let q = try splitHeads(query(tokens), heads: heads), k = try splitHeads(key(tokens), heads: heads)
    let v = try splitHeads(value(tokens), heads: heads)                                   // [B·heads, H·W, d]
    let o = try attentionWeights(q: q, k: k).matmul(v)                                    // [B·heads, H·W, d]
    let out = output(try mergeHeads(o, heads: heads))                                     // [B, H·W, C]
    return h + out.permuted([0, 2, 1]).reshaped([b, c, height, width])                    // [B, C, H, W]
}
