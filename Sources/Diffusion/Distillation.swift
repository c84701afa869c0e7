// Chapter 8 — progressive distillation: a student that takes one step where its teacher took two.
//
// Original paper:
//   Salimans & Ho 2022, "Progressive Distillation for Fast Sampling of Diffusion Models", Algorithm 2:
//   the student starts as a copy of the teacher and learns, at each of its N steps, the single DDIM step
//   that lands where two DDIM steps of the teacher land; then it becomes the teacher of the next round,
//   with N/2 steps. The student is trained on v (their §4): a network that predicts ε cannot make a
//   first step from nearly pure noise, since x̂₀ = (z_t − σ_t·ε̂)/α_t multiplies the error of ε̂ by
//   σ_t/α_t (≈ 156 at the last step of the course's linear schedule). The loss is their "truncated SNR"
//   weighting, max(SNR_t, 1)·‖x̃ − x̂₀‖² (§4).
// Deviation: time is the course's 1,000 discrete steps, and the student's N steps are the trailing grid
// (`DDIM.timesteps(count: N)`), whose even points are the N/2 grid of the next round; the paper works in
// continuous time, t = i/N.

import Foundation
import NN
import Tensor

/// A network's estimate of the clean data, x̂₀(z_t, t), for a batch at steps t (one per example).
public typealias DataPredictor = (Tensor, [Int]) -> Tensor

public enum ProgressiveDistillation {
    /// x̂₀ from a network `v` trained on the velocity: x̂₀ = α_t·z_t − σ_t·v̂ (Salimans & Ho, §4).
    public static func dataPrediction(velocity v: @escaping NoisePredictor, schedule: NoiseSchedule) -> DataPredictor {
        { z, t in
            let (alpha, sigma) = schedule.signalAndNoiseScales(t: t, like: z)
            return alpha * z - sigma * v(z, t)
        }
    }

    /// The ε̂ the same network implies (ε̂ = σ_t·z_t + α_t·v̂), so the course's samplers can draw from it.
    public static func noisePrediction(velocity v: @escaping NoisePredictor, schedule: NoiseSchedule) -> NoisePredictor {
        { z, t in DDPM.epsilon(fromVelocity: v(z, t), xt: z, t: t, schedule: schedule) }
    }

    /// One deterministic DDIM step (η = 0) written with x̂₀, from the levels `from` to `to` (one per example):
    /// ```
    /// z_next = α_next·x̂₀ + (σ_next/σ)·(z − α·x̂₀)          DDIM eq. (12): the same noise, put back at σ_next
    /// ```
    public static func ddimStep(_ z: Tensor, x0: Tensor, from: [NoiseLevel], to: [NoiseLevel]) -> Tensor {
        let alpha = perExample(from.map { Float($0.alpha) }, like: z)
        let alphaNext = perExample(to.map { Float($0.alpha) }, like: z)
        let ratio = perExample(zip(from, to).map { Float($1.sigma / $0.sigma) }, like: z)
        return alphaNext * x0 + ratio * (z - alpha * x0)
    }

    /// The student's target x̃: the x̂₀ with which *one* DDIM step from z (at `from`) lands exactly on z₂,
    /// where the teacher's two steps landed (at `to`). Solve z₂ = α₂·x̃ + (σ₂/σ)·(z − α·x̃) for x̃:
    /// ```
    /// x̃ = (z₂ − (σ₂/σ)·z) / (α₂ − (σ₂/σ)·α)                Salimans & Ho 2022, Algorithm 2
    /// ```
    /// At the last step (z₂ is x₀: α₂ = 1, σ₂ = 0) the target is z₂ itself.
    public static func target(_ z: Tensor, twoStepsLater z2: Tensor, from: [NoiseLevel], to: [NoiseLevel]) -> Tensor {
        func column(_ values: [Double]) -> Tensor { perExample(values.map { Float($0) }, like: z) }
        return (targetReplacement ?? targetFormula)(z, z2, column(from.map(\.alpha)), column(from.map(\.sigma)),
                                                    column(to.map(\.alpha)), column(to.map(\.sigma)))
    }

    /// The same with the levels as per-example columns `[B, 1, …]`: (z, z₂, α, σ, α₂, σ₂) → x̃.
    public static let targetFormula: (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) -> Tensor = { z, z2, alpha, sigma, alpha2, sigma2 in
        let ratio = sigma2 / sigma
        return (z2 - ratio * z) / (alpha2 - ratio * alpha)
    }

    /// A replacement for `target` taking (z, z₂, α, σ, α₂, σ₂) as tensors `[B, 1, …]`, set once at the start of
    /// a run: chapter 8's `--mine` puts the learner's target here, so the distillation trains on it.
    nonisolated(unsafe) public static var targetReplacement: ((Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) -> Tensor)?

