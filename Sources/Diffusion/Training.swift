// Chapter 3 — A reusable DDPM trainer (Algorithm 1 of Ho et al. 2020) for any module, and the
// denoising loss per range of t.
//
// The recipe is chapter 2's (Chapters/02-MLP/Model.swift), lifted into the library so the image
// chapters share it: Adam (Kingma & Ba 2015), a linear warm-up then a cosine decay of the learning
// rate (Loshchilov & Hutter 2017, without restarts), gradients clipped to a global norm, and an
// exponential moving average of the weights with warm-up (`EMA`). Progress is reported through a
// callback so the library does not depend on Imaging's ProgressBar.

import Foundation
import NN
import Tensor

/// The knobs of `DDPMTrainer.train`.
public struct TrainingOptions: CustomStringConvertible, Codable, Equatable, Sendable {
    public var steps: Int
    public var learningRate: Float
    /// Fraction of the steps spent warming the learning rate up linearly from 0.
    public var warmupFraction: Double
    /// Gradients are scaled down together to at most this global L2 norm.
    public var clipNorm: Float
    /// Maximum EMA decay; 0 switches the EMA off.
    public var emaDecay: Float
    /// What the network's output is compared with: ε (DDPM's loss) or v (`DDPM.velocityLoss`).
    public var target: PredictionTarget

    public init(steps: Int, learningRate: Float = 1e-3, warmupFraction: Double = 0.05, clipNorm: Float = 1,
                emaDecay: Float = 0.999, target: PredictionTarget = .epsilon) {
        self.steps = steps; self.learningRate = learningRate; self.warmupFraction = warmupFraction
        self.clipNorm = clipNorm; self.emaDecay = emaDecay; self.target = target
    }

    public var description: String {
        "steps=\(steps) lr=\(learningRate) warmup=\(warmupFraction) clip=\(clipNorm) ema=\(emaDecay)"
            + (target == .epsilon ? "" : " target=\(target.rawValue)")
    }

    /// The learning rate of step n (1-based): n/W·lr during the W warm-up steps, then
    /// ```
    /// lr_n = lr · ½(1 + cos(π·(n − 1)/N))
    /// ```
    public func learningRate(at n: Int) -> Float {
        let warmup = max(1, Int(Double(steps) * warmupFraction))
        if n <= warmup { return learningRate * Float(n) / Float(warmup) }
        return learningRate * Float(0.5 * (1 + cos(Double.pi * Double(n - 1) / Double(steps))))
    }
}

/// Thrown when a loss is NaN or ±∞: training stopped there.
public struct TrainingDiverged: Error, CustomStringConvertible {
    public let step: Int
    public let loss: Float
    public var description: String {
        "training diverged: the loss became \(loss) at step \(step). Try a smaller learning rate (or more warm-up)."
    }
}

/// A replacement for `DDPMTrainer.step` (chapter 2's `--mine` passes the learner's): given the
/// predictor, a clean batch x₀, the parameters, the optimizer and the EMA, do one update of
/// Algorithm 1 drawing t and ε from `rng`, and return the loss.
public typealias TrainingStep = (_ predictor: NoisePredictor, _ x0: Tensor, _ parameters: [Tensor], _ optimizer: Adam, _ ema: EMA?,
                                 _ rng: inout RandomGenerator) throws -> Float

public enum DDPMTrainer {
    /// Trains `model` by DDPM's Algorithm 1:
    /// ```
    /// x₀ ~ batch(),  t ~ Uniform{0…T−1},  ε ~ N(0, I)
    /// L = ‖ε − ε_θ(√ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, t)‖²          DDPM eq. (14)
    /// ```
    /// `predictor` must compute with `model`'s parameters. `batch` draws the clean data of one step.
    /// At the end the EMA weights (if any) are copied into the model: the model is left holding the
    /// weights to sample with. `progress(step, loss)` is called after every step. Returns the loss of
    /// every step; throws `TrainingDiverged` at the first non-finite loss.
    public static func train(_ model: Module, predictor: NoisePredictor, schedule: NoiseSchedule,
                             options: TrainingOptions, seed: UInt64,
                             batch: (inout RandomGenerator) -> Tensor,
                             step update: TrainingStep? = nil,
                             progress: ((Int, Float) -> Void)? = nil) throws -> [Float] {
        try loop(model, options: options, seed: seed, progress: progress) { parameters, optimizer, ema, rng in
            let x0 = batch(&rng)
            if let update { return try update(predictor, x0, parameters, optimizer, ema, &rng) }
            return step(predictor, x0: x0, parameters: parameters, optimizer: optimizer, ema: ema, schedule: schedule,
                        options: options, using: &rng)
        }
    }

