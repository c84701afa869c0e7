// Chapter 4 exercises: the sinusoidal time embedding, injecting it into a block as a scale and a
// shift, the bookkeeping behind the chapter's comparison, and reading the noise level off x_t
// without being told t. Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter04
// The library's versions are in Sources/Diffusion/TimeEmbedding.swift and Training.swift, and
// Chapters/04-Time/main.swift (section 4.6) reads the noise level — try before you look.

import ExerciseSupport
import NN
import Tensor

/// Exercise 4.1 — the sinusoidal embedding of steps t, DDPM's form of the Transformer's code (build:
/// `04-time --mine` embeds t with yours).
///
/// For an even dimension d, with half = d/2:
/// ```
/// ω_i = 10000^(−i/(half − 1)),   i = 0 … half − 1
/// emb(t) = [sin(t·ω_0), …, sin(t·ω_{half−1}), cos(t·ω_0), …, cos(t·ω_{half−1})]
/// ```
/// Return a `[t.count, d]` tensor, one row per step. Hint: `Foundation.pow`, `sin`, `cos` on Double;
/// ω_0 = 1 and ω_{half−1} = 1/10000. Build a `[Float]` and wrap it: `Tensor(values, shape: [B, d])`.
public func sinusoidalEmbedding(_ t: [Int], dimension d: Int) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 4.2 — inject the time embedding into a block, AdaGN of Dhariwal & Nichol 2021 (warm-up;
/// your 4.5 can use it).
///
/// `h` is a group-normalised feature map `[B, C, H, W]`; `scaleShift` `[B, 2C]` is the embedding's
/// projection: its first C columns are the scales s, the last C the shifts b. Return
/// ```
/// (1 + s)·h + b            s and b broadcast over H and W: reshape to [B, C, 1, 1]
/// ```
/// Hint: `scaleShift.reshaped([B, 2C, 1, 1]).split([C, C], axis: 1)` gives s and b. Keep it
/// differentiable (Tensor ops only).
public func injectTime(_ h: Tensor, scaleShift: Tensor) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 4.3 — loss per range of t, the table behind every comparison in this chapter (warm-up).
///
/// `losses[k]` is the denoising error of example k, drawn at step `t[k]`. For each range in
/// `ranges` return the mean loss of the examples whose t falls in it (`range.contains(t[k])`),
/// or `nil` if none does. A model told t should win most where the noise is faintest.
/// Hint: sum in Double.
public func meanLossByRange(losses: [Float], t: [Int], ranges: [Range<Int>]) throws -> [Double?] {
    throw NotAttempted()
}

/// Exercise 4.4 — read the noise level off x_t without being told t, the cheap comparison of 4.6 (warm-up).
///
/// A Shapes image is flat colour on black, so neighbouring pixels are nearly equal; the noise is
/// independent from pixel to pixel. The mean squared difference of horizontal neighbours
/// ```
/// v(x) = mean over c, y and i = 0 … W−2 of (x[c, y, i+1] − x[c, y, i])²
/// E[v(x_t)] = ᾱ_t·v₀ + 2·(1 − ᾱ_t)            v₀ = v of clean images, on average
/// ```
/// therefore measures the noise. For each image of `xt` (`[B, C, H, W]`) return the estimated
/// noise variance
/// ```
/// 1 − ᾱ̂ = (v(x_t) − v₀) / (2 − v₀),   clipped to 0…1
/// ```
/// Hint: image b's values are `xt.data[b·C·H·W ..< (b+1)·C·H·W]`, row by row, W values to a row;
/// neighbours along W are one index apart. A row has W − 1 neighbour pairs, and H ≠ W in the check.
/// Sum in Double.
public func noiseVariance(_ xt: Tensor, cleanRoughness v0: Double) throws -> [Double] {
    throw NotAttempted()
}

/// Exercise 4.5 — a residual block that is told t, with AdaGN (build: `04-time --mine` runs yours in
/// every block of the UNet).
///
/// Given the block's layers and the time embedding `emb` `[B, E]` (nil: a block not told t):
/// ```
/// h = conv1(SiLU(norm1(x)))                          [B, in, H, W] -> [B, out, H, W]
/// h = norm2(h)
/// [s, b] = embedding(SiLU(emb))                      [B, E] -> [B, 2·out]; skip this when emb or embedding is nil
/// h = (1 + s)·h + b                                  your injectTime (4.2)
/// h = conv2(SiLU(h))
/// out = h + skip(x)                                  skip: a 1×1 conv when the width changes (non-nil), else x itself
/// ```
/// Hint: every layer is called like a function: `norm1(x)`, `conv1(h)`, `embedding(e)`; `.silu()`.
public func resBlock(_ x: Tensor, emb: Tensor?, norm1: GroupNorm, conv1: Conv2d, embedding: Linear?, norm2: GroupNorm,
                     conv2: Conv2d, skip: Conv2d?) throws -> Tensor {
    throw NotAttempted()
}