    /// The student's grid for N steps, and the teacher's grid of 2N steps that refines it: the trailing
    /// grid of 2N steps followed by −1 (x₀). Student step i goes from teacher point 2i to 2i + 2 via 2i + 1.
    public static func teacherGrid(studentSteps n: Int, steps T: Int) -> [Int] {
        DDIM.timesteps(count: 2 * n, steps: T) + [-1]
    }

    /// One batch of the distillation loss for a student of `n` steps:
    /// ```
    /// x ~ data,  i ~ Uniform{0…n−1},  t, t′, t″ = grid[2i], grid[2i+1], grid[2i+2],  ε ~ N(0, I)
    /// z = α_t·x + σ_t·ε
    /// z′ = DDIM(z, x̂₀_teacher(z, t)),  z″ = DDIM(z′, x̂₀_teacher(z′, t′))       two teacher steps, no gradients
    /// L = mean over the batch of max(SNR_t, 1)·‖x̃(z, z″) − x̂₀_student(z, t)‖²   (per coordinate)
    /// ```
    /// i, then ε, are drawn from `rng`.
    public static func loss(student: DataPredictor, teacher: DataPredictor, x0: Tensor, studentSteps n: Int,
                            schedule: NoiseSchedule, using rng: inout RandomGenerator) -> Tensor {
        let grid = teacherGrid(studentSteps: n, steps: schedule.steps)
        let i = (0..<x0.shape[0]).map { _ in rng.int(in: 0..<n) }
        let (t, t1, t2) = (i.map { grid[2 * $0] }, i.map { grid[2 * $0 + 1] }, i.map { grid[2 * $0 + 2] })
        let (level, level1, level2) = (t.map { NoiseLevel($0, schedule) }, t1.map { NoiseLevel($0, schedule) },
                                       t2.map { NoiseLevel($0, schedule) })
        let z = schedule.addNoise(x0, t: t, noise: Tensor.randn(x0.shape, using: &rng))
        let target = withoutGradients {
            let z1 = ddimStep(z, x0: teacher(z, t), from: level, to: level1)
            let z2 = ddimStep(z1, x0: teacher(z1, t1), from: level1, to: level2)
            return self.target(z, twoStepsLater: z2, from: level, to: level2)
        }
        let weight = perExample(level.map { Float(Swift.max($0.alpha * $0.alpha / ($0.sigma * $0.sigma), 1)) }, like: z)
        let error = student(z, t) - target
        return (error * error * weight).mean()
    }

    /// One round: trains `student` (already a copy of the teacher) for `options.steps` steps on `loss` with
    /// `n` student steps, by the course's loop (Adam, warm-up, cosine decay, clipping; no EMA unless asked).
    /// `batch` draws the clean data. Returns every step's loss; throws `TrainingDiverged` on a non-finite one.
    public static func round(student: Module, studentPrediction: @escaping DataPredictor, teacher: @escaping DataPredictor,
                             studentSteps n: Int, schedule: NoiseSchedule, options: TrainingOptions, seed: UInt64,
                             batch: (inout RandomGenerator) -> Tensor, progress: ((Int, Float) -> Void)? = nil) throws -> [Float] {
        try round(student: student, studentSteps: n, schedule: schedule, options: options, seed: seed,
                  batch: { rng in (batch(&rng), studentPrediction, teacher) }, progress: progress)
    }

    /// The same for a conditional model, whose predictions depend on each example's prompt: `batch` draws
    /// the clean data with the student's and the teacher's x̂₀ for that batch's prompts (chapter 8 distils
    /// a text-to-image model, its teacher guided, its student not).
    public static func round(student: Module, studentSteps n: Int, schedule: NoiseSchedule, options: TrainingOptions, seed: UInt64,
                             batch: (inout RandomGenerator) -> (x0: Tensor, student: DataPredictor, teacher: DataPredictor),
                             progress: ((Int, Float) -> Void)? = nil) throws -> [Float] {
        try DDPMTrainer.loop(student, options: options, seed: seed, progress: progress) { parameters, optimizer, ema, rng in
            let (x0, studentPrediction, teacher) = batch(&rng)
            let value = loss(student: studentPrediction, teacher: teacher, x0: x0, studentSteps: n, schedule: schedule, using: &rng)
            return DDPMTrainer.update(value, parameters: parameters, optimizer: optimizer, ema: ema, clipNorm: options.clipNorm)
        }
    }
}

extension Module {
    /// Copies every parameter's values from `other`, a module of the same layout (a student starting as
    /// its teacher). Stops with a message naming the first parameter that differs in name or shape.
    public func copyParameters(from other: Module) {
        let mine = namedParameters, theirs = other.namedParameters
        guard mine.count == theirs.count else {
            fatalError("copyParameters: \(mine.count) parameters here, \(theirs.count) in the source")
        }
        for (a, b) in zip(mine, theirs) {
            guard a.name == b.name, a.tensor.shape == b.tensor.shape else {
                fatalError("copyParameters: \(a.name) \(a.tensor.shape) does not match \(b.name) \(b.tensor.shape)")
            }
            a.tensor.data = b.tensor.data
        }
    }
}
