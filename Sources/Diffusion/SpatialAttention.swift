// Chapter 5 — Self-attention over the positions of a feature map: the lesson file of chapter 5.
//
// Original papers:
//   Vaswani et al. 2017, "Attention Is All You Need", eq. (1) and §3.2.2 (scaled dot-product and
//   multi-head attention; `MultiHeadAttention` in Sources/NN/Attention.swift).
//   Wang et al. 2018, "Non-local Neural Networks": attention over the positions of a feature map.
//   Ho, Jain & Abbeel 2020, DDPM Appendix B: a self-attention block at the 16×16 resolution of
//   their UNet, GroupNorm before it and a residual connection around it.
// Deviation: our images are 16×16, so the blocks sit at 8×8 and 4×4 (`TimeUNet(mixing: .attention)`).
//
// Also here: the two controls of the chapter's ablation (`PointwiseMLP`, `PositionwiseMixer`), the
// choice among them that chapter 4's `TimeUNet` takes (`PositionMixing`), and the reshape between
// a feature map and a sequence of tokens that every block over positions uses (chapter 6's
// cross-attention too).

import NN
import Tensor

/// A feature map as a sequence of tokens, one per position, each of width C:
/// `[B, C, H, W] -> [B, H·W, C]`. Position p = y·W + x is token p (row-major, as the map is stored).
public func tokensFromFeatureMap(_ h: Tensor) -> Tensor {
    guard h.rank == 4 else { fatalError("tokensFromFeatureMap: expected [B, C, H, W], got \(h.shape)") }
    let b = h.shape[0], c = h.shape[1], height = h.shape[2], width = h.shape[3]
    return h.reshaped([b, c, height * width]).permuted([0, 2, 1])      // [B, C, H, W] -> [B, C, H·W] -> [B, H·W, C]
}

/// The inverse of `tokensFromFeatureMap`: `[B, H·W, C] -> [B, C, H, W]`.
public func featureMapFromTokens(_ tokens: Tensor, height: Int, width: Int) -> Tensor {
    guard tokens.rank == 3, tokens.shape[1] == height * width else {
        fatalError("featureMapFromTokens: expected [B, \(height * width), C] for \(height)×\(width), got \(tokens.shape)")
    }
    let b = tokens.shape[0], c = tokens.shape[2]
    return tokens.permuted([0, 2, 1]).reshaped([b, c, height, width])  // [B, H·W, C] -> [B, C, H·W] -> [B, C, H, W]
}

/// What sits after the UNet's 8×8 and 4×4 blocks (`TimeUNet(mixing:)`).
public enum PositionMixing: String, CaseIterable, Sendable {
    /// Nothing: chapter 4's UNet.
    case none
    /// Self-attention over the positions (`SpatialSelfAttention`).
    case attention
    /// A control: a per-position MLP of (almost) the same size (`PointwiseMLP`).
    case pointwise
    /// The control at exactly attention's size: its Q, K, V, O maps, each position on its own (`PositionwiseMixer`).
    case positionwise

    /// A fresh block of this kind over `channels` channels (nil for `.none`); each starts as the identity.
    public func block(channels: Int, heads: Int, using rng: inout RandomGenerator) -> (any Layer)? {
        switch self {
        case .none: return nil
        case .attention: return SpatialSelfAttention(channels: channels, heads: heads, using: &rng)
        case .pointwise: return PointwiseMLP(channels: channels, using: &rng)
        case .positionwise: return PositionwiseMixer(channels: channels, heads: heads, using: &rng)
        }
    }
}

/// Every pixel of a feature map looks at every other pixel:
/// ```
/// X = GN(h) as a sequence      [B, C, H, W] -> [B, H·W, C]      (each position a token of width C)
/// out = h + MultiHead(X, X)    back to [B, C, H, W]
/// ```
/// A convolution mixes a pixel with its 3×3 neighbours; attention mixes it with all H·W positions
/// in one step, with weights that depend on the content (softmax(QKᵀ/√d)). The output projection
/// starts at 0, so a fresh block is the identity and the network learns how much to use it.
/// Cost: (H·W)² per head and channel for the scores — 4,096 pairs at 8×8, fine; 65,536 at 16×16.
public struct SpatialSelfAttention: Layer {
    public let norm: GroupNorm
    public let attention: MultiHeadAttention

    public init(channels: Int, heads: Int, groups: Int = 8, using rng: inout RandomGenerator) {
        norm = GroupNorm(groups: groups, channels: channels)
        attention = MultiHeadAttention(dim: channels, heads: heads, using: &rng)
        zeroInitialize(attention.output)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("norm", norm) + scoped("attention", attention) }

    /// A replacement for every self-attention block's forward pass, set once at the start of a run:
    /// chapter 5's `--mine` puts the learner's block here. Nil (the library's) otherwise.
    nonisolated(unsafe) public static var replacement: ((SpatialSelfAttention, Tensor) -> Tensor)?

    public func callAsFunction(_ h: Tensor) -> Tensor {
        if let replacement = SpatialSelfAttention.replacement { return replacement(self, h) }
        return attend(h).output
    }

