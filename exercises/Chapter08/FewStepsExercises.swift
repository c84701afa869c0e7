// Chapter 8 exercises: the half-log signal-to-noise ratio λ that the fast solvers step in, a time grid
// uniform in λ, one step of DPM-Solver++(2M), and the target of progressive distillation.
// Warm-up: 8.1. Build exercises, which `swift run -c release 08-few-steps --mine` runs in place of the
// library's: 8.2 (the grid), 8.3 (the solver step) and 8.4 (the distillation target).
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter08
// The library's versions are in Sources/Diffusion/Solvers.swift and Sources/Diffusion/Distillation.swift
// — try first.

import ExerciseSupport
import Foundation
import Tensor

/// Exercise 8.1 — the half-log signal-to-noise ratio (warm-up).
///
/// A noisy x_t = α·x₀ + σ·ε with α = √ᾱ and σ = √(1 − ᾱ) holds signal and noise in the ratio α/σ.
/// The fast solvers of this chapter step in its logarithm, where the sampling ODE is simplest:
/// ```
/// λ = log(α/σ) = ½·log(ᾱ/(1 − ᾱ))          Lu et al. 2022, "DPM-Solver", §3.1
/// ```
/// λ = 0 where signal and noise are equal (ᾱ = ½); it grows with ᾱ, towards +∞ at the clean data
/// (ᾱ → 1), and falls towards −∞ at pure noise (ᾱ → 0). On the linear schedule λ runs from about
/// 4.6 at t = 0 down to about −5.1 at t = 999.
/// Hint: the ½ is the square roots: log(√ᾱ/√(1 − ᾱ)) = ½·log ᾱ − ½·log(1 − ᾱ). Check by hand that
/// ᾱ = 0.8 gives ½·log 4 = log 2.
public func halfLogSNR(alphaBar: Double) throws -> Double {
    throw NotAttempted()
}

/// Exercise 8.2 — the uniform-in-λ time grid (build: `08-few-steps --mine` runs DPM-Solver++(2M) on it).
///
/// A sampler with `count` steps visits `count` of the T = `alphaBar.count` steps, from t = T − 1 down,
/// and then lands on x₀. Chapter 2's trailing grid spaces them evenly in t; this one spaces them evenly
/// in λ, the step-size schedule of Lu et al. 2022, "DPM-Solver":
/// ```
/// λ_t  = ½·log(ᾱ_t/(1 − ᾱ_t))                      t = 0…T−1, in Double (λ falls as t grows)
/// λ*_i = λ_{T−1} + i·(λ_0 − λ_{T−1})/count         i = 0…count−1   (λ*_0 = λ_{T−1}: t_0 = T − 1)
/// t_i  = the t whose λ_t is nearest λ*_i            (the smaller t on an exact tie)
/// t_i  = max(t_i, count − 1 − i)                    room for the steps still to come
/// t_i  = min(t_i, t_{i−1} − 1)                      for i ≥ 1: the grid strictly decreases
/// ```
/// Near t = 0 λ changes fast, so several targets can fall nearest the same step; the last rule then
/// moves a later one down a step, and the rule before it keeps that from running below 0 (on the
/// linear schedule from 53 steps on). Return the `count` values t_0 > t_1 > … (1 ≤ count ≤ T).
/// Worked by hand: λ = (2, 1, 0, −1, −2)·log 2 (T = 5) and count = 3 give the targets
/// (−2, −2/3, 2/3)·log 2, nearest t = 4, 3, 1: the grid [4, 3, 1].
/// Hint: compute the T values of λ once, before the loop over i; scan t upward and replace the best
/// only on a strictly smaller distance, which keeps the smaller t of a tie.
public func logSNRTimesteps(count: Int, alphaBar: [Float]) throws -> [Int] {
    throw NotAttempted()
}

/// Exercise 8.3 — one step of DPM-Solver++(2M) (build: `08-few-steps --mine` samples with it).
///
/// The sampler turns the network's ε̂ at x (level `from`: α, σ) into x̂₀ = (x − σ·ε̂)/α and steps to the
/// level `to`. With λ = log(α/σ) at each level and h = λ_to − λ_from > 0, the first-order step is DDIM
/// with η = 0 in disguise; the second-order one extrapolates x̂₀ linearly in λ through the previous
/// step's x̂₀ (one network call a step, as DDIM):
/// ```
/// D = x̂₀                                                   first order (no previous step)
/// r = (λ_from − λ_prev)/h                                   the previous step's length, in units of h
/// D = (1 + 1/(2r))·x̂₀ − 1/(2r)·x̂₀_prev                     second order, when `previous` is given
/// x_to = (σ_to/σ_from)·x − α_to·(e^(−h) − 1)·D              Lu et al. 2022, "DPM-Solver++", Algorithm 2
/// ```
/// The last step goes to x₀ itself (α = 1, σ = 0, λ = +∞): return x̂₀ there, before computing any λ.
/// Worked by hand: from (α, σ) = (0.6, 0.8) to (0.8, 0.6), h = log(16/9), e^(−h) − 1 = −7/16; with
/// x = 1 and x̂₀ = 0.5 the first-order step gives 0.75·1 + 0.8·(7/16)·0.5 = 0.925.
/// Hint: compute the ratios and the λ in `Double`, and scale the tensors by `Float`s: `x * Float(…)`.
public func dpmSolverStep(x: Tensor, x0: Tensor, previous: (x0: Tensor, alpha: Double, sigma: Double)?,
                          from: (alpha: Double, sigma: Double), to: (alpha: Double, sigma: Double)) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 8.4 — the progressive-distillation target (build: `08-few-steps --mine` distils with it).
///
/// The teacher takes two DDIM steps from z (level α, σ) to z₂ (level α₂, σ₂); the student must learn to
/// land on z₂ in *one*. A DDIM step with an x̂₀ keeps the noise z − α·x̂₀ and rescales it:
/// z₂ = α₂·x̂₀ + (σ₂/σ)·(z − α·x̂₀). Solve it for the x̂₀ that lands exactly on z₂:
/// ```
/// x̃ = (z₂ − (σ₂/σ)·z) / (α₂ − (σ₂/σ)·α)                Salimans & Ho 2022, Algorithm 2
/// ```
/// `z` and `z2` are `[B, D]`; α, σ, α₂ and σ₂ are one value per example, columns `[B, 1]` that
/// broadcast against them. At the last step z₂ is x₀ itself (α₂ = 1, σ₂ = 0) and the target is z₂.
/// Hint: Tensor ops only (−, *, /); check by hand that with α₂ = 1, σ₂ = 0 your formula returns z₂.
public func distillationTarget(z: Tensor, twoStepsLater z2: Tensor, alpha: Tensor, sigma: Tensor,
                               alpha2: Tensor, sigma2: Tensor) throws -> Tensor {
    throw NotAttempted()
}
