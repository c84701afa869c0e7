// Chapter 4 — Telling the network t: the sinusoidal time embedding, residual blocks that take it
// in as a scale and a shift, and the UNet built from them. The lesson file of chapter 4.
//
// Original papers:
//   Vaswani et al. 2017, "Attention Is All You Need", §3.5: sinusoidal position encodings.
//   Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Appendix B: t enters every
//   residual block through the Transformer's sinusoidal embedding and a small MLP
//   (`get_timestep_embedding` in their code: sines of the first half of the frequencies, then cosines),
//   projected and *added* to the block's features after its first convolution (`temb_proj`).
//   Dhariwal & Nichol 2021, "Diffusion Models Beat GANs on Image Synthesis", §3 (AdaGN): the
//   embedding sets a per-channel scale and shift after a block's GroupNorm, h = (1 + s)·GN(h) + b.
//   This file uses AdaGN, not DDPM's addition.
//   He et al. 2016, "Deep Residual Learning": the residual connection x + F(x).
//
// Deviations, for size and speed: the same two-level hourglass as chapter 3 (16 → 8 → 4), one
// residual block per level, no dropout.
//
// Later chapters add their own files and `TimeUNet` composes them: chapter 5's blocks over positions
// (`PositionMixing`, Sources/Diffusion/SpatialAttention.swift) and chapter 6's cross-attention, pooled
// text projection and coordinate channels (Sources/Diffusion/TextConditioning.swift).

import Foundation
import NN
import Tensor

/// The sinusoidal embedding of integer steps t, DDPM's form of the Transformer's position code:
/// ```
/// ω_i = 10000^(−i/(d/2 − 1)),  i = 0 … d/2 − 1
/// emb(t) = [sin(t·ω_0), …, sin(t·ω_{d/2−1}), cos(t·ω_0), …, cos(t·ω_{d/2−1})]
/// ```
/// `[B] -> [B, d]`, d even and ≥ 4. Fast frequencies tell nearby steps apart, slow ones say roughly
/// where in 0…T−1 a step is; every value stays in −1…1 whatever t is, unlike t itself. t is the
/// code's index 0…T−1 (the paper's t − 1: a constant shift the MLP after it absorbs).
public func sinusoidalEmbedding(_ t: [Int], dimension d: Int) -> Tensor {
    guard d >= 4, d % 2 == 0 else { fatalError("sinusoidalEmbedding: dimension \(d) must be even and at least 4") }
    let half = d / 2
    let omega = (0..<half).map { i in Foundation.exp(-Foundation.log(10_000.0) * Double(i) / Double(half - 1)) }
    var values = [Float](repeating: 0, count: t.count * d)
    for (b, step) in t.enumerated() {
        for i in 0..<half {
            let angle = Double(step) * omega[i]
            values[b * d + i] = Float(Foundation.sin(angle))
            values[b * d + half + i] = Float(Foundation.cos(angle))
        }
    }
    return Tensor(values, shape: [t.count, d])
}

/// How a network is told t.
public enum TimeConditioning: String, CaseIterable, Sendable {
    /// Not at all (chapter 3): the network must judge the noise level from x_t.
    case none
    /// One plain number t/T through the embedding MLP (chapter 2's way).
    case scalar
    /// The sinusoidal embedding through the embedding MLP (DDPM's way).
    case sinusoidal
}

/// t → a vector of width `dim` that every block reads: the raw features (t/T, or the sinusoidal
/// embedding of width `featureDim`), then Linear → SiLU → Linear. `[B] -> [B, dim]`.
public struct TimeEmbedding: Module {
    public let kind: TimeConditioning
    public let featureDim: Int
    public let steps: Int
    public let linear1: Linear, linear2: Linear

