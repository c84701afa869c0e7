// Chapter 2 — DDPM: training a noise predictor and sampling by running the chain backwards.
//
// Original paper:
//   Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (DDPM):
//   Algorithm 1 (training), Algorithm 2 (sampling), eq. (11) (the mean of a reverse step in terms
//   of the predicted noise), eq. (14) (the simplified loss), σ_t² = β_t (§3.2).
//
// Everything here is generic over the model: a `NoisePredictor` closure that maps a batch x_t
// `[B, ...]` and one time index per example to the predicted noise, the same shape as x_t. The
// chapter 2 MLP on 2-D points and the later chapters' UNets on images use the same functions.
//
// Time index: code t runs 0…T−1 and is the paper's t + 1 (see `NoiseSchedule`). So the paper's
// ᾱ_{t−1} is `schedule.alphaBar(before: t)`, which is 1 at t = 0: the step from code t = 0 lands on x₀.

import Tensor

/// A noise-prediction network ε_θ(x_t, t), seen as a function: `(x_t [B, ...], t per example) -> ε̂ [B, ...]`.
/// The closure is responsible for how it shows t to the network (the course scales it to t/T).
public typealias NoisePredictor = (Tensor, [Int]) -> Tensor

/// What a network is trained to output: the noise ε (DDPM) or the velocity v (Salimans & Ho 2022).
public enum PredictionTarget: String, CaseIterable, Codable, Sendable {
    case epsilon
    case velocity
}

/// DDPM training (Algorithm 1) and ancestral sampling (Algorithm 2).
///
/// **Training.** Take clean data x₀, a uniformly random step t and noise ε ~ N(0, I); jump to
/// x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε (eq. 4) and teach the network to say which noise was added:
/// ```
/// L_simple = E_{t, x₀, ε} ‖ ε − ε_θ(√ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, t) ‖²          DDPM eq. (14)
/// ```
/// **Sampling.** Start from x_T ~ N(0, I) and take T reverse steps, each a Gaussian around
/// ```
/// μ_θ(x_t, t) = 1/√α_t · ( x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t) )             DDPM eq. (11)
/// x_{t−1} = μ_θ(x_t, t) + σ_t·z,   z ~ N(0, I),  σ_t² = β_t,  no noise at the last step (Algorithm 2)
/// ```
/// Cost: one network evaluation per step, so T = 1000 evaluations per sample batch — which is why
/// `DDIM` exists. The reverse loop itself is `Sampler` (Sampler.swift): `Sampler.ddpm(steps: T)` runs
/// Algorithm 2 with `reverseStep`, `Sampler(eta:steps:)` runs DDIM with `DDIM.step`.
public enum DDPM {
    /// The training loss of Algorithm 1 for given t and ε: the mean over all elements of
    /// (ε − ε_θ(√ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, t))², DDPM eq. (14). Differentiable in the model's parameters.
    public static func loss(_ model: NoisePredictor, x0: Tensor, t: [Int], noise: Tensor, schedule: NoiseSchedule) -> Tensor {
        let xt = schedule.addNoise(x0, t: t, noise: noise)  // eq. (4)
        return model(xt, t).mse(noise)
    }

    /// One draw of Algorithm 1's loss: t uniform in 0…T−1 and ε ~ N(0, I) per example, from `rng`.
    /// With `target: .velocity` the network's output is compared with v instead of ε (`velocityLoss`).
    public static func trainingLoss(_ model: NoisePredictor, x0: Tensor, schedule: NoiseSchedule, target: PredictionTarget = .epsilon,
                                    using rng: inout RandomGenerator) -> Tensor {
        let t = (0..<x0.shape[0]).map { _ in rng.int(in: 0..<schedule.steps) }
        let noise = Tensor.randn(x0.shape, using: &rng)
        switch target {
        case .epsilon: return loss(model, x0: x0, t: t, noise: noise, schedule: schedule)
        case .velocity: return velocityLoss(model, x0: x0, t: t, noise: noise, schedule: schedule)
        }
    }

    /// The "velocity" v (Salimans & Ho 2022, "Progressive distillation", §4 and Appendix D):
    /// ```
    /// v = √ᾱ_t·ε − √(1 − ᾱ_t)·x₀
    /// ```
    /// A network that predicts v, from x_t, implies both the clean image and the noise:
    /// x̂₀ = √ᾱ_t·x_t − √(1 − ᾱ_t)·v̂ and ε̂ = √(1 − ᾱ_t)·x_t + √ᾱ_t·v̂ (`epsilon(fromVelocity:)`).
    public static func velocity(x0: Tensor, noise: Tensor, t: [Int], schedule: NoiseSchedule) -> Tensor {
        velocityReplacement.map { $0(x0, noise, t, schedule) } ?? velocityFormula(x0: x0, noise: noise, t: t, schedule: schedule)
    }

