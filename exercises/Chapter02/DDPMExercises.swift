// Chapter 2 exercises: DDPM's training loss, its reverse step, and a DDIM step (warm-ups 2.1–2.3
// and 2.7); the training step, the sampling loop and DDIM's timesteps (build exercises 2.4–2.6,
// which `swift run -c release 02-mlp --mine` trains and samples with, in place of the library's).
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter02
// The library's versions are in Sources/Diffusion/DDPM.swift and DDIM.swift — try before you look.

import ExerciseSupport
import NN
import Tensor

/// Exercise 2.1 — the training loss of DDPM's Algorithm 1 (warm-up; your 2.4 can use it).
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

/// Exercise 2.2 — the mean of one reverse step, DDPM eq. (11) (warm-up; your 2.5 can use it).
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

/// Exercise 2.3 — one deterministic DDIM step, DDIM eq. (12) with η = 0 (build: `02-mlp --mine` runs DDIM with it).
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

/// Exercise 2.4 — one training step: Algorithm 1 with its update (build: `02-mlp --mine` trains with yours).
///
/// `predict(x_t, t)` is the network ε_θ, computed with `parameters`. On the clean batch x0 `[B, …]`:
/// ```
/// t_b ~ Uniform{0 … T−1} for each example b    (rng.int(in: 0..<T), one per example, in order)
/// ε ~ N(0, I), the shape of x0                   (Tensor.randn(x0.shape, using: &rng), after the t's)
/// L = mean((ε − predict(√ᾱ_t·x0 + √(1 − ᾱ_t)·ε, t))²)        DDPM eq. (14) — your 2.1
/// ```
/// then the update: zero every parameter's gradient (`p.zeroGrad()`; backward *adds* to `grad`),
/// `L.backward()`, clip the gradients to global norm `clipNorm` (`clipGradientNorm`), one
/// `optimizer.step()`, then `ema?.update()`. Return L's value (`L.item`).
/// Hint: draw in exactly the order above, so the check can replay your step with the same numbers.
public func trainingStep(predict: (Tensor, [Int]) -> Tensor, x0: Tensor, parameters: [Tensor], optimizer: Adam, ema: EMA?,
                         alphaBar: [Float], clipNorm: Float, using rng: inout RandomGenerator) throws -> Float {
    throw NotAttempted()
}

/// Exercise 2.5 — sampling, DDPM's Algorithm 2 (build: `02-mlp --mine` samples with yours).
///
/// Start from the given x_T and walk t = T−1 down to 0 (code steps; T = `beta.count`):
/// ```
/// ε̂ = predict(x, [t, t, …])                               one t per example
/// μ = 1/√α_t · (x − β_t/√(1 − ᾱ_t) · ε̂)                     DDPM eq. (11) — your 2.2, α_t = 1 − β_t
/// x ← μ + √β_t · z,  z ~ N(0, I)  (Tensor.randn(x.shape, using: &rng), drawn after ε̂)   for t > 0
/// x ← μ                                                      at t = 0: the last step adds no noise
/// ```
/// Call `observe(t, x)` with each new x (after the step from t), and `observe(T, x_T)` first, so the
/// chapter can show the chain. Return the final x.
/// Hint: no noise on the last step — otherwise every sample keeps a speck of noise of size √β_0.
public func sampleDDPM(predict: (Tensor, [Int]) -> Tensor, xT: Tensor, beta: [Float], alphaBar: [Float],
                       observe: (Int, Tensor) -> Void, using rng: inout RandomGenerator) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 2.6 — DDIM's timesteps (build: `02-mlp --mine` runs DDIM with yours and your 2.3).
///
/// `count` steps out of T, evenly spaced and "trailing" (starting at the last step, T − 1):
/// ```
/// t_i = round(T − i·T/count) − 1,   i = 0 … count − 1
/// ```
/// For T = 1000 and count = 50: 999, 979, …, 19. (After the last one, sampling lands on x₀.)
/// Hint: compute in Double; `.rounded()` rounds half away from zero.
public func ddimTimesteps(count: Int, steps T: Int) throws -> [Int] {
    throw NotAttempted()
}

/// Exercise 2.7 — DDIM's σ for a step from ᾱ_t to ᾱ_t′ (warm-up; chapter 3 samples with η = 1).
///
/// DDIM eq. (16), in the course's notation (DDIM's α is our ᾱ):
/// ```
/// σ = η · √((1 − ᾱ_t′)/(1 − ᾱ_t)) · √(1 − ᾱ_t/ᾱ_t′)
/// ```
/// η = 0 is deterministic DDIM; η = 1 with t′ = t − 1 is DDPM's posterior variance β̃_t.
/// Hint: compute in Double: 1 − ᾱ_t/ᾱ_t′ is tiny near t = 0.
public func ddimSigma(eta: Float, alphaBar: Float, alphaBarPrevious: Float) throws -> Float {
    throw NotAttempted()
}
