// Chapter 6 — Text conditioning from scratch: a word tokenizer, a small Transformer text encoder,
// the three ways chapter 4's UNet reads a prompt (cross-attention, the pooled text added to the time
// embedding, and coordinate channels so "top left" can be found), and classifier-free guidance.
// The lesson file of chapter 6.
//
// Original papers:
//   Vaswani et al. 2017, "Attention Is All You Need": token and position embeddings, the encoder
//   layer (self-attention and a feed-forward network, each with a residual connection).
//   Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture": LayerNorm *before*
//   each sub-layer (pre-LN), which trains without a learning-rate warm-up trick; GPT-2 does the same.
//   Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion Models", §3.3: the
//   UNet reads the text through cross-attention, queries from image features, keys and values from
//   the encoder's tokens.
//   Saharia et al. 2022, "Photorealistic Text-to-Image Diffusion Models with Deep Language
//   Understanding" (Imagen): the pooled text embedding added to the time embedding.
//   Liu et al. 2018, "An Intriguing Failing of Convolutional Neural Networks and the CoordConv
//   Solution": each pixel's coordinates as extra input channels.
//   Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", Algorithm 1 (the condition dropped
//   with probability p_uncond in training) and eq. (6): ε̃ = (1 + w)·ε(x, c) − w·ε(x). We write it
//   as ε_uncond + w·(ε_cond − ε_uncond), so w = 1 is plain conditional sampling (their w + 1).
//
// Deviation: whole words over a fixed vocabulary (the 14 words Shapes captions use, plus <pad>);
// no sub-word tokens.

import Foundation
import NN
import Tensor

/// A prompt the tokenizer cannot encode: a word not in its vocabulary, or too many words.
public struct TokenizerError: Error, CustomStringConvertible {
    public let prompt: String
    public let problem: String
    public var description: String { "prompt \"\(prompt)\": \(problem)" }
}

/// Words to token ids and back, over a fixed vocabulary. Id 0 is `<pad>`: prompts are padded to
/// `length` tokens, and the empty prompt — all `<pad>` — is the "no caption" that classifier-free
/// guidance trains with. The tokenizer knows words, not what they mean: chapter 6 builds it from
/// the Shapes captions' words (`ShapesVocabulary.words` in Datasets), whose grammar
/// (`ShapePrompt.parse`) lives with the data set.
///
/// With the 14 Shapes words and length 4: "red circle top left" -> [1, 7, 10, 12]; "" -> [0, 0, 0, 0].
public struct Tokenizer: Sendable {
    public static let pad = 0
    public static let padWord = "<pad>"

    /// `<pad>`, then the words in the order given: word i has id i + 1.
    public let vocabulary: [String]
    /// Tokens per prompt: shorter prompts are padded, longer ones are an error.
    public let length: Int
    private let ids: [String: Int]

    /// `words`: the vocabulary without `<pad>`, lower-case, no repeats.
    public init(words: [String], length: Int) {
        guard length >= 1 else { fatalError("Tokenizer: length \(length) must be at least 1") }
        guard Set(words).count == words.count, !words.contains(Tokenizer.padWord),
              words.allSatisfy({ !$0.isEmpty && $0 == $0.lowercased() }) else {
            fatalError("Tokenizer: the words must be distinct, lower-case, non-empty and not \(Tokenizer.padWord); got \(words)")
        }
        vocabulary = [Tokenizer.padWord] + words
        self.length = length
        ids = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($0.element, $0.offset) })
    }

    /// The ids of a prompt's words, padded with `<pad>` to `length`. Case, repeated spaces, tabs and
    /// commas are ignored. A word not in the vocabulary (or `<pad>` itself) is an error that lists
    /// the vocabulary; so is a prompt of more than `length` words.
    public func encode(_ prompt: String) throws -> [Int] {
        let words = prompt.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        guard words.count <= length else {
            throw TokenizerError(prompt: prompt, problem: "\(words.count) words; a prompt has at most \(length)")
        }
        let tokens = try words.map { word -> Int in
            guard let id = ids[word], id != Tokenizer.pad else {
                throw TokenizerError(prompt: prompt, problem: "unknown word '\(word)'; the vocabulary is: "
                                     + vocabulary.dropFirst().joined(separator: ", "))
            }
            return id
        }
        return tokens + [Int](repeating: Tokenizer.pad, count: length - tokens.count)
    }

    /// The words of `tokens`, without padding.
    public func decode(_ tokens: [Int]) -> String {
        tokens.filter { $0 != Tokenizer.pad && $0 < vocabulary.count }.map { vocabulary[$0] }.joined(separator: " ")
    }

    /// The empty prompt: `length` pads.
    public var emptyPrompt: [Int] { [Int](repeating: Tokenizer.pad, count: length) }
}

