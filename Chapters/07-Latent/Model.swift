// Chapter 7's command line, and the recipe of `--ablate`'s pixel-space model. The recipes of the
// autoencoder (Sources/Diffusion/Autoencoder.swift) and of the latent text-to-image model (chapter 6's
// network on 8×8×4 latents, Sources/Diffusion/LatentDiffusion.swift) are in Sources/ChapterKit/
// LatentRecipes.swift, shared with chapter 8; each is cached under a key that covers all of its settings,
// and the latent model's recipe holds the autoencoder's, so a changed autoencoder retrains it.

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

    /// The autoencoder's recipe: chapter 7's defaults (`AutoencoderRecipe.chapter7`), then the flags.
    var autoencoderRecipe: AutoencoderRecipe {
        var recipe = AutoencoderRecipe.chapter7(quick: common.quick, seed: common.seed)
        if let autoencoderSteps { recipe.training.steps = autoencoderSteps }
        recipe.beta = beta
        return recipe
    }

    /// The latent model's recipe: chapter 7's defaults (`LatentRecipe.chapter7`), then the flags.
    var latentRecipe: LatentRecipe {
        let quick = common.quick
        var recipe = LatentRecipe.chapter7(quick: quick, seed: common.seed)
        recipe.autoencoder = autoencoderRecipe
        recipe.channels = model.channels(quick: quick)
        recipe.batch = model.batch(quick: quick)
        recipe.training = model.training(quick: quick, target: predict)
        return recipe
    }
    var perScale: Int { model.sampleCount(quick: common.quick) }
    var sampler: Sampler { model.sampler(quick: common.quick) }
}

/// The data of this chapter: chapter 6's Shapes, drawn at 64×64 (`Shapes64`, Sources/ChapterKit/LatentRecipes.swift).
let imageSide = Shapes64.side
func shapesData(seed: UInt64 = 0) -> ShapesDataset { Shapes64.data(seed: seed) }

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
