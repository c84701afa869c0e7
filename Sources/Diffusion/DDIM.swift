// Chapter 2 — DDIM: sampling a DDPM-trained model deterministically, in far fewer steps.
//
// Original paper:
//   Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models" (DDIM): eq. (12), the
//   generalised reverse step, with σ_t from eq. (16): η = 0 deterministic, η = 1 ancestral (DDPM with
//   the posterior variance β̃), on a subsequence τ of the timesteps (§4.2).
//   Note: DDIM writes α_t for what DDPM (and this course) call ᾱ_t.
// Deviation: the subsequence is "trailing" (Lin et al. 2024, "Common Diffusion Noise Schedules and
// Sample Steps Are Flawed", Table 2): it starts at the last step T−1, where the model was trained on
// what is nearly pure noise, and ends by jumping to x₀ (ᾱ = 1), rather than DDIM's τ_i = (i−1)·T/S + 1.

import Tensor

/// DDIM sampling: with η = 0 a deterministic map from the starting noise x_T to a sample; with
/// η = 1 an ancestral sampler on any subsequence of steps (fresh noise every step, like DDPM).
///
/// One step goes from t to an earlier t′ (any earlier step, not only t − 1): predict the noise,
/// say which x₀ it implies, and put that x₀ back at noise level t′ *with the same noise*:
/// ```
/// x̂₀ = (x_t − √(1 − ᾱ_t)·ε_θ(x_t, t)) / √ᾱ_t
/// x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′)·ε_θ(x_t, t)                            DDIM eq. (12), σ_t = 0
/// ```
/// No fresh noise is drawn, so the same x_T always gives the same sample, and the model — trained
/// exactly as for DDPM — is used unchanged. Cost: one network evaluation per step of the
/// subsequence, e.g. 50 instead of 1000.
///
/// **η.** In general DDIM re-injects part of the noise fresh:
/// ```
/// σ = η·√((1 − ᾱ_t′)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_t′)                                DDIM eq. (16)
/// x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′ − σ²)·ε_θ(x_t, t) + σ·z,   z ~ N(0, I)          DDIM eq. (12)
/// ```
/// With η = 1 and t′ = t − 1, σ² is DDPM's posterior variance β̃_t and the step is Algorithm 2's
/// with σ_t² = β̃_t. Fresh noise corrects the errors of earlier steps instead of carrying them
/// along, which helps a weak model (chapter 3's, which is not told t) more than extra steps do.
///
/// The loop over the steps is `Sampler` (Sampler.swift), shared with DDPM's Algorithm 2.
public enum DDIM {
    /// `count` timesteps from T−1 down, evenly spaced ("trailing"): t_i = round(T − i·T/count) − 1
    /// for i = 0…count−1. For T = 1000 and count = 50: 999, 979, …, 19.
    public static func timesteps(count: Int, steps T: Int) -> [Int] {
        guard count >= 1, count <= T else { fatalError("DDIM.timesteps: count \(count) must be in 1…\(T)") }
        return (0..<count).map { i in Int((Double(T) - Double(i) * Double(T) / Double(count)).rounded()) - 1 }
    }

    /// σ of a step from ᾱ_t to ᾱ_t′, DDIM eq. (16): η·√((1 − ᾱ_t′)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_t′). 0 when landing on x₀.
    public static func sigma(eta: Float, alphaBar: Float, alphaBarPrevious: Float) -> Float {
        guard eta > 0 else { return 0 }
        let (a, b) = (Double(alphaBar), Double(alphaBarPrevious))  // Double: 1 − ᾱ_t/ᾱ_t′ is tiny at small t
        return Float(Double(eta) * ((1 - b) / (1 - a)).squareRoot() * (1 - a / b).squareRoot())
    }

    /// One DDIM step, eq. (12), for scalars ᾱ_t (`alphaBar`) and ᾱ_t′ (`alphaBarPrevious`, 1 to land on x₀):
    /// ```
    /// x̂₀ = (x_t − √(1 − ᾱ_t)·ε) / √ᾱ_t
    /// x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′ − σ²)·ε + σ·z          σ from `sigma(eta:…)`, eq. (16)
    /// ```
    /// With η = 0 (the default) σ = 0 and `z` is not needed: x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′)·ε.
    public static func step(_ xt: Tensor, epsilon: Tensor, alphaBar: Float, alphaBarPrevious: Float, eta: Float = 0,
                            z: Tensor? = nil) -> Tensor {
        let s = sigma(eta: eta, alphaBar: alphaBar, alphaBarPrevious: alphaBarPrevious)
        let x0 = (xt - epsilon * (1 - alphaBar).squareRoot()) / alphaBar.squareRoot()
        let direction = epsilon * Swift.max(0, 1 - alphaBarPrevious - s * s).squareRoot()
        guard s > 0 else { return x0 * alphaBarPrevious.squareRoot() + direction }
        guard let z else { fatalError("DDIM.step: η = \(eta) adds noise σ = \(s); pass its z ~ N(0, I)") }
        return x0 * alphaBarPrevious.squareRoot() + direction + z * s
    }
}