/// One pre-LN Transformer encoder layer:
/// ```
/// x = x + MultiHead(LN₁(x))                       self-attention over the tokens
/// x = x + W₂·GELU(W₁·LN₂(x))                      feed-forward, hidden width 4d
/// ```
/// `[B, L, d] -> [B, L, d]`.
public struct TransformerEncoderLayer: Module {
    public let norm1: LayerNorm, attention: MultiHeadAttention
    public let norm2: LayerNorm, feedForward1: Linear, feedForward2: Linear

    public init(dim: Int, heads: Int, using rng: inout RandomGenerator) {
        norm1 = LayerNorm(dim)
        attention = MultiHeadAttention(dim: dim, heads: heads, using: &rng)
        norm2 = LayerNorm(dim)
        feedForward1 = Linear(dim, 4 * dim, using: &rng)
        feedForward2 = Linear(4 * dim, dim, using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("norm1", norm1) + scoped("attention", attention) + scoped("norm2", norm2)
            + scoped("ff1", feedForward1) + scoped("ff2", feedForward2)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x + attention(norm1(x))                              // [B, L, d]
        return h + feedForward2(feedForward1(norm2(h)).gelu())       // [B, L, d] -> [B, L, 4d] -> [B, L, d]
    }
}

/// The text encoder: tokens → vectors that know their neighbours.
/// ```
/// h₀ = TokenEmbedding(tokens) + PositionEmbedding(0 … L−1)       [B, L, d]
/// h  = LN(EncoderLayer(… EncoderLayer(h₀)))                       [B, L, d]   the context, for cross-attention
/// pooled = mean over the L tokens of h                            [B, d]      added to the time embedding
/// ```
/// Position embeddings matter here: "top left red circle" and "red circle top left" use the same
/// words, and without positions the encoder could not tell "top" in slot 3 from "top" in slot 1
/// (it only needs to read them as a set, but it has to learn that). Cost: tiny next to the UNet —
/// L = 4 tokens, d = 64: two layers of 50k parameters each.
public struct TextEncoder: Module {
    public let tokenizer: Tokenizer
    public let dim: Int
    public let tokenEmbedding: Embedding, positionEmbedding: Embedding
    public let layers: [TransformerEncoderLayer]
    public let finalNorm: LayerNorm

    public init(tokenizer: Tokenizer, dim: Int, layers count: Int = 2, heads: Int = 4, using rng: inout RandomGenerator) {
        self.tokenizer = tokenizer
        self.dim = dim
        tokenEmbedding = Embedding(tokenizer.vocabulary.count, dim, using: &rng)
        positionEmbedding = Embedding(tokenizer.length, dim, using: &rng)
        layers = (0..<count).map { _ in TransformerEncoderLayer(dim: dim, heads: heads, using: &rng) }
        finalNorm = LayerNorm(dim)
        for e in [tokenEmbedding.weight, positionEmbedding.weight] { e.data = e.data.map { $0 * 0.1 } }  // small start, as GPT-2's 0.02·N(0,1) scale
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("token_embedding", tokenEmbedding) + scoped("position_embedding", positionEmbedding)
            + layers.enumerated().flatMap { scoped("layers.\($0.offset)", $0.element) } + scoped("final_norm", finalNorm)
    }

    /// tokens: B prompts of `tokenizer.length` ids each -> (context `[B, L, d]`, pooled `[B, d]`).
    public func callAsFunction(_ tokens: [[Int]]) -> (context: Tensor, pooled: Tensor) {
        let l = tokenizer.length, b = tokens.count
        guard tokens.allSatisfy({ $0.count == l }) else {
            fatalError("TextEncoder: every prompt must be \(l) tokens (padded), got lengths \(tokens.map(\.count))")
        }
        let positions = tokenEmbedding.weight.shape[0]
        for id in tokens.joined() where id < 0 || id >= positions {
            fatalError("TextEncoder: token id \(id) is outside the vocabulary 0..<\(positions)")
        }
        var h = tokenEmbedding(Array(tokens.joined()), shape: [b, l])                // [B, L, d]
        h = h + positionEmbedding(Array(0..<l), shape: [1, l])                     // + [1, L, d]
        for layer in layers { h = layer(h) }
        let context = finalNorm(h)                                                 // [B, L, d]
        return (context, context.mean(axes: [1]))                                  // [B, L, d] -> [B, d]
    }
}

/// Classifier-free guidance (Ho & Salimans 2022, eq. 6, with our w = their w + 1):
/// ```
/// ε̃ = ε_uncond + w·(ε_cond − ε_uncond)
/// ```
/// w = 0: ignore the prompt; w = 1: plain conditional; w > 1: push further along what the prompt changes.
public func classifierFreeGuidance(conditional: Tensor, unconditional: Tensor, scale w: Float) -> Tensor {
    guard conditional.shape == unconditional.shape else {
        fatalError("classifierFreeGuidance: conditional \(conditional.shape) and unconditional \(unconditional.shape) differ")
    }
    return unconditional + (conditional - unconditional) * w
}

/// Cross-attention from image to text (Rombach et al. 2022, §3.3): every pixel of a feature map
/// asks the prompt's tokens what it should be.
/// ```
/// X = GN(h) as a sequence                 [B, C, H, W] -> [B, H·W, C]      queries
/// out = h + MultiHead(X, context)         keys and values from the text [B, L, D]
/// ```
/// The output projection starts at 0 (a fresh block passes h through). The weights
/// `[B, heads, H·W, L]` say, for each pixel, which words it read.
public struct SpatialCrossAttention: Module {
    public let norm: GroupNorm
    public let attention: MultiHeadAttention

