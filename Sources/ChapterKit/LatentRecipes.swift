// The recipes of chapter 7's models, shared with chapter 8, which samples the same trained weights (the
// cache key does not depend on which chapter asks): the autoencoder's, the latent training set, and the
// latent text-to-image model's, whose recipe holds the autoencoder's.

import ArgumentParser
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

/// Chapter 7's data: chapter 6's Shapes, drawn at 64×64.
public enum Shapes64 {
    public static let side = 64
    public static func data(seed: UInt64 = 0) -> ShapesDataset { ShapesDataset(size: side, seed: seed) }
}

/// Everything that decides the trained autoencoder.
public struct AutoencoderRecipe: Recipe {
    public var widths: [Int]
    /// Weight of the KL term (on the KL summed over a latent's numbers, against the summed squared error).
    public var beta: Float
    public var batch: Int
    public var training: TrainingOptions
    public var data = "ShapesDataset v\(DataVersion.shapes), 64x64"
    public var seed: UInt64

    public init(widths: [Int], beta: Float, batch: Int, training: TrainingOptions, seed: UInt64) {
        self.widths = widths; self.beta = beta; self.batch = batch; self.training = training; self.seed = seed
    }

    /// Chapter 7's autoencoder as its default run trains it (the smaller one with `quick`): chapter 7
    /// starts from this and applies its flags, chapter 8 asks for it as it is, so both find the same cache.
    public static func chapter7(quick: Bool, seed: UInt64) -> AutoencoderRecipe {
        AutoencoderRecipe(widths: quick ? [8, 16] : [32, 64], beta: 0.01, batch: quick ? 8 : 32,
                          training: TrainingOptions(steps: quick ? 30 : 600, learningRate: 0.002, emaDecay: 0), seed: seed)
    }

    public var name: String { "autoencoder" }
    public var trainingSteps: Int { training.steps }
    public static let flags = ["training.steps": "--autoencoder-steps", "beta": "--beta", "seed": "--seed", "widths": "widths (smaller with --quick)"]

    public func makeModel() -> Autoencoder {
        var rng = RandomGenerator(seed: seed &+ 700)
        return Autoencoder(widths: widths, using: &rng)
    }

    public func train(_ model: Autoencoder, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        let data = Shapes64.data()
        return try model.train(options: training, beta: beta, seed: seed &+ 701, batch: { rng in data.batch(batch, using: &rng).images },
                               progress: progress)
    }
}

/// The training set of the latent model: `count` images of the data set (drawn from a fixed seed), their
/// captions, and q(z|x) for each, kept as means and standard deviations; a batch draws z = μ + σ·ε afresh
/// and multiplies it by the latent scale factor.
public struct LatentSet {
    public let means: Tensor, deviations: Tensor     // [N, 4, 8, 8] each
    public let combinations: [ShapeCombination]
    public let scale: Float
    /// The scale factor is measured on one draw of z for each of the first `scaleImages` training images.
    public static let scaleImages = 1024

    /// The latent scale factor of `autoencoder` (`Autoencoder.scaleFactor`): 1/std over one draw
    /// z ~ q(z|x) for each of the first `scaleImages` training images (the same images a `LatentSet` starts with).
    public static func scale(of autoencoder: Autoencoder) -> Float {
        let set = LatentSet(autoencoder: autoencoder, count: scaleImages, scale: 1)
        var rng = RandomGenerator(seed: 7_001)
        let draws = withoutGradients {
            DiagonalGaussian(mean: set.means, logVariance: set.deviations.log() * 2).sample(using: &rng)
        }
        return Autoencoder.scaleFactor(draws)
    }

    public init(autoencoder: Autoencoder, count: Int) {
        self.init(autoencoder: autoencoder, count: count, scale: LatentSet.scale(of: autoencoder))
    }

    /// Encodes `count` images 256 at a time (no gradients).
    private init(autoencoder: Autoencoder, count: Int, scale: Float) {
        var rng = RandomGenerator(seed: 7_000)
        let data = Shapes64.data()
        var means: [Tensor] = [], deviations: [Tensor] = [], combinations: [ShapeCombination] = []
        withoutGradients {
            var done = 0
            while done < count {
                let (images, specs) = data.batch(min(256, count - done), using: &rng)
                let q = autoencoder.encode(images)
                means.append(q.mean.detached()); deviations.append(q.standardDeviation.detached())
                combinations += specs.map(\.combination)
                done += specs.count
            }
        }
        self.means = Tensor.concat(means, axis: 0)
        self.deviations = Tensor.concat(deviations, axis: 0)
        self.combinations = combinations
        self.scale = scale
    }

    public var count: Int { combinations.count }

