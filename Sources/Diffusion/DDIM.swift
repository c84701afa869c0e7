// Chapter 2 — DDIM: sampling a DDPM-trained model deterministically, in far fewer steps.
//
// Original paper:
//   Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models" (DDIM): eq. (12), the
//   generalised reverse step, with η = 0 (σ_t = 0, eq. 16), on a subsequence τ of the timesteps (§4.2).
//   Note: DDIM writes α_t for what DDPM (and this course) call ᾱ_t.
// Deviation: the subsequence is "trailing" (Lin et al. 2024, "Common Diffusion Noise Schedules and
// Sample Steps Are Flawed", Table 2): it starts at the last step T−1, where the model was trained on
// what is nearly pure noise, and ends by jumping to x₀ (ᾱ = 1), rather than DDIM's τ_i = (i−1)·T/S + 1.

import Tensor

/// DDIM sampling with η = 0: a deterministic map from the starting noise x_T to a sample.
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
public enum DDIM {
    /// `count` timesteps from T−1 down, evenly spaced ("trailing"): t_i = round(T − i·T/count) − 1
    /// for i = 0…count−1. For T = 1000 and count = 50: 999, 979, …, 19.
    public static func timesteps(count: Int, steps T: Int) -> [Int] {
        guard count >= 1, count <= T else { fatalError("DDIM.timesteps: count \(count) must be in 1…\(T)") }
        return (0..<count).map { i in Int((Double(T) - Double(i) * Double(T) / Double(count)).rounded()) - 1 }
    }

    /// One DDIM step with η = 0, DDIM eq. (12), for scalars ᾱ_t (`alphaBar`) and ᾱ_t′ (`alphaBarPrevious`,
    /// 1 to land on x₀): x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′)·ε with x̂₀ = (x_t − √(1 − ᾱ_t)·ε)/√ᾱ_t.
    public static func step(_ xt: Tensor, epsilon: Tensor, alphaBar: Float, alphaBarPrevious: Float) -> Tensor {
        let x0 = (xt - epsilon * (1 - alphaBar).squareRoot()) / alphaBar.squareRoot()
        return x0 * alphaBarPrevious.squareRoot() + epsilon * (1 - alphaBarPrevious).squareRoot()
    }

    /// Samples with `count` DDIM steps (η = 0), from x_T ~ N(0, I) drawn from `rng` (the only random
    /// draw). Runs without gradients. `observe(t, x)` sees x_T first (t = T) and then x after each
    /// step, labelled with the step it landed on (−1 for x₀).
    public static func sample(_ model: NoisePredictor, shape: [Int], schedule: NoiseSchedule, count: Int,
                              using rng: inout RandomGenerator, observe: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        let x = Tensor.randn(shape, using: &rng)
        return sample(model, from: x, schedule: schedule, count: count, observe: observe)
    }

    /// DDIM sampling from a given x_T: deterministic.
    public static func sample(_ model: NoisePredictor, from xT: Tensor, schedule: NoiseSchedule, count: Int,
                              observe: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        withoutGradients {
            let taus = timesteps(count: count, steps: schedule.steps)
            var x = xT
            observe?(schedule.steps, x)
            for (i, t) in taus.enumerated() {
                let previous = i + 1 < taus.count ? taus[i + 1] : -1  // −1: the clean data, ᾱ = 1
                let epsilon = model(x, [Int](repeating: t, count: x.shape[0]))
                x = step(x, epsilon: epsilon, alphaBar: schedule.alphaBar[t],
                         alphaBarPrevious: previous >= 0 ? schedule.alphaBar[previous] : 1)
                observe?(previous, x)
            }
            return x
        }
    }
}
