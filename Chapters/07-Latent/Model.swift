// Chapter 7's command line and recipes: the autoencoder's (Sources/Diffusion/Autoencoder.swift) and
// the latent text-to-image model's (chapter 6's network on 8×8×4 latents, Sources/Diffusion/
// LatentDiffusion.swift), each cached by ChapterKit under a key that covers all of its settings; the
// latent model's recipe holds the autoencoder's, so a changed autoencoder retrains it.

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

/// This chapter's numbers for the flags the image chapters share.
enum Defaults: ImageModelDefaults {
    static let trainSteps = 1000
    static let samplingSteps = 25
    static let samples = (full: 100, quick: 8)
    static let samplesHelp = "Samples per guidance scale for the adherence table"
}

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "07-latent",
        abstract: "Chapter 7: latent diffusion — an autoencoder squeezes 64×64×3 images into 8×8×4 latents (48× fewer numbers, "
            + "Stable Diffusion's f = 8, c = 4), and chapter 6's text-to-image model is trained there.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @OptionGroup var model: ImageModelOptions<Defaults>
    @Flag(help: "Train and sample with your reparameterisation, KL term and latent scale factor (exercises/Chapter07) and grade the result.")
    var mine = false
    @Option(parsing: .unconditional, help: "Autoencoder training steps (default 600; 30 with --quick).") var autoencoderSteps: Int?
    @Option(parsing: .unconditional, help: "Weight β of the KL term in the autoencoder's loss (on the KL summed over the latent's 256 numbers).")
    var beta: Float = 0.01
    @Option(parsing: .unconditional, help: "What the latent UNet is trained to predict: velocity (v) or epsilon (the noise).")
    var predict: PredictionTarget = .velocity
    @Option(parsing: .unconditional, help: "Guidance scale w for the sections after 7.5 (0: ignore the prompt, 1: plain conditional).")
    var guidance: Float = 3

    func validate() throws {
        if mine, run.ablate { throw ValidationError("--mine trains and grades your code alone: it does not go with --ablate") }
        try Bounds.check(autoencoderSteps, "--autoencoder-steps", in: Bounds.trainSteps)
        try Bounds.check(beta, "--beta", in: 0...10)
        try Bounds.check(guidance, "--guidance", in: 0...20)
    }

    var autoencoderRecipe: AutoencoderRecipe {
        let quick = common.quick
        return AutoencoderRecipe(widths: quick ? [8, 16] : [32, 64], beta: beta, batch: quick ? 8 : 32,
                                 training: TrainingOptions(steps: autoencoderSteps ?? (quick ? 30 : 600), learningRate: 0.002,
                                                           emaDecay: 0),
                                 seed: common.seed)
    }

    var latentRecipe: LatentRecipe {
        let quick = common.quick
        return LatentRecipe(autoencoder: autoencoderRecipe, channels: model.channels(quick: quick), textDim: quick ? 16 : 64,
                            textLayers: 2, batch: model.batch(quick: quick), training: model.training(quick: quick, target: predict),
                            latents: quick ? 64 : 4096, dropCaption: 0.1, dropAttribute: 0.15, seed: common.seed)
    }
    var perScale: Int { model.sampleCount(quick: common.quick) }
    var sampler: Sampler { model.sampler(quick: common.quick) }
}

/// The data of this chapter: chapter 6's Shapes, drawn at 64×64.
let imageSide = 64
func shapesData(seed: UInt64 = 0) -> ShapesDataset { ShapesDataset(size: imageSide, seed: seed) }

/// Everything that decides the trained autoencoder.
struct AutoencoderRecipe: Recipe {
    var widths: [Int]
    /// Weight of the KL term (on the KL summed over a latent's numbers, against the summed squared error).
    var beta: Float
    var batch: Int
    var training: TrainingOptions
    var data = "ShapesDataset v\(DataVersion.shapes), 64x64"
    var seed: UInt64

    var name: String { "autoencoder" }
    var trainingSteps: Int { training.steps }
    static let flags = ["training.steps": "--autoencoder-steps", "beta": "--beta", "seed": "--seed", "widths": "widths (smaller with --quick)"]

    func makeModel() -> Autoencoder {
        var rng = RandomGenerator(seed: seed &+ 700)
        return Autoencoder(widths: widths, using: &rng)
    }

    func train(_ model: Autoencoder, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        let data = shapesData()
        return try model.train(options: training, beta: beta, seed: seed &+ 701, batch: { rng in data.batch(batch, using: &rng).images },
                               progress: progress)
    }
}

/// The training set of the latent model: `count` images of the data set (drawn from a fixed seed), their
/// captions, and q(z|x) for each, kept as means and standard deviations; a batch draws z = μ + σ·ε afresh
/// and multiplies it by the latent scale factor.
struct LatentSet {
    let means: Tensor, deviations: Tensor     // [N, 4, 8, 8] each
    let combinations: [ShapeCombination]
    let scale: Float
    /// The scale factor is measured on one draw of z for each of the first `scaleImages` training images.
    static let scaleImages = 1024