    public init(channels: Int, contextDim: Int, heads: Int, groups: Int = 8, using rng: inout RandomGenerator) {
        norm = GroupNorm(groups: groups, channels: channels)
        attention = MultiHeadAttention(dim: channels, heads: heads, contextDim: contextDim, using: &rng)
        zeroInitialize(attention.output)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("norm", norm) + scoped("attention", attention) }

    public func callAsFunction(_ h: Tensor, context: Tensor) -> Tensor { attend(h, context: context).output }

    public func attend(_ h: Tensor, context: Tensor) -> (output: Tensor, weights: Tensor) {
        guard h.rank == 4, h.shape[1] == norm.weight.count, context.rank == 3, context.shape[0] == h.shape[0] else {
            fatalError("SpatialCrossAttention: expected h [B, \(norm.weight.count), H, W] and context [B, L, D], got \(h.shape) and \(context.shape)")
        }
        let queries = tokensFromFeatureMap(norm(h))                                    // [B, C, H, W] -> [B, H·W, C]
        let (o, w) = attention.attend(queries, context: context)                       // [B, H·W, C], weights [B, heads, H·W, L]
        return (h + featureMapFromTokens(o, height: h.shape[2], width: h.shape[3]), w) // [B, H·W, C] -> [B, C, H, W]
    }
}

/// The pooled text joins the time embedding (as Imagen does, Saharia et al. 2022): every
/// residual block's AdaGN scale and shift then depend on the prompt as well as on t.
/// ```
/// emb = TimeEmbedding(t) + W·pooled + b          [B, E] + ([B, D] -> [B, E])
/// ```
/// Held by `TimeUNet` (`textProjection`); its parameters are the Linear's ("text_projection.weight").
public struct PooledTextProjection: Module {
    public let linear: Linear

