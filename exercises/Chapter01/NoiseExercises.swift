// Chapter 1 exercises: the noise schedule and the forward process.
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter01
// The library's version is in Sources/Diffusion/NoiseSchedule.swift — try before you look.

import ExerciseSupport
import Tensor

/// Exercise 1.1 — the linear β schedule of DDPM.
///
/// Return `steps` values rising evenly from `betaStart` (at t = 0) to `betaEnd` (at t = steps − 1):
/// ```
/// β_t = β_start + (β_end − β_start) · t / (T − 1)
/// ```
/// Hint: with T = 1000, β_0 = 1e-4 and β_999 = 0.02 exactly.
public func linearBetas(steps: Int, betaStart: Float, betaEnd: Float) throws -> [Float] {
    throw NotAttempted()
}

/// Exercise 1.2 — ᾱ as a cumulative product.
///
/// Given β_0…β_{T−1}, return ᾱ_0…ᾱ_{T−1} with
/// ```
/// α_t = 1 − β_t,    ᾱ_t = α_0 · α_1 ⋯ α_t
/// ```
/// Hint: keep a running product; multiplying a thousand numbers near 1 in Float loses a little —
/// a Double accumulator is more accurate.
public func alphaBars(betas: [Float]) throws -> [Float] {
    throw NotAttempted()
}

/// Exercise 1.3 — jump straight to step t (DDPM eq. 4).
///
/// Return x_t for a batch: x0 and noise have shape `[B, ...]`, `alphaBar` has B entries (ᾱ_t of
/// each example's t):
/// ```
/// x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε
/// ```
/// Hint: make a `[B, 1, 1, ...]` tensor of √ᾱ per example and let broadcasting do the rest.
public func noisyBatch(x0: Tensor, alphaBar: [Float], noise: Tensor) throws -> Tensor {
    throw NotAttempted()
}