    public init(_ kind: TimeConditioning, featureDim: Int, dim: Int, steps: Int, using rng: inout RandomGenerator) {
        guard kind != .none else { fatalError("TimeEmbedding: nothing to embed for TimeConditioning.none") }
        self.kind = kind
        self.featureDim = featureDim
        self.steps = steps
        linear1 = Linear(kind == .scalar ? 1 : featureDim, dim, using: &rng)
        linear2 = Linear(dim, dim, using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("linear1", linear1) + scoped("linear2", linear2) }

    /// A replacement for `sinusoidalEmbedding`, set once at the start of a run: chapter 4's `--mine`
    /// puts the learner's here. Nil (the library's) otherwise.
    nonisolated(unsafe) public static var sinusoidalReplacement: (([Int], Int) -> Tensor)?

    /// The features before the MLP: `[B, 1]` (t/T) or `[B, featureDim]` (sinusoidal).
    public func features(_ t: [Int]) -> Tensor {
        if kind == .sinusoidal, let replacement = TimeEmbedding.sinusoidalReplacement { return replacement(t, featureDim) }
        return kind == .scalar ? scaledTime(t, steps: steps)
            : sinusoidalEmbedding(t, dimension: featureDim)
    }

    public func callAsFunction(_ t: [Int]) -> Tensor {
        linear2(linear1(features(t)).silu())  // [B, 1 or featureDim] -> [B, dim] -> [B, dim]
    }
}

/// Sets every parameter of `modules` to 0. A residual branch whose last layer starts at 0 adds
/// nothing at first, so a fresh block is the identity x + 0 and a deep stack trains from the start
/// (DDPM's code zeroes the last convolution of each block and attention's output projection,
/// `zero_module` in Dhariwal & Nichol's). Used by `ResBlock` here and by the blocks of chapters 5 and 6.
public func zeroInitialize(_ modules: Module...) {
    for p in modules.flatMap(\.parameters) { p.data = [Float](repeating: 0, count: p.count) }
}

/// A residual block that reads a conditioning vector (the time embedding):
/// ```
/// h = conv₁(SiLU(GN₁(x)))
/// [s, b] = Linear(SiLU(emb))                       one scale and one shift per channel
/// h = conv₂(SiLU((1 + s)·GN₂(h) + b))              AdaGN (Dhariwal & Nichol 2021)
/// out = h + skip(x)                                skip: 1×1 conv if the width changes, else x
/// ```
/// `[B, in, H, W]`, emb `[B, E]` (or nil: no conditioning) -> `[B, out, H, W]`. The scale and shift
/// start at 0 and conv₂ starts at 0, so a fresh block is the identity (plus the skip's projection)
/// and deep stacks train from the start (DDPM's code starts conv₂ at zero too).
public struct ResBlock: Module {
    public let norm1: GroupNorm, conv1: Conv2d
    public let embedding: Linear?
    public let norm2: GroupNorm, conv2: Conv2d
    public let skip: Conv2d?

    public init(_ inChannels: Int, _ outChannels: Int, embeddingDim: Int?, groups: Int = 8, using rng: inout RandomGenerator) {
        norm1 = GroupNorm(groups: groups, channels: inChannels)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        embedding = embeddingDim.map { Linear($0, 2 * outChannels, using: &rng) }
        norm2 = GroupNorm(groups: groups, channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        skip = inChannels == outChannels ? nil : Conv2d(inChannels, outChannels, kernelSize: 1, using: &rng)
        zeroInitialize(conv2)
        if let embedding { zeroInitialize(embedding) }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("norm1", norm1) + scoped("conv1", conv1) + (embedding.map { scoped("embedding", $0) } ?? [])
            + scoped("norm2", norm2) + scoped("conv2", conv2) + (skip.map { scoped("skip", $0) } ?? [])
    }

    /// A replacement for every ResBlock's forward pass, set once at the start of a run: chapter 4's
    /// `--mine` puts the learner's block here. Nil (the library's) otherwise.
    nonisolated(unsafe) public static var replacement: ((ResBlock, Tensor, Tensor?) -> Tensor)?

    public func callAsFunction(_ x: Tensor, _ emb: Tensor?) -> Tensor {
        if let replacement = ResBlock.replacement { return replacement(self, x, emb) }
        return forward(x, emb)
    }

    /// The library's forward pass (the formula above).
    public func forward(_ x: Tensor, _ emb: Tensor?) -> Tensor {
        var h = conv1(norm1(x).silu())                                   // [B, in, H, W] -> [B, out, H, W]
        h = norm2(h)
        if let embedding, let emb {
            let c = h.shape[1]
            let st = embedding(emb.silu()).reshaped([emb.shape[0], 2 * c, 1, 1])  // [B, E] -> [B, 2·out, 1, 1]
            let parts = st.split([c, c], axis: 1)                 // scale, shift: [B, out, 1, 1] each
            h = h * (parts[0] + 1) + parts[1]
        }
        h = conv2(h.silu())                                              // [B, out, H, W]
        return h + (skip.map { $0(x) } ?? x)
    }
}

/// The UNet of chapter 3, rebuilt from residual blocks that are told t.
///
/// With base width c and a 16×16 input (E = 4c, the embedding width):
/// ```
///  t ──> TimeEmbedding ──> emb [B, E] ──> every ResBlock      (ch. 6: + PooledTextProjection(pooled text))
///  x_t [B, 3, 16, 16] ── stem 3×3 ──> [B, c, 16, 16]          (ch. 6: ⊕ CoordinateChannels, [B, 5, 16, 16])
///  down1  ResBlock(c → c)       [B, c, 16, 16]  ───────────── skip s1 ───────────┐
///  avgPool                      [B, c, 8, 8]                                     │
///  down2  ResBlock(c → 2c) (+)  [B, 2c, 8, 8] ──────── skip s2 ───────┐          │
///  avgPool                      [B, 2c, 4, 4]                         │          │
///  middle ResBlock(2c → 2c) (+) [B, 2c, 4, 4]                         │          │
///  upsample ⊕ s2                [B, 4c, 8, 8] <───────────────────────┘          │
///  up2    ResBlock(4c → 2c) (+) [B, 2c, 8, 8]                                    │
///  upsample ⊕ s1                [B, 3c, 16, 16] <────────────────────────────────┘
///  up1    ResBlock(3c → c)      [B, c, 16, 16]
///  head   GN → SiLU → conv 3×3  [B, 3, 16, 16] = ε̂
/// ```
/// (+): the slots where later chapters' blocks go, after the 8×8 and 4×4 blocks — chapter 5's block
/// over positions (`mixing`: self-attention or a control, SpatialAttention.swift), then chapter 6's
/// cross-attention to the text (`SpatialCrossAttention`, TextConditioning.swift). This file only
/// composes them; each slot is empty unless asked for, and each block starts as the identity.
///
/// With `conditioning == .none` there is no embedding and the blocks get nil: the same network,
/// blind to t, for a fair comparison. Cost at c = 32: ≈ 0.4 M parameters (more with attention).
public struct TimeUNet: Module {
    public let channels: Int
    public let conditioning: TimeConditioning
    public let time: TimeEmbedding?
    public let stem: Conv2d
    public let down1: ResBlock, down2: ResBlock, middle: ResBlock, up2: ResBlock, up1: ResBlock
    /// Chapter 5: what sits after down2 (8×8), middle (4×4) and up2 (8×8) — `SpatialSelfAttention`,
    /// a control (`PointwiseMLP`, `PositionwiseMixer`) or nothing.
    public let mixing: PositionMixing
    public let attentionDown2: (any Layer)?, attentionMiddle: (any Layer)?, attentionUp2: (any Layer)?
    /// Chapter 6: cross-attention to the text after the same three blocks, and the pooled text added
    /// to the time embedding. Nil unless `contextDim` is given.
    public let crossDown2: SpatialCrossAttention?, crossMiddle: SpatialCrossAttention?, crossUp2: SpatialCrossAttention?
    public let textProjection: PooledTextProjection?
    /// Chapter 6: whether x_t gets two coordinate channels before the stem (`CoordinateChannels`).
    public let coordinates: Bool
    public let headNorm: GroupNorm, head: Conv2d

