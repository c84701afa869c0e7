// Checks for chapter 5's exercises: the softmax against the library's (and on scores where a naive
// softmax overflows), one head's weights against `scaledDotProductAttention` (Sources/NN/Attention.swift),
// the head split and merge against their index formulas.

import Diffusion
import NN
import Tensor

public struct Chapter05API {
    public var stableSoftmax: ([Float]) throws -> [Float]
    public var attentionWeights: (Tensor, Tensor) throws -> Tensor
    public var splitHeads: (Tensor, Int) throws -> Tensor
    public var mergeHeads: (Tensor, Int) throws -> Tensor
    /// The learner's block run on a library `SpatialSelfAttention`'s layers: (block, h) -> out.
    public var selfAttentionBlock: (SpatialSelfAttention, Tensor) throws -> Tensor

    public init(stableSoftmax: @escaping ([Float]) throws -> [Float], attentionWeights: @escaping (Tensor, Tensor) throws -> Tensor,
                splitHeads: @escaping (Tensor, Int) throws -> Tensor, mergeHeads: @escaping (Tensor, Int) throws -> Tensor,
                selfAttentionBlock: @escaping (SpatialSelfAttention, Tensor) throws -> Tensor) {
        self.stableSoftmax = stableSoftmax; self.attentionWeights = attentionWeights
        self.splitHeads = splitHeads; self.mergeHeads = mergeHeads; self.selfAttentionBlock = selfAttentionBlock
    }
}

public enum Chapter05Checks {
    static let file = "exercises/Chapter05/AttentionExercises.swift"

    public static let all: [Check<Chapter05API>] = [
        Check("stableSoftmax", file: file, hint: "subtract the maximum before exp, then divide by the sum") { api in
            var rng = RandomGenerator(seed: 501)
            for n in [1, 5, 17] {
                let x = Tensor.randn([n], using: &rng).data.map { $0 * 3 }
                let expected = Tensor(x, shape: [n]).softmax(axis: 0).data
                try expectClose(try api.stableSoftmax(x), expected, "stableSoftmax(\(x.prefix(4))…, \(n) values)",
                                hint: "exp(x_i − max) / Σ exp(x_j − max); the results sum to 1")
            }
            // exp(1000) overflows Float: only the stable form gives softmax([0, 1, 2]) here.
            let big: [Float] = [1000, 1001, 1002]
            let expected = Tensor([0, 1, 2], shape: [3]).softmax(axis: 0).data
            let actual = try api.stableSoftmax(big)
            guard actual.allSatisfy(\.isFinite) else {
                throw WrongAnswer("stableSoftmax([1000, 1001, 1002])", expected: "\(expected)", actual: "\(actual)",
                                  hint: "exp(1000) is ∞ in Float and ∞/∞ is NaN: subtract the maximum first")
            }
            try expectClose(actual, expected, "stableSoftmax([1000, 1001, 1002])", hint: "the same as softmax([0, 1, 2])")
        },
        Check("attentionWeights", file: file, hint: "softmax(q.matmul(k, transposeOther: true) · (1/√d), axis: -1)") { api in
            var rng = RandomGenerator(seed: 502)
            let q = Tensor.randn([5, 8], using: &rng), k = Tensor.randn([7, 8], using: &rng), v = Tensor.randn([7, 8], using: &rng)
            let expected = scaledDotProductAttention(q.reshaped([1, 5, 8]), k.reshaped([1, 7, 8]), v.reshaped([1, 7, 8])).weights
            let qLeaf = Tensor(q.data, shape: q.shape, requiresGrad: true)
            let actual = try api.attentionWeights(qLeaf, k)
            try expectClose(actual, expected.reshaped([5, 7]), "attentionWeights(q [5, 8], k [7, 8])",
                            hint: "scale the scores by 1/√d with d = 8 (the width of q and k), softmax over the keys (last axis)")
            actual.sum().backward()
            guard qLeaf.grad != nil else {
                throw WrongAnswer("the gradient reaching q", expected: "a gradient", actual: "none", hint: "use Tensor ops, not .data")
            }
        },
        Check("splitHeads", file: file, hint: "reshape [B, L, h, dh] → permute [0, 2, 1, 3] → reshape [B·h, L, dh]") { api in
            var rng = RandomGenerator(seed: 503)
            let (b, l, h, dh) = (2, 3, 4, 5)
            let x = Tensor.randn([b, l, h * dh], using: &rng)
            var expected = [Float](repeating: 0, count: x.count)
            for n in 0..<b { for j in 0..<h { for t in 0..<l { for e in 0..<dh {
                expected[((n * h + j) * l + t) * dh + e] = x.data[(n * l + t) * h * dh + j * dh + e]
            } } } }
            try expectClose(try api.splitHeads(x, h), Tensor(expected, shape: [b * h, l, dh]), "splitHeads(x [2, 3, 20], heads: 4)",
                            hint: "result[b·h + j, l, e] = x[b, l, j·dh + e]: heads come before positions in the result")
        },
        Check("mergeHeads", file: file, hint: "the inverse of splitHeads: reshape [B, h, L, dh] → permute [0, 2, 1, 3] → reshape [B, L, h·dh]") { api in
            var rng = RandomGenerator(seed: 504)
            let (b, l, h, dh) = (2, 3, 4, 5)
            let x = Tensor.randn([b * h, l, dh], using: &rng)
            var expected = [Float](repeating: 0, count: x.count)
            for n in 0..<b { for j in 0..<h { for t in 0..<l { for e in 0..<dh {
                expected[(n * l + t) * h * dh + j * dh + e] = x.data[((n * h + j) * l + t) * dh + e]
            } } } }
            try expectClose(try api.mergeHeads(x, h), Tensor(expected, shape: [b, l, h * dh]), "mergeHeads(x [8, 3, 5], heads: 4)",
                            hint: "result[b, l, j·dh + e] = x[b·h + j, l, e]")
        },
        Check("selfAttentionBlock", kind: .build, file: file, hint: "GN → tokens [B, H·W, C] → Q, K, V → heads → softmax(QKᵀ/√d)·V → merge → output → + h") { api in
            var rng = RandomGenerator(seed: 505)
            for heads in [1, 2, 4] {
                let block = SpatialSelfAttention(channels: 8, heads: heads, using: &rng)
                // A fresh block's output layer is zero (it passes h through): give it random weights.
                for p in block.parameters { p.data = Tensor.randn(p.shape, using: &rng).data.map { $0 * 0.5 } }
                let h = Tensor.randn([2, 8, 3, 4], using: &rng)   // a 3×4 map: rows and columns differ, so a transposed reshape shows
                try expectClose(try api.selfAttentionBlock(block, h), block(h), "the block on h [2, 8, 3, 4] with \(heads) head\(heads == 1 ? "" : "s")",
                                hint: "tokens are the H·W positions, each of width C ([B, C, H·W] → permute → [B, H·W, C]); split C into heads, not H·W")
            }
        },
    ]
}
