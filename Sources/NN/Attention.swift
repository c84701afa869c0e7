// Multi-head attention (Vaswani et al. 2017, "Attention Is All You Need", eq. 1 and §3.2.2).

import Tensor

/// Scaled dot-product attention, eq. (1) of Vaswani et al.:
/// ```
/// Attention(Q, K, V) = softmax(Q·Kᵀ / √d) · V
/// ```
/// q `[B, Lq, d]`, k and v `[B, Lk, d]` -> `[B, Lq, d]`. Composed from matmul and softmax,
/// so its gradient needs no code of its own. Also returns the weights `[B, Lq, Lk]`.
public func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> (output: Tensor, weights: Tensor) {
    Profiler.scope("attention") {
        let d = q.shape[q.rank - 1]
        let scores = q.matmul(k, transposeOther: true) * (1 / Float(d).squareRoot())  // [B, Lq, d]·[B, Lk, d]ᵀ -> [B, Lq, Lk]
        let weights = scores.softmax(axis: -1)
        return (weights.matmul(v), weights)                                           // [B, Lq, Lk]·[B, Lk, d] -> [B, Lq, d]
    }
}

/// Multi-head attention: queries from `x`, keys and values from `context` (cross-attention)
/// or from `x` itself (self-attention). Each of `heads` heads attends in its own subspace of
/// size dim/heads; their outputs are concatenated and projected.
/// ```
/// MultiHead(X, C) = Concat(head_1, …, head_h)·W_O,   head_i = Attention(X·W_Qi, C·W_Ki, C·W_Vi)
/// ```
public struct MultiHeadAttention: Module {
    public let heads: Int
    public let query: Linear, key: Linear, value: Linear, output: Linear

    /// `dim`: width of x (and of the result); `contextDim`: width of the context (defaults to dim).
    public init(dim: Int, heads: Int, contextDim: Int? = nil, using rng: inout RandomGenerator) {
        guard dim % heads == 0 else { fatalError("MultiHeadAttention: dim \(dim) is not divisible by \(heads) heads") }
        self.heads = heads
        query = Linear(dim, dim, using: &rng)
        key = Linear(contextDim ?? dim, dim, using: &rng)
        value = Linear(contextDim ?? dim, dim, using: &rng)
        output = Linear(dim, dim, using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("query", query) + scoped("key", key) + scoped("value", value) + scoped("output", output)
    }

    /// x `[B, L, dim]`, context `[B, S, contextDim]` (nil: self-attention) -> `[B, L, dim]`.
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil) -> Tensor {
        attend(x, context: context).output
    }

    /// Also returns the attention weights `[B, heads, L, S]`, for pictures of where each query looks.
    public func attend(_ x: Tensor, context: Tensor? = nil) -> (output: Tensor, weights: Tensor) {
        let c = context ?? x
        guard x.rank == 3, c.rank == 3, x.shape[0] == c.shape[0] else {
            fatalError("MultiHeadAttention: expected x [B, L, D] and context [B, S, Dc] with equal B, got \(x.shape) and \(c.shape)")
        }
        let b = x.shape[0], l = x.shape[1], s = c.shape[1]
        let q = splitHeads(query(x)), k = splitHeads(key(c)), v = splitHeads(value(c))  // [B·h, L or S, dh]
        let (o, w) = scaledDotProductAttention(q, k, v)                                   // [B·h, L, dh]
        let merged = o.reshaped([b, heads, l, -1]).permuted([0, 2, 1, 3]).reshaped([b, l, -1])  // -> [B, L, dim]
        return (output(merged), w.reshaped([b, heads, l, s]))
    }

    /// `[B, L, h·dh] -> [B, L, h, dh] -> [B, h, L, dh] -> [B·h, L, dh]`
    func splitHeads(_ t: Tensor) -> Tensor {
        let b = t.shape[0], l = t.shape[1]
        return t.reshaped([b, l, heads, -1]).permuted([0, 2, 1, 3]).reshaped([b * heads, l, -1])
    }
}