    /// `contextDim`: the text encoder's width, to read a prompt (chapter 6); nil for an unconditional model.
    public init(channels c: Int = 32, conditioning: TimeConditioning = .sinusoidal, attention: Bool = false, heads: Int = 4,
                contextDim: Int? = nil, coordinates: Bool = false, steps: Int = 1000, imageChannels: Int = 3,
                using rng: inout RandomGenerator) {
        self.init(channels: c, conditioning: conditioning, mixing: attention ? .attention : .none, heads: heads,
                  contextDim: contextDim, coordinates: coordinates, steps: steps, imageChannels: imageChannels, using: &rng)
    }

    public init(channels c: Int = 32, conditioning: TimeConditioning = .sinusoidal, mixing: PositionMixing, heads: Int = 4,
                contextDim: Int? = nil, coordinates: Bool = false, steps: Int = 1000, imageChannels: Int = 3,
                using rng: inout RandomGenerator) {
        guard c > 0, c % 8 == 0 else { fatalError("TimeUNet: channels \(c) must be a positive multiple of 8 (GroupNorm(8))") }
        guard contextDim == nil || conditioning != .none else { fatalError("TimeUNet: a text-conditioned UNet needs a time embedding") }
        channels = c
        self.conditioning = conditioning
        let e = 4 * c
        time = conditioning == .none ? nil : TimeEmbedding(conditioning, featureDim: c, dim: e, steps: steps, using: &rng)
        let embeddingDim: Int? = conditioning == .none ? nil : e
        self.coordinates = coordinates
        stem = Conv2d(imageChannels + (coordinates ? 2 : 0), c, kernelSize: 3, padding: 1, using: &rng)
        down1 = ResBlock(c, c, embeddingDim: embeddingDim, using: &rng)
        down2 = ResBlock(c, 2 * c, embeddingDim: embeddingDim, using: &rng)
        middle = ResBlock(2 * c, 2 * c, embeddingDim: embeddingDim, using: &rng)
        up2 = ResBlock(4 * c, 2 * c, embeddingDim: embeddingDim, using: &rng)
        up1 = ResBlock(3 * c, c, embeddingDim: embeddingDim, using: &rng)
        self.mixing = mixing
        attentionDown2 = mixing.block(channels: 2 * c, heads: heads, using: &rng)
        attentionMiddle = mixing.block(channels: 2 * c, heads: heads, using: &rng)
        attentionUp2 = mixing.block(channels: 2 * c, heads: heads, using: &rng)
        crossDown2 = contextDim.map { SpatialCrossAttention(channels: 2 * c, contextDim: $0, heads: heads, using: &rng) }
        crossMiddle = contextDim.map { SpatialCrossAttention(channels: 2 * c, contextDim: $0, heads: heads, using: &rng) }
        crossUp2 = contextDim.map { SpatialCrossAttention(channels: 2 * c, contextDim: $0, heads: heads, using: &rng) }
        textProjection = contextDim.map { PooledTextProjection(contextDim: $0, embeddingDim: e, using: &rng) }
        headNorm = GroupNorm(groups: 8, channels: c)
        head = Conv2d(c, imageChannels, kernelSize: 3, padding: 1, using: &rng)
    }

