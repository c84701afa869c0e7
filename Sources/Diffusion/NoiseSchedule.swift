// Chapter 1 — Noise addition: the forward process.
//
// Original papers:
//   Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (DDPM): eq. (2), (4), linear β.
//   Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models": eq. (17), cosine ᾱ.

import Tensor

/// A variance schedule β_0…β_{T−1} and everything derived from it.
///
/// **Time index.** In code t runs 0…T−1. The DDPM paper counts 1…T, so code step t is the
/// paper's step t+1: `beta[0]` is the paper's β₁ and `alphaBar[T−1]` its ᾱ_T. The clean image
/// x₀ sits "before the first step", where ᾱ = 1 (`alphaBar(before: 0)`). A scalar t fed to a
/// network is scaled to t/T (`scaledTime`).
///
/// The quantities, with α_t = 1 − β_t:
/// ```
/// ᾱ_t = α_0 · α_1 ⋯ α_t                                   (cumulative product)
/// q(x_t | x_{t−1}) = N(√(1−β_t) · x_{t−1}, β_t · I)          DDPM eq. (2)
/// q(x_t | x_0)     = N(√ᾱ_t · x_0, (1 − ᾱ_t) · I)             DDPM eq. (4)
/// SNR(t) = ᾱ_t / (1 − ᾱ_t)                                  signal-to-noise ratio
/// ```
public struct NoiseSchedule {
    public enum Kind: String, CaseIterable { case linear, cosine }

    public let kind: Kind
    /// β_t for t = 0…T−1.
    public let beta: [Float]
    /// α_t = 1 − β_t.
    public let alpha: [Float]
    /// ᾱ_t = ∏_{s ≤ t} α_s, computed in Double.
    public let alphaBar: [Float]

    public var steps: Int { beta.count }

    /// Builds a schedule from its β values.
    public init(kind: Kind, beta: [Float]) {
        self.kind = kind
        self.beta = beta
        alpha = beta.map { 1 - $0 }
        var product = 1.0
        alphaBar = beta.map { b in
            product *= 1 - Double(b)
            return Float(product)
        }
    }

    /// DDPM's linear schedule: β rises linearly from 1e-4 to 0.02 over T = 1000 steps (§4).
    public static func linear(steps: Int = 1000, betaStart: Float = 1e-4, betaEnd: Float = 0.02) -> NoiseSchedule {
        let beta = (0..<steps).map { t in
            betaStart + (betaEnd - betaStart) * Float(t) / Float(Swift.max(steps - 1, 1))
        }
        return NoiseSchedule(kind: .linear, beta: beta)
    }

    /// The cosine schedule of Nichol & Dhariwal 2021, eq. (17), with offset s = 0.008:
    /// ```
    /// ᾱ(τ) = f(τ)/f(0),   f(τ) = cos²( (τ/T + s)/(1 + s) · π/2 ),   β_τ = 1 − ᾱ(τ)/ᾱ(τ−1), clipped at 0.999
    /// ```
    /// with the paper's τ = t + 1. Noise is added more slowly at the start than with the linear
    /// schedule, so fewer steps are wasted on nearly pure noise at the end.
    public static func cosine(steps: Int = 1000, offset s: Double = 0.008, maxBeta: Double = 0.999) -> NoiseSchedule {
        func f(_ tau: Int) -> Double {
            let c = Foundation.cos((Double(tau) / Double(steps) + s) / (1 + s) * Double.pi / 2)
            return c * c
        }
        let beta = (0..<steps).map { t in
            Float(Swift.min(1 - f(t + 1) / f(t), maxBeta))  // ᾱ(τ)/ᾱ(τ−1) = f(τ)/f(τ−1), τ = t + 1
        }
        return NoiseSchedule(kind: .cosine, beta: beta)
    }

    public static func named(_ kind: Kind, steps: Int = 1000) -> NoiseSchedule {
        kind == .linear ? linear(steps: steps) : cosine(steps: steps)
    }

    /// ᾱ of the step before t: 1 for t = 0 (clean data), else alphaBar[t − 1].
    public func alphaBar(before t: Int) -> Float { t == 0 ? 1 : alphaBar[t - 1] }

    /// log SNR(t) = log(ᾱ_t / (1 − ᾱ_t)), in nats.
    public func logSNR(_ t: Int) -> Float { Foundation.log(alphaBar[t] / (1 - alphaBar[t])) }

    /// One forward step, DDPM eq. (2): x_t = √(1 − β_t)·x_{t−1} + √β_t·ε.
    public func step(_ xPrevious: Tensor, t: Int, noise: Tensor) -> Tensor {
        xPrevious * alpha[t].squareRoot() + noise * beta[t].squareRoot()
    }

    /// √ᾱ_t and √(1 − ᾱ_t) for each example's t, shaped `[B, 1, 1, …]` to broadcast against a batch
    /// `x` `[B, ...]`: the two coefficients of eq. (4), which every formula relating x₀, ε, x_t and
    /// v uses (`addNoise`, `DDPM.predictedX0`, `DDPM.velocity`, `DDPM.epsilon(fromVelocity:)`).
    public func signalAndNoiseScales(t: [Int], like x: Tensor) -> (signal: Tensor, noise: Tensor) {
        (perExample(t.map { alphaBar[$0].squareRoot() }, like: x), perExample(t.map { (1 - alphaBar[$0]).squareRoot() }, like: x))
    }

    /// Closed form, DDPM eq. (4): x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, one t per example.
    /// x0 and noise `[B, ...]`; `t` has B entries.
    public func addNoise(_ x0: Tensor, t: [Int], noise: Tensor) -> Tensor {
        guard x0.shape == noise.shape, x0.shape.first == t.count else {
            fatalError("addNoise: x0 \(x0.shape), noise \(noise.shape) and \(t.count) timesteps do not match")
        }
        let (signal, noiseScale) = signalAndNoiseScales(t: t, like: x0)  // [B, 1, 1, 1] each
        return x0 * signal + noise * noiseScale
    }
}

/// A time index as one plain number for a network: t/T, in [0, 1). `[B] -> [B, 1]`. (The course's
/// convention for a scalar t, used by chapter 2's MLP and by `TimeEmbedding(.scalar)`.)
public func scaledTime(_ t: [Int], steps T: Int) -> Tensor {
    Tensor(t.map { Float($0) / Float(T) }, shape: [t.count, 1])
}

/// One value per example, reshaped to `[B, 1, 1, …]` so it broadcasts against `like` `[B, ...]`.
func perExample(_ values: [Float], like x: Tensor) -> Tensor {
    guard x.shape.first == values.count else {
        fatalError("\(values.count) per-example values (one per t) for a batch of shape \(x.shape)")
    }
    return Tensor(values, shape: [values.count] + [Int](repeating: 1, count: x.rank - 1))
}

import Foundation