    /// Also returns the attention weights `[B, heads, H·W, H·W]`: row q says where position q looked.
    public func attend(_ h: Tensor) -> (output: Tensor, weights: Tensor) {
        guard h.rank == 4, h.shape[1] == norm.weight.count else {
            fatalError("SpatialSelfAttention: expected [B, \(norm.weight.count), H, W], got \(h.shape)")
        }
        let tokens = tokensFromFeatureMap(norm(h))                                     // [B, C, H, W] -> [B, H·W, C]
        let (o, w) = attention.attend(tokens)                                          // [B, H·W, C], weights [B, heads, H·W, H·W]
        return (h + featureMapFromTokens(o, height: h.shape[2], width: h.shape[3]), w) // [B, H·W, C] -> [B, C, H, W]
    }
}

/// The control for attention's ablation: the same place in the network, the same normalisation and
/// residual, (almost) the same number of parameters — but each position only looks at itself:
/// ```
/// out = h + W₂·GELU(W₁·GN(h))          per position: [B, C, H, W] -> [B, H·W, C] -> … -> [B, C, H, W]
/// ```
/// W₁ is C×2C and W₂ 2C×C: 4C² + 3C parameters against attention's 4C² + 4C (Q, K, V, O with
/// biases), so at C = 64 the two differ by 64 parameters in 16,768. Whatever the attention
/// network does better than this one, it does by mixing positions.
public struct PointwiseMLP: Layer {
    public let norm: GroupNorm
    public let linear1: Linear, linear2: Linear

    public init(channels: Int, groups: Int = 8, using rng: inout RandomGenerator) {
        norm = GroupNorm(groups: groups, channels: channels)
        linear1 = Linear(channels, 2 * channels, using: &rng)
        linear2 = Linear(2 * channels, channels, using: &rng)
        zeroInitialize(linear2)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("norm", norm) + scoped("linear1", linear1) + scoped("linear2", linear2)
    }

    public func callAsFunction(_ h: Tensor) -> Tensor {
        let tokens = tokensFromFeatureMap(norm(h))                                     // [B, C, H, W] -> [B, H·W, C]
        let o = linear2(linear1(tokens).gelu())                                        // [B, H·W, C] -> [B, H·W, 2C] -> [B, H·W, C]
        return h + featureMapFromTokens(o, height: h.shape[2], width: h.shape[3])      // [B, H·W, C] -> [B, C, H, W]
    }
}

/// The control at *exactly* attention's size: attention with the looking-elsewhere taken out.
/// The same GroupNorm and the same four C×C maps W_Q, W_K, W_V, W_O (held, and named, as in
/// `SpatialSelfAttention`, so the parameter count is identical and a seed gives the same initial
/// weights), the same residual — but each position attends only to itself. A softmax over one key
/// is always 1, which would leave W_Q and W_K with nothing to do, so the position's own score goes
/// through a sigmoid instead and gates its value, per head:
/// ```
/// X = GN(h) as a sequence                 [B, C, H, W] -> [B, H·W, C]
/// q, k, v = X·W_Q, X·W_K, X·W_V           per head, width d = C/heads
/// g = σ(q·k / √d)                         one number per position and head: its own score
/// out = h + Concat_heads(g·v)·W_O         W_O starts at 0: a fresh block is the identity
/// ```
/// Content-dependent and nonlinear like attention, trained in every weight, but position i's output
/// depends on position i alone (GroupNorm's statistics apart, which attention shares). Whatever a
/// network with attention does better than one with this block, it does by mixing positions.
public struct PositionwiseMixer: Layer {
    public let norm: GroupNorm
    public let attention: MultiHeadAttention

    public init(channels: Int, heads: Int, groups: Int = 8, using rng: inout RandomGenerator) {
        norm = GroupNorm(groups: groups, channels: channels)
        attention = MultiHeadAttention(dim: channels, heads: heads, using: &rng)
        zeroInitialize(attention.output)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("norm", norm) + scoped("attention", attention) }

    public func callAsFunction(_ h: Tensor) -> Tensor {
        guard h.rank == 4, h.shape[1] == norm.weight.count else {
            fatalError("PositionwiseMixer: expected [B, \(norm.weight.count), H, W], got \(h.shape)")
        }
        let tokens = tokensFromFeatureMap(norm(h))                                     // [B, C, H, W] -> [B, H·W, C]
        let o = mix(tokens)                                                            // [B, H·W, C]
        return h + featureMapFromTokens(o, height: h.shape[2], width: h.shape[3])      // [B, H·W, C] -> [B, C, H, W]
    }

    /// The block without its norm and residual: tokens `[B, L, C]` -> `[B, L, C]`, each token on its own.
    public func mix(_ tokens: Tensor) -> Tensor {
        let b = tokens.shape[0], l = tokens.shape[1], c = tokens.shape[2], heads = attention.heads, d = c / heads
        let q = attention.query(tokens).reshaped([b, l, heads, d])                     // [B, L, C] -> [B, L, h, d]
        let k = attention.key(tokens).reshaped([b, l, heads, d])
        let v = attention.value(tokens).reshaped([b, l, heads, d])
        let gate = ((q * k).sum(axes: [3], keepDims: true) * (1 / Float(d).squareRoot())).sigmoid()  // [B, L, h, 1]
        return attention.output((gate * v).reshaped([b, l, c]))                       // [B, L, h, d] -> [B, L, C]
    }
}