    /// The same loop for a conditional model ε_θ(x_t, t, c): `batch` draws the clean data *and* its
    /// condition c (chapter 6: the captions' tokens, some dropped for classifier-free guidance), and
    /// the predictor gets each batch's c along with x_t and t.
    public static func train<Condition>(_ model: Module, predictor: (Tensor, [Int], Condition) -> Tensor,
                                        schedule: NoiseSchedule, options: TrainingOptions, seed: UInt64,
                                        batch: (inout RandomGenerator) -> (Tensor, Condition),
                                        progress: ((Int, Float) -> Void)? = nil) throws -> [Float] {
        try loop(model, options: options, seed: seed, progress: progress) { parameters, optimizer, ema, rng in
            let (x0, condition) = batch(&rng)
            return withoutActuallyEscaping(predictor) { predictor in
                step({ x, t in predictor(x, t, condition) }, x0: x0, parameters: parameters, optimizer: optimizer, ema: ema,
                     schedule: schedule, options: options, using: &rng)
            }
        }
    }

    /// One update of Algorithm 1 — the step `train` repeats, and the one chapter 2's exercise builds:
    /// ```
    /// t ~ Uniform{0…T−1} and ε ~ N(0, I) per example (drawn in that order from rng)
    /// L = ‖ε − ε_θ(√ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, t)‖²      (or the v-loss, by `options.target`)
    /// zero the gradients, backpropagate L, clip them to `options.clipNorm`, one Adam step, update the EMA
    /// ```
    /// Returns L's value (checked for NaN by the loop).
    public static func step(_ predictor: NoisePredictor, x0: Tensor, parameters: [Tensor], optimizer: Adam, ema: EMA?,
                            schedule: NoiseSchedule, options: TrainingOptions, using rng: inout RandomGenerator) -> Float {
        let loss = DDPM.trainingLoss(predictor, x0: x0, schedule: schedule, target: options.target, using: &rng)
        return update(loss, parameters: parameters, optimizer: optimizer, ema: ema, clipNorm: options.clipNorm)
    }

    /// What every training step does once it has its loss: zero the gradients, backpropagate, clip them
    /// to `clipNorm`, one optimizer step, update the EMA. Returns the loss's value. (Chapter 7's
    /// autoencoder trains with it too.)
    static func update(_ loss: Tensor, parameters: [Tensor], optimizer: Adam, ema: EMA?, clipNorm: Float) -> Float {
        for p in parameters { p.zeroGrad() }
        loss.backward()
        clipGradientNorm(parameters, maxNorm: clipNorm)
        optimizer.step()
        ema?.update()
        return loss.item
    }

    /// The loop around the step: Adam and the EMA over `model`'s parameters, the learning rate of
    /// each step (warm-up, cosine decay), `update` once per step, a stop at the first non-finite
    /// loss, and at the end the EMA weights copied into the model.
    static func loop(_ model: Module, options: TrainingOptions, seed: UInt64, progress: ((Int, Float) -> Void)?,
                     update: (_ parameters: [Tensor], _ optimizer: Adam, _ ema: EMA?, _ rng: inout RandomGenerator) throws -> Float)
        throws -> [Float] {
        var rng = RandomGenerator(seed: seed)
        let parameters = model.parameters
        let optimizer = Adam(parameters, learningRate: options.learningRate)
        let ema = options.emaDecay > 0 ? EMA(parameters, maxDecay: options.emaDecay) : nil
        var losses: [Float] = []
        losses.reserveCapacity(options.steps)
        for step in 1...max(1, options.steps) where options.steps > 0 {
            optimizer.learningRate = options.learningRate(at: step)
            let value = try update(parameters, optimizer, ema, &rng)
            guard value.isFinite else { throw TrainingDiverged(step: step, loss: value) }
            losses.append(value)
            progress?(step, value)
        }
        ema?.copyToParameters()
        return losses
    }

    /// The ranges of t the course reports the loss on: from nearly clean to nearly pure noise.
    public static let standardRanges: [Range<Int>] = [0..<100, 100..<300, 300..<600, 600..<1000]

    /// Mean denoising MSE ‖ε − ε_θ(x_t, t)‖² (per element) with t uniform in each range, on
    /// `batches` fresh batches per range, every draw from `seed`: the same data, t and noise for
    /// every model compared. Runs without gradients.
    public static func lossByTimeRange(_ predictor: NoisePredictor, schedule: NoiseSchedule,
                                       ranges: [Range<Int>] = standardRanges, batches: Int = 4, seed: UInt64,
                                       batch: (inout RandomGenerator) -> Tensor) -> [Double] {
        withoutGradients {
            var rng = RandomGenerator(seed: seed)
            return ranges.map { range in
                var total = 0.0
                for _ in 0..<batches {
                    let x0 = batch(&rng)
                    let t = (0..<x0.shape[0]).map { _ in rng.int(in: range) }
                    let noise = Tensor.randn(x0.shape, using: &rng)
                    total += Double(DDPM.loss(predictor, x0: x0, t: t, noise: noise, schedule: schedule).item)
                }
                return total / Double(batches)
            }
        }
    }
}