    /// The latent scale factor of `autoencoder` (`Autoencoder.scaleFactor`): 1/std over one draw
    /// z ~ q(z|x) for each of the first `scaleImages` training images (the same images a `LatentSet` starts with).
    static func scale(of autoencoder: Autoencoder) -> Float {
        let set = LatentSet(autoencoder: autoencoder, count: scaleImages, scale: 1)
        var rng = RandomGenerator(seed: 7_001)
        let draws = withoutGradients {
            DiagonalGaussian(mean: set.means, logVariance: set.deviations.log() * 2).sample(using: &rng)
        }
        return Autoencoder.scaleFactor(draws)
    }

    init(autoencoder: Autoencoder, count: Int) {
        self.init(autoencoder: autoencoder, count: count, scale: LatentSet.scale(of: autoencoder))
    }

    /// Encodes `count` images 256 at a time (no gradients).
    private init(autoencoder: Autoencoder, count: Int, scale: Float) {
        var rng = RandomGenerator(seed: 7_000)
        let data = shapesData()
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

    var count: Int { combinations.count }

    /// `size` latents z·s drawn afresh from q(z|x) for random training images, and those images' combinations.
    func batch(_ size: Int, using rng: inout RandomGenerator) -> (latents: Tensor, combinations: [ShapeCombination]) {
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

/// Makes the latent set the latent recipe trains on (encoding thousands of images takes seconds, so
/// only a run that trains pays for it): set by the notebook before training.
nonisolated(unsafe) var makeTrainingLatents: (() -> LatentSet)?

/// Everything that decides the trained latent text-to-image model, the autoencoder's recipe included.
struct LatentRecipe: Recipe {
    var autoencoder: AutoencoderRecipe
    var channels: Int
    var textDim: Int
    var textLayers: Int
    var batch: Int
    var training: TrainingOptions
    /// Training images encoded once.
    var latents: Int
    var dropCaption: Double
    var dropAttribute: Double
    var schedule = NoiseSchedule.Kind.linear
    var seed: UInt64

    var name: String { "latent-text" }
    var trainingSteps: Int { training.steps }
    static let flags = ["channels": "--channels", "batch": "--batch", "training.steps": "--train-steps",
                        "training.learningRate": "--lr", "training.target": "--predict", "seed": "--seed",
                        "autoencoder.training.steps": "--autoencoder-steps", "autoencoder.beta": "--beta",
                        "textDim": "text width (16 with --quick)"]

    func makeModel() -> TextToImage {
        var rng = RandomGenerator(seed: seed &+ 710)
        return TextToImage(tokenizer: .shapes, channels: channels, textDim: textDim, textLayers: textLayers, coordinates: true,
                           prediction: training.target, imageChannels: Autoencoder.latentChannels, using: &rng)
    }

    func train(_ model: TextToImage, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        guard let set = makeTrainingLatents?() else { fatalError("LatentRecipe.train: no latent set to train on") }
        return try DDPMTrainer.train(model, predictor: { x, t, tokens in model(x, t, tokens: tokens) }, schedule: .named(schedule),
                                     options: training, seed: seed &+ 711,
                                     batch: { rng in
                                         let (z, combinations) = set.batch(batch, using: &rng)
                                         return (z, trainingTokens(combinations, dropCaption, dropAttribute, using: &rng))
                                     }, progress: progress)
    }
}

/// The tokens each training example is trained with: its caption dropped with probability `dropCaption`
/// and each remaining attribute with `dropAttribute` (chapter 6's `ShapePrompt.dropped`), in order from `rng`.
func trainingTokens(_ combinations: [ShapeCombination], _ dropCaption: Double, _ dropAttribute: Double,
                    using rng: inout RandomGenerator) -> [[Int]] {
    combinations.map {
        Tokenizer.shapes.encode(ShapePrompt.dropped(from: $0, dropCaption: dropCaption, dropAttribute: dropAttribute, using: &rng))
    }
}

/// `--ablate`: the latent model's network on 64×64×3 pixels, trained on fresh images like chapter 6's.
struct PixelRecipe: Recipe {
    var channels: Int
    var textDim: Int
    var textLayers: Int
    var batch: Int
    var training: TrainingOptions
    var dropCaption = 0.1
    var dropAttribute = 0.15
    var schedule = NoiseSchedule.Kind.linear
    var data = "ShapesDataset v\(DataVersion.shapes), 64x64"
    var seed: UInt64

    var name: String { "pixel-text" }
    var trainingSteps: Int { training.steps }
    static let flags = ["channels": "--channels", "batch": "--batch", "training.steps": "steps (the latent model's wall time)",
                        "training.learningRate": "--lr", "training.target": "--predict", "seed": "--seed"]

    func makeModel() -> TextToImage {
        var rng = RandomGenerator(seed: seed &+ 720)
        return TextToImage(tokenizer: .shapes, channels: channels, textDim: textDim, textLayers: textLayers, coordinates: true,
                           prediction: training.target, using: &rng)
    }

    func train(_ model: TextToImage, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        let data = shapesData()
        return try DDPMTrainer.train(model, predictor: { x, t, tokens in model(x, t, tokens: tokens) }, schedule: .named(schedule),
                                     options: training, seed: seed &+ 721,
                                     batch: { rng in
                                         let (images, specs) = data.batch(batch, using: &rng)
                                         return (images, trainingTokens(specs.map(\.combination), dropCaption, dropAttribute, using: &rng))
                                     }, progress: progress)
    }
}