    /// The library's v, whatever `velocityReplacement` holds.
    public static func velocityFormula(x0: Tensor, noise: Tensor, t: [Int], schedule: NoiseSchedule) -> Tensor {
        let (signal, noiseScale) = schedule.signalAndNoiseScales(t: t, like: x0)  // √ᾱ_t, √(1 − ᾱ_t): [B, 1, …]
        return signal * noise - noiseScale * x0
    }

    /// A replacement for `velocity`, set once at the start of a run: chapter 6's `--mine` puts the
    /// learner's v target here. Nil (the library's) otherwise.
    nonisolated(unsafe) public static var velocityReplacement: ((Tensor, Tensor, [Int], NoiseSchedule) -> Tensor)?

    /// The noise a v-prediction implies: ε̂ = √(1 − ᾱ_t)·x_t + √ᾱ_t·v̂. So a v-network samples with
    /// every sampler here, wrapped as a `NoisePredictor`.
    public static func epsilon(fromVelocity v: Tensor, xt: Tensor, t: [Int], schedule: NoiseSchedule) -> Tensor {
        let (signal, noiseScale) = schedule.signalAndNoiseScales(t: t, like: xt)
        return noiseScale * xt + signal * v
    }

    /// The loss of a network that predicts v: the mean of (v − v_θ(x_t, t))². Written in x₀ errors,
    /// ‖v − v̂‖² = (1 + SNR_t)·‖x₀ − x̂₀‖², while ε's loss is SNR_t·‖x₀ − x̂₀‖² (SNR_t = ᾱ_t/(1 − ᾱ_t)):
    /// where the image is nearly all noise (SNR → 0) the ε-loss barely cares what x̂₀ is, and the
    /// v-loss still asks for the right picture — which is where a prompt's layout is decided.
    public static func velocityLoss(_ model: NoisePredictor, x0: Tensor, t: [Int], noise: Tensor, schedule: NoiseSchedule) -> Tensor {
        let xt = schedule.addNoise(x0, t: t, noise: noise)  // eq. (4)
        return model(xt, t).mse(velocity(x0: x0, noise: noise, t: t, schedule: schedule))
    }

    /// The clean data the predicted noise implies, eq. (4) solved for x₀ (DDPM eq. 15):
    /// ```
    /// x̂₀ = (x_t − √(1 − ᾱ_t)·ε̂) / √ᾱ_t
    /// ```
    public static func predictedX0(_ xt: Tensor, t: [Int], epsilon: Tensor, schedule: NoiseSchedule) -> Tensor {
        let (signal, noiseScale) = schedule.signalAndNoiseScales(t: t, like: xt)
        return (xt - noiseScale * epsilon) / signal
    }

    /// The mean of one reverse step, DDPM eq. (11):
    /// ```
    /// μ_θ(x_t, t) = 1/√α_t · ( x_t − β_t/√(1 − ᾱ_t) · ε )
    /// ```
    /// (the same as the posterior mean of q(x_{t−1} | x_t, x₀), eq. 7, with x₀ = x̂₀).
    public static func posteriorMean(_ xt: Tensor, t: [Int], epsilon: Tensor, schedule: NoiseSchedule) -> Tensor {
        let invSqrtAlpha = perExample(t.map { 1 / schedule.alpha[$0].squareRoot() }, like: xt)
        let epsScale = perExample(t.map { schedule.beta[$0] / (1 - schedule.alphaBar[$0]).squareRoot() }, like: xt)
        return invSqrtAlpha * (xt - epsScale * epsilon)
    }

    /// The variance σ_t² of the noise added in reverse step t. DDPM §3.2 found σ_t² = β_t and the
    /// posterior's β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t to give similar samples; Algorithm 2 uses β_t,
    /// and so do we. The last step (code t = 0) adds no noise: σ = 0.
    public static func sigmaSquared(t: Int, schedule: NoiseSchedule) -> Float {
        t == 0 ? 0 : schedule.beta[t]
    }

    /// One reverse step of Algorithm 2 for a batch all at step t: x_{t−1} = μ_θ(x_t, t) + σ_t·z.
    /// `z` is the fresh N(0, I) noise, ignored at t = 0.
    public static func reverseStep(_ xt: Tensor, t: Int, epsilon: Tensor, z: Tensor, schedule: NoiseSchedule) -> Tensor {
        let mean = posteriorMean(xt, t: [Int](repeating: t, count: xt.shape[0]), epsilon: epsilon, schedule: schedule)
        let sigma = sigmaSquared(t: t, schedule: schedule).squareRoot()
        return t == 0 ? mean : mean + z * sigma
    }
}
