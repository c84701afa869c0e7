// Chapter 1 exercises: the noise schedule and the forward process. Warm-ups: 1.1 and 1.2. Build
// exercises, which `swift run -c release 01-noise --mine` runs in place of the library's: 1.3
// (the forward jump, eq. 4) and 1.4 (the cosine schedule).
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter01
// The library's version is in Sources/Diffusion/NoiseSchedule.swift — try before you look.

import ExerciseSupport
import Foundation
import Tensor

/// Exercise 1.1 — the linear β schedule of DDPM (warm-up).
///
/// Return `steps` values rising evenly from `betaStart` (at t = 0) to `betaEnd` (at t = steps − 1):
/// ```
/// β_t = β_start + (β_end − β_start) · t / (T − 1)
/// ```
/// Hint: with T = 1000, β_0 = 1e-4 and β_999 = 0.02 exactly.
public func linearBetas(steps: Int, betaStart: Float, betaEnd: Float) throws -> [Float] {
    throw NotAttempted()
}

/// Exercise 1.2 — ᾱ as a cumulative product (warm-up).
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

/// Exercise 1.3 — jump straight to step t, DDPM eq. (4) (build: `01-noise --mine` runs yours).
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

/// Exercise 1.4 — the cosine schedule (build: `01-noise --mine` runs yours).
///
/// Nichol & Dhariwal 2021, eq. (17): with τ = t + 1 for code steps t = 0…T−1,
/// ```
/// f(τ) = cos²( (τ/T + s)/(1 + s) · π/2 )        ᾱ(τ) = f(τ)/f(0)
/// β_t  = min(1 − ᾱ(τ)/ᾱ(τ − 1), maxBeta)        = min(1 − f(τ)/f(τ − 1), maxBeta)
/// ```
/// The small offset s = 0.008 keeps β from being tiny at the start; the clip at maxBeta = 0.999
/// stops the last step from being a division by ~0 (f(T) is 0, so the unclipped last β is 1).
/// Return the T values of β. Compute in Double and convert at the end.
/// Hint: `Foundation.cos`, `Double.pi`; check by hand that β_{T−1} == 0.999 exactly.
public func cosineBetas(steps: Int, offset s: Double, maxBeta: Double) throws -> [Float] {
    throw NotAttempted()
}
