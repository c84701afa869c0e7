// Chapter 2 exercises: DDPM's training loss, its reverse step, and a DDIM step.
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter02
// The library's versions are in Sources/Diffusion/DDPM.swift and DDIM.swift — try before you look.

import ExerciseSupport
import Tensor

/// Exercise 2.1 — the training loss of DDPM's Algorithm 1.
///
/// Given clean data x0 `[B, ...]`, one time index per example `t`, the noise ε (same shape as x0)
/// and the schedule's ᾱ (`alphaBar[t]` for t = 0…T−1), make the noisy x_t of each example and
/// return the mean squared error between the true noise and the model's prediction:
/// ```
/// x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε                      DDPM eq. (4)
/// L   = mean over all elements of (ε − model(x_t, t))²      DDPM eq. (14)
/// ```
/// The result is a scalar tensor, and it must stay differentiable (no `.data` shortcuts).
/// Hint: build `[B, 1, …]` tensors of √ᾱ_t and √(1 − ᾱ_t) so they broadcast; `Tensor.mse` exists.
public func trainingLoss(model: (Tensor, [Int]) -> Tensor, x0: Tensor, t: [Int], noise: Tensor,
                         alphaBar: [Float]) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 2.2 — the mean of one reverse step (DDPM eq. 11).
///
/// For a batch all at one step, with β_t, α_t = 1 − β_t and ᾱ_t given as numbers, and the
/// predicted noise ε:
/// ```
/// μ_θ(x_t, t) = 1/√α_t · ( x_t − β_t/√(1 − ᾱ_t) · ε )
/// ```
/// Hint: it is only arithmetic on tensors and two Float coefficients. Check by hand: with
/// β_t = 0.36, ᾱ_t = 0.36, x_t = 2, ε = 0.5 the answer is 1.25·(2 − 0.45·0.5) = 2.21875.
public func posteriorMean(xt: Tensor, epsilon: Tensor, beta: Float, alphaBar: Float) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 2.3 — one deterministic DDIM step (DDIM eq. 12 with η = 0).
///
/// From x_t at noise level ᾱ_t to an earlier level ᾱ_prev (1 means: the clean data), using the
/// predicted noise ε twice — once to estimate x₀, once to re-noise it:
/// ```
/// x̂₀     = (x_t − √(1 − ᾱ_t)·ε) / √ᾱ_t
/// x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev)·ε
/// ```
/// Hint: no random numbers at all. With ᾱ_t = 0.36, ᾱ_prev = 0.64, x_t = 2, ε = 0.5:
/// x̂₀ = 1.6/0.6 = 2.6667 and x_prev = 0.8·2.6667 + 0.6·0.5 = 2.4333.
public func ddimStep(xt: Tensor, epsilon: Tensor, alphaBar: Float, alphaBarPrevious: Float) throws -> Tensor {
    throw NotAttempted()
}