    public init(contextDim: Int, embeddingDim: Int, using rng: inout RandomGenerator) {
        linear = Linear(contextDim, embeddingDim, using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { linear.namedParameters }

    /// The time embedding `[B, E]` with the projected pooled text `[B, D]` added.
    public func callAsFunction(_ embedding: Tensor, pooled: Tensor) -> Tensor {
        embedding + linear(pooled)                                                     // [B, E] + ([B, D] -> [B, E])
    }
}

/// "CoordConv" (Liu et al. 2018): two extra input channels holding each pixel's x and y. A
/// convolution does the same thing everywhere, so a UNet knows where a pixel is only from the zero
/// padding at the border; a prompt that says "top left" needs it to know directly.
/// `TimeUNet(coordinates: true)` appends them to x_t before its stem.
public enum CoordinateChannels {
    /// `[B, 2, H, W]`: channel 0 is each pixel's x, channel 1 its y, from −1 (left, top) to 1 (right,
    /// bottom), measured at pixel centres. A constant: nothing here is trained.
    public static func grid(batch: Int, height: Int, width: Int) -> Tensor {
        func axis(_ i: Int, _ n: Int) -> Float { n == 1 ? 0 : Float(2 * i + 1) / Float(n) - 1 }
        var one = [Float](repeating: 0, count: 2 * height * width)
        for y in 0..<height {
            for x in 0..<width {
                one[y * width + x] = axis(x, width)
                one[height * width + y * width + x] = axis(y, height)
            }
        }
        return Tensor([[Float]](repeating: one, count: batch).flatMap { $0 }, shape: [batch, 2, height, width])
    }

    /// x `[B, C, H, W]` with the grid appended: `[B, C + 2, H, W]`.
    public static func append(to x: Tensor) -> Tensor {
        Tensor.concat([x, grid(batch: x.shape[0], height: x.shape[2], width: x.shape[3])], axis: 1)
    }
}

/// The text-to-image model of chapter 6: the text encoder and a UNet that reads it.
/// ```
/// (context, pooled) = TextEncoder(tokens)
/// ε̂ = TimeUNet(x_t, t, text: (context, pooled))      pooled → added to the time embedding,
///                                                       context → cross-attention at 8×8 and 4×4
/// ```
/// Trained end to end by DDPM's loss, the prompt replaced by the empty prompt (all `<pad>`) for a
/// fraction of the examples so that the same network also learns ε(x_t, t, ∅) for guidance.
public struct TextToImage: Module {
    public let encoder: TextEncoder
    public let unet: TimeUNet

    /// What the UNet outputs: ε, or v (then `guided` turns it into ε̂ with `schedule`).
    public let prediction: PredictionTarget
    public let schedule: NoiseSchedule

    public init(tokenizer: Tokenizer, channels: Int, textDim: Int, textLayers: Int = 2, heads: Int = 4, attention: Bool = false,
                coordinates: Bool = true, prediction: PredictionTarget = .epsilon, schedule: NoiseSchedule = .linear(),
                imageChannels: Int = 3, using rng: inout RandomGenerator) {
        self.prediction = prediction
        self.schedule = schedule
        encoder = TextEncoder(tokenizer: tokenizer, dim: textDim, layers: textLayers, heads: heads, using: &rng)
        unet = TimeUNet(channels: channels, conditioning: .sinusoidal, attention: attention, heads: heads, contextDim: textDim,
                        coordinates: coordinates, imageChannels: imageChannels, using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("text", encoder) + scoped("unet", unet) }

    /// The network's output (ε̂, or v̂ if `prediction == .velocity`) for x_t `[B, C, H, W]` (C = `imageChannels`: 3 pixels, or 4 latent channels in chapter 7) at
    /// steps t, each with its prompt's tokens (B of them). This is what training compares with its target.
    public func callAsFunction(_ x: Tensor, _ t: [Int], tokens: [[Int]]) -> Tensor {
        guard tokens.count == x.shape[0] else { fatalError("TextToImage: \(tokens.count) prompts for a batch of \(x.shape[0])") }
        let text = encoder(tokens)
        return unet(x, t, text: text)
    }

    /// The empty prompt: what the model sees when the caption is dropped.
    public var emptyPrompt: [Int] { encoder.tokenizer.emptyPrompt }

    /// A noise predictor for a batch whose example k is asked for `tokens[k]`, with classifier-free
    /// guidance of scale w: one network call on [x; x] with [prompts; empty prompts], then
    /// ε̃ = ε_∅ + w·(ε_c − ε_∅). w = 1 skips the unconditional half (plain conditional sampling), w = 0
    /// the conditional one (the prompt is ignored).
    /// With v-prediction the guidance combination is taken on v̂ and then turned into ε̂: the map
    /// v̂ ↦ ε̂ = √(1 − ᾱ_t)·x_t + √ᾱ_t·v̂ is affine with weights that sum to one across the combination,
    /// so this is the same as combining the two ε̂.
    /// A replacement for the guidance combination (the network's output for x at t under `tokens` and
    /// scale w, before any v → ε), set once at the start of a run: chapter 6's `--mine` puts the
    /// learner's here. Nil (the library's) otherwise.
    nonisolated(unsafe) public static var guidanceReplacement: ((TextToImage, Tensor, [Int], [[Int]], Float) -> Tensor)?

    public func guided(tokens: [[Int]], scale w: Float) -> NoisePredictor {
        { x, t in
            let output = TextToImage.guidanceReplacement.map { $0(self, x, t, tokens, w) } ?? guidedOutput(x, t, tokens: tokens, scale: w)
            switch prediction {
            case .epsilon: return output
            case .velocity: return DDPM.epsilon(fromVelocity: output, xt: x, t: t, schedule: schedule)
            }
        }
    }

    /// The guided network output (ε̂ or v̂, before any v → ε): one call, on the doubled batch unless
    /// w is 0 or 1.
    public func guidedOutput(_ x: Tensor, _ t: [Int], tokens: [[Int]], scale w: Float) -> Tensor {
        let b = x.shape[0]
        if w == 1 { return self(x, t, tokens: tokens) }                                   // ε_∅ + 1·(ε_c − ε_∅) = ε_c
        if w == 0 { return self(x, t, tokens: [[Int]](repeating: emptyPrompt, count: b)) }  // = ε_∅
        let both = self(Tensor.concat([x, x], axis: 0), t + t, tokens: tokens + [[Int]](repeating: emptyPrompt, count: b))  // [2B, …]
        let parts = both.split([b, b], axis: 0)
        return classifierFreeGuidance(conditional: parts[0], unconditional: parts[1], scale: w)
    }
}