    public var hasAttention: Bool { mixing == .attention }

    /// Dotted names as in a PyTorch state dict: "time.linear1.weight", "down2.conv1.bias",
    /// "attention_down2.…" (the slot named by `mixing`), "cross_down2.…", "text_projection.weight".
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var all = (time.map { scoped("time", $0) } ?? []) + (textProjection.map { scoped("text_projection", $0) } ?? [])
        all += scoped("stem", stem) + scoped("down1", down1) + scoped("down2", down2)
        all += (attentionDown2.map { scoped("\(mixing.rawValue)_down2", $0) } ?? []) + (crossDown2.map { scoped("cross_down2", $0) } ?? [])
        all += scoped("middle", middle) + (attentionMiddle.map { scoped("\(mixing.rawValue)_middle", $0) } ?? [])
        all += crossMiddle.map { scoped("cross_middle", $0) } ?? []
        all += scoped("up2", up2) + (attentionUp2.map { scoped("\(mixing.rawValue)_up2", $0) } ?? []) + (crossUp2.map { scoped("cross_up2", $0) } ?? [])
        return all + scoped("up1", up1) + scoped("head_norm", headNorm) + scoped("head", head)
    }

    /// ε̂ = UNet(x_t, t): `[B, 3, H, W]`, B steps -> `[B, 3, H, W]`, H and W multiples of 4.
    /// `text` (chapter 6): the text encoder's tokens `[B, L, D]` and their pooled vector `[B, D]`.
    public func callAsFunction(_ x: Tensor, _ t: [Int], text: (context: Tensor, pooled: Tensor)? = nil) -> Tensor {
        guard x.rank == 4, x.shape[2] % 4 == 0, x.shape[3] % 4 == 0, x.shape[0] == t.count else {
            fatalError("TimeUNet: expected [B, C, H, W] with H, W multiples of 4 and B steps, got \(x.shape) and \(t.count) steps")
        }
        guard (text == nil) == (textProjection == nil) else {
            fatalError(textProjection == nil ? "TimeUNet: this UNet reads no text (made without contextDim)"
                       : "TimeUNet: this UNet was made to read text; pass text: (context, pooled)")
        }
        var emb = time?(t)                                                     // [B] -> [B, 4c]
        if let text, let textProjection, let e = emb { emb = textProjection(e, pooled: text.pooled) }  // [B, 4c]
        /// The slots after an 8×8 or 4×4 block: chapter 5's block, then chapter 6's cross-attention.
        func slots(_ mix: (any Layer)?, _ cross: SpatialCrossAttention?, _ h: Tensor) -> Tensor {
            let h = mix.map { $0(h) } ?? h
            guard let cross, let text else { return h }
            return cross(h, context: text.context)
        }
        let input = coordinates ? CoordinateChannels.append(to: x) : x        // [B, 3, H, W] -> [B, 3 (+2), H, W]
        let s1 = down1(stem(input), emb)                                       // [B, c, H, W]
        let s2 = slots(attentionDown2, crossDown2, down2(s1.avgPool2x2(), emb))   // [B, 2c, H/2, W/2]
        let m = slots(attentionMiddle, crossMiddle, middle(s2.avgPool2x2(), emb)) // [B, 2c, H/4, W/4]
        let h2 = slots(attentionUp2, crossUp2, up2(Tensor.concat([m.upsampleNearest2x(), s2], axis: 1), emb))  // [B, 4c, ..] -> [B, 2c, H/2, W/2]
        let h1 = up1(Tensor.concat([h2.upsampleNearest2x(), s1], axis: 1), emb) // [B, 3c, H, W] -> [B, c, H, W]
        return head(headNorm(h1).silu())                                       // [B, c, H, W] -> [B, 3, H, W]
    }

    public var predictor: NoisePredictor { { x, t in self(x, t) } }
}
