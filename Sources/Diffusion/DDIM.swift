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

    /// σ of a step from ᾱ_t to ᾱ_t′, DDIM eq. (16): η·√((1 − ᾱ_t′)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_t′). 0 when landing on x₀.
    public static func sigma(eta: Float, alphaBar: Float, alphaBarPrevious: Float) -> Float {
        let (a, b) = (Double(alphaBar), Double(alphaBarPrevious))  // Double: 1 − ᾱ_t/ᾱ_t′ is tiny at small t
        return Float(Double(eta) * ((1 - b) / (1 - a)).squareRoot() * (1 - a / b).squareRoot())
    }

    /// One DDIM step with noise, eq. (12): x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′ − σ²)·ε + σ·z, σ from `sigma(eta:…)`.
    public static func step(_ xt: Tensor, epsilon: Tensor, alphaBar: Float, alphaBarPrevious: Float, eta: Float, z: Tensor) -> Tensor {
        let s = sigma(eta: eta, alphaBar: alphaBar, alphaBarPrevious: alphaBarPrevious)
        let x0 = (xt - epsilon * (1 - alphaBar).squareRoot()) / alphaBar.squareRoot()
        let direction = epsilon * Swift.max(0, 1 - alphaBarPrevious - s * s).squareRoot()
        return s > 0 ? x0 * alphaBarPrevious.squareRoot() + direction + z * s : x0 * alphaBarPrevious.squareRoot() + direction
    }

    /// Samples with `count` DDIM steps from x_T ~ N(0, I) drawn from `rng` (with η = 0 the only random
    /// draw; with η > 0 each step but the last also draws its z). Runs without gradients.
    /// `observe(t, x)` sees x_T first (t = T) and then x after each step, labelled with the step it
    /// landed on (−1 for x₀).
    public static func sample(_ model: NoisePredictor, shape: [Int], schedule: NoiseSchedule, count: Int, eta: Float = 0,
                              using rng: inout RandomGenerator, observe: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        let x = Tensor.randn(shape, using: &rng)
        guard eta > 0 else { return sample(model, from: x, schedule: schedule, count: count, observe: observe) }
        return withoutGradients {
            let taus = timesteps(count: count, steps: schedule.steps)
            var x = x
            observe?(schedule.steps, x)
            for (i, t) in taus.enumerated() {
                let previous = i + 1 < taus.count ? taus[i + 1] : -1
                let epsilon = model(x, [Int](repeating: t, count: x.shape[0]))
                let z = previous >= 0 ? Tensor.randn(shape, using: &rng) : Tensor.zeros(shape)
                x = step(x, epsilon: epsilon, alphaBar: schedule.alphaBar[t],
                         alphaBarPrevious: previous >= 0 ? schedule.alphaBar[previous] : 1, eta: eta, z: z)
                observe?(previous, x)
            }
            return x
        }
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

/// A sampler as a value: DDIM with a given η and number of steps, run in chunks so memory stays
/// bounded however many samples are asked for. The chapters pass these around and print them.
public struct Sampler: CustomStringConvertible, Sendable {
    public var eta: Float
    public var steps: Int

    public init(eta: Float, steps: Int) {
        self.eta = eta
        self.steps = steps
    }

    public var description: String {
        eta == 0 ? "DDIM (η = 0), \(steps) steps"
            : eta == 1 ? "ancestral DDIM (η = 1), \(steps) steps" : "DDIM (η = \(eta)), \(steps) steps"
    }

    /// `shape[0]` samples of shape `shape[1...]`, drawn `chunk` at a time from `rng`, concatenated in order.
    public func sample(_ model: NoisePredictor, shape: [Int], schedule: NoiseSchedule, chunk: Int = 64,
                       using rng: inout RandomGenerator) -> Tensor {
        var parts: [Tensor] = []
        var left = shape[0]
        while left > 0 {
            let n = Swift.min(chunk, left)
            parts.append(DDIM.sample(model, shape: [n] + shape.dropFirst(), schedule: schedule, count: steps, eta: eta, using: &rng))
            left -= n
        }
        return Tensor.concat(parts, axis: 0)
    }

    /// The same for a model that depends on which samples it draws (chapter 6: each sample has its
    /// own prompt): `model(range)` is the predictor for the samples `range` of the whole batch.
    public func sample(shape: [Int], schedule: NoiseSchedule, chunk: Int = 64, using rng: inout RandomGenerator,
                       model: (Range<Int>) -> NoisePredictor) -> Tensor {
        var parts: [Tensor] = []
        var start = 0
        while start < shape[0] {
            let n = Swift.min(chunk, shape[0] - start)
            parts.append(DDIM.sample(model(start..<(start + n)), shape: [n] + shape.dropFirst(), schedule: schedule,
                                     count: steps, eta: eta, using: &rng))
            start += n
        }
        return Tensor.concat(parts, axis: 0)
    }
}