    /// `size` latents z·s drawn afresh from q(z|x) for random training images, and those images' combinations.
    public func batch(_ size: Int, using rng: inout RandomGenerator) -> (latents: Tensor, combinations: [ShapeCombination]) {
        let per = means.count / count
        var z = [Float](repeating: 0, count: size * per)
        var picked: [ShapeCombination] = []
        for b in 0..<size {
            let i = rng.int(in: 0..<count)
            for j in 0..<per {
                z[b * per + j] = (means.data[i * per + j] + deviations.data[i * per + j] * rng.normal()) * scale
            }
            picked.append(combinations[i])
        }
        return (Tensor(z, shape: [size] + Array(means.shape.dropFirst())), picked)
    }
}

/// Everything that decides the trained latent text-to-image model, the autoencoder's recipe included.
public struct LatentRecipe: Recipe {
    public var autoencoder: AutoencoderRecipe
    public var channels: Int
    public var textDim: Int
    public var textLayers: Int
    public var batch: Int
    public var training: TrainingOptions
    /// Training images encoded once.
    public var latents: Int
    public var dropCaption: Double
    public var dropAttribute: Double
    public var schedule = NoiseSchedule.Kind.linear
    public var seed: UInt64

    public init(autoencoder: AutoencoderRecipe, channels: Int, textDim: Int, textLayers: Int, batch: Int, training: TrainingOptions,
                latents: Int, dropCaption: Double, dropAttribute: Double, seed: UInt64) {
        self.autoencoder = autoencoder; self.channels = channels; self.textDim = textDim; self.textLayers = textLayers
        self.batch = batch; self.training = training; self.latents = latents; self.dropCaption = dropCaption
        self.dropAttribute = dropAttribute; self.seed = seed
    }

    /// Chapter 7's latent model as its default run trains it (the smaller one with `quick`): v-prediction,
    /// width 32, batch 64, 1,000 steps of Adam at 0.002 with EMA 0.999, on 4,096 encoded images.
    public static func chapter7(quick: Bool, seed: UInt64) -> LatentRecipe {
        LatentRecipe(autoencoder: .chapter7(quick: quick, seed: seed), channels: quick ? 8 : 32, textDim: quick ? 16 : 64,
                     textLayers: 2, batch: quick ? 16 : 64,
                     training: TrainingOptions(steps: quick ? 40 : 1000, learningRate: 0.002, emaDecay: 0.999, target: .velocity),
                     latents: quick ? 64 : 4096, dropCaption: 0.1, dropAttribute: 0.15, seed: seed)
    }

    public var name: String { "latent-text" }
    public var trainingSteps: Int { training.steps }
    public static let flags = ["channels": "--channels", "batch": "--batch", "training.steps": "--train-steps",
                        "training.learningRate": "--lr", "training.target": "--predict", "seed": "--seed",
                        "autoencoder.training.steps": "--autoencoder-steps", "autoencoder.beta": "--beta",
                        "textDim": "text width (16 with --quick)"]

    public func makeModel() -> TextToImage {
        var rng = RandomGenerator(seed: seed &+ 710)
        return TextToImage(tokenizer: .shapes, channels: channels, textDim: textDim, textLayers: textLayers, coordinates: true,
                           prediction: training.target, imageChannels: Autoencoder.latentChannels, using: &rng)
    }

    /// The latent model needs its training latents, which only a run that trains should pay for (encoding
    /// thousands of images takes seconds): train it with `train(_:on:progress:)`, through `trainOrLoad(training:)`.
    public func train(_ model: TextToImage, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        throw ValidationError("the latent model trains on a latent set: call train(_:on:progress:)")
    }

    /// Trains `model` on latents drawn from `set` (made with this recipe's autoencoder and `latents` images).
    public func train(_ model: TextToImage, on set: LatentSet, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        try DDPMTrainer.train(model, predictor: { x, t, tokens in model(x, t, tokens: tokens) }, schedule: .named(schedule),
                              options: training, seed: seed &+ 711,
                              batch: { rng in
                                  let (z, combinations) = set.batch(batch, using: &rng)
                                  return (z, trainingTokens(combinations, dropCaption, dropAttribute, using: &rng))
                              }, progress: progress)
    }
}

/// The tokens each training example is trained with: its caption dropped with probability `dropCaption`
/// and each remaining attribute with `dropAttribute` (chapter 6's `ShapePrompt.dropped`), in order from `rng`.
public func trainingTokens(_ combinations: [ShapeCombination], _ dropCaption: Double, _ dropAttribute: Double,
                    using rng: inout RandomGenerator) -> [[Int]] {
    combinations.map {
        Tokenizer.shapes.encode(ShapePrompt.dropped(from: $0, dropCaption: dropCaption, dropAttribute: dropAttribute, using: &rng))
    }
}

