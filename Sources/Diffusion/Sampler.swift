// Chapter 2 — The reverse loop: one loop for DDPM's ancestral sampling and for DDIM.
//
// Original papers:
//   Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Algorithm 2 (`DDPM.reverseStep`).
//   Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", eq. (12) and (16) (`DDIM.step`),
//   on a subsequence of the timesteps (§4.2), taken "trailing" (`DDIM.timesteps`).

import Tensor

/// A sampler as a value: a step rule and a number of steps. Every chapter samples through it.
///
/// Sampling starts from x_T ~ N(0, I) and walks down a list of timesteps t₀ = T−1 > t₁ > … > t_{S−1},
/// then lands on x₀. Each step asks the network once for ε̂ = ε_θ(x_t, t) and moves from t to the
/// next timestep t′ (t′ = −1 stands for x₀, where ᾱ = 1) by the rule:
/// ```
/// .ddpm          x_{t−1} = μ_θ(x_t, t) + σ_t·z,  σ_t² = β_t        DDPM Algorithm 2, eq. (11); S = T, t′ = t − 1
/// .ddim(eta: η)  x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′ − σ²)·ε̂ + σ·z        DDIM eq. (12), σ from eq. (16)
/// ```
/// Fresh noise z ~ N(0, I) is drawn for every step that adds any (DDPM's, and DDIM's with η > 0),
/// but never for the step that lands on x₀. So DDIM with η = 0 is a deterministic function of x_T,
/// and DDPM repeats exactly from the same generator state.
///
/// Cost: S network evaluations per batch (T = 1000 for DDPM, e.g. 50 for DDIM); sampling runs
/// without gradients. The chunked entry points bound memory by sampling `chunk` images at a time.
public struct Sampler: CustomStringConvertible, Sendable {
    /// How one step from t to t′ is taken.
    public enum Rule: Equatable, Sendable {
        /// DDPM's Algorithm 2 (σ_t² = β_t, no noise on the last step): every one of the T steps.
        case ddpm
        /// DDIM's eq. (12) with σ from eq. (16): η = 0 deterministic, η = 1 ancestral (DDPM's β̃_t on consecutive steps).
        case ddim(eta: Float)
    }

    public var rule: Rule
    /// Network evaluations per sample: the length of the timestep list. `.ddpm` needs all T.
    public var steps: Int

    public init(rule: Rule, steps: Int) {
        self.rule = rule
        self.steps = steps
    }

    /// DDIM with η (0: deterministic, 1: fresh noise every step) on `steps` trailing timesteps.
    public init(eta: Float, steps: Int) { self.init(rule: .ddim(eta: eta), steps: steps) }

    /// DDPM's ancestral sampling, Algorithm 2, over all `steps` = T steps of the schedule.
    public static func ddpm(steps: Int) -> Sampler { Sampler(rule: .ddpm, steps: steps) }

    /// DDIM's η; DDPM's rule draws fresh noise at every step, as η = 1 does.
    public var eta: Float {
        switch rule {
        case .ddpm: return 1
        case .ddim(let eta): return eta
        }
    }

    public var description: String {
        switch rule {
        case .ddpm: return "DDPM ancestral (Algorithm 2), \(steps) steps"
        case .ddim(let eta): return eta == 0 ? "DDIM (η = 0), \(steps) steps"
            : eta == 1 ? "ancestral DDIM (η = 1), \(steps) steps" : "DDIM (η = \(eta)), \(steps) steps"
        }
    }

    /// The timesteps the loop visits, from T−1 down: all of them for `.ddpm`, `DDIM.timesteps` for `.ddim`.
    public func timesteps(schedule: NoiseSchedule) -> [Int] {
        if rule == .ddpm, steps != schedule.steps {
            fatalError("Sampler: DDPM's Algorithm 2 takes all \(schedule.steps) steps of the schedule, not \(steps); use DDIM for fewer")
        }
        return DDIM.timesteps(count: steps, steps: schedule.steps)
    }

    /// Whether a step that does not land on x₀ draws fresh noise z.
    public var drawsNoise: Bool { rule == .ddpm || eta > 0 }

    /// One step of the rule from x_t to x_t′ (`previous` = t′, −1 for x₀), given ε̂ and, if the rule
    /// adds noise, z ~ N(0, I).
    public func step(_ xt: Tensor, epsilon: Tensor, t: Int, previous: Int, z: Tensor?, schedule: NoiseSchedule) -> Tensor {
        switch rule {
        case .ddpm:
            return DDPM.reverseStep(xt, t: t, epsilon: epsilon, z: z ?? Tensor.zeros(xt.shape), schedule: schedule)
        case .ddim(let eta):
            return DDIM.step(xt, epsilon: epsilon, alphaBar: schedule.alphaBar[t],
                             alphaBarPrevious: previous >= 0 ? schedule.alphaBar[previous] : 1, eta: eta, z: z)
        }
    }

    /// The reverse loop, from a given x_T `[B, ...]`: z is drawn from `rng` (with η = 0 nothing is).
    /// Runs without gradients. `observe(t, x)` (optional) sees x_T first with t = T, then the x each
    /// step produced, labelled with the step t it started from (for `.ddpm` the last call is t = 0
    /// with the samples).
    public func sample(_ model: NoisePredictor, from xT: Tensor, schedule: NoiseSchedule, using rng: inout RandomGenerator,
                       observe: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        let taus = timesteps(schedule: schedule)
        return withoutGradients {
            var x = xT
            observe?(schedule.steps, x)
            for (i, t) in taus.enumerated() {
                let previous = i + 1 < taus.count ? taus[i + 1] : -1                   // t′; −1: x₀, where ᾱ = 1
                let epsilon = model(x, [Int](repeating: t, count: x.shape[0]))        // ε̂ [B, ...]
                let z = drawsNoise && previous >= 0 ? Tensor.randn(x.shape, using: &rng) : nil
                x = step(x, epsilon: epsilon, t: t, previous: previous, z: z, schedule: schedule)
                observe?(t, x)
            }
            return x
        }
    }

    /// `shape[0]` samples of shape `shape[1...]`, drawn `chunk` at a time from `rng` (x_T, then the
    /// chunk's z), concatenated in order.
    public func sample(_ model: NoisePredictor, shape: [Int], schedule: NoiseSchedule, chunk: Int = 64,
                       using rng: inout RandomGenerator) -> Tensor {
        withoutActuallyEscaping(model) { model in
            sample(shape: shape, schedule: schedule, chunk: chunk, using: &rng) { _ in model }
        }
    }

    /// The same for a model that depends on which samples it draws (chapter 6: each sample has its
    /// own prompt): `model(range)` is the predictor for the samples `range` of the whole batch.
    public func sample(shape: [Int], schedule: NoiseSchedule, chunk: Int = 64, using rng: inout RandomGenerator,
                       model: (Range<Int>) -> NoisePredictor) -> Tensor {
        var parts: [Tensor] = []
        var start = 0
        while start < shape[0] {
            let n = Swift.min(chunk, shape[0] - start)
            let xT = Tensor.randn([n] + shape.dropFirst(), using: &rng)
            parts.append(sample(model(start..<(start + n)), from: xT, schedule: schedule, using: &rng))
            start += n
        }
        return Tensor.concat(parts, axis: 0)
    }
}
