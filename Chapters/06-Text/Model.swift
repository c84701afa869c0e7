// Chapter 6's command line and recipe: what the run asks for, and everything that decides the
// trained `TextToImage` (Sources/Diffusion/TextConditioning.swift), with the caption dropout it is
// trained with (ChapterKit caches the weights under the recipe's key).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

/// This chapter's numbers for the flags the image chapters share.
enum Defaults: ImageModelDefaults {
    static let trainSteps = 2000
    static let samplingSteps = 25
    static let samples = (full: 100, quick: 8)
    static let samplesHelp = "Samples per guidance scale for the adherence table"
}

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "06-text",
        abstract: "Chapter 6: a text-to-image model from scratch — a tokenizer over the Shapes words, a small Transformer "
            + "text encoder, cross-attention in the UNet, and classifier-free guidance.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @OptionGroup var model: ImageModelOptions<Defaults>
    @Flag(help: "Train and sample with your caption dropout, v target and guided prediction (exercises/Chapter06) and grade what they draw.")
    var mine = false
    @Option(help: ArgumentHelp("Also draw this prompt (repeatable), e.g. \"red circle top left\".", valueName: "text"))
    var prompt: [String] = []
    @Option(parsing: .unconditional, help: "Guidance scale w for --prompt and --interactive (0: ignore the prompt, 1: plain conditional).")
    var guidance: Float = 3
    @Option(parsing: .unconditional, help: ArgumentHelp("Sample from these weights (a .safetensors this chapter saved) instead of training.", valueName: "file"))
    var load: String?
    @Option(parsing: .unconditional, help: "What the UNet is trained to predict: velocity (v) or epsilon (the noise).") var predict: PredictionTarget = .velocity
    @Flag(help: "Train without the x, y input channels (to see what they buy).") var noCoordinates = false
    @Flag(help: "Read prompts from standard input and write an image for each.") var interactive = false
    @Flag(help: "Also train without some colour–shape pairs and measure those prompts.") var holdout = false

    func validate() throws {
        if mine, run.ablate || holdout || load != nil {
            throw ValidationError("--mine trains and grades your code alone: it does not go with --ablate, --holdout or --load")
        }
        try Bounds.check(guidance, "--guidance", in: 0...20)
        for text in prompt {
            do { _ = try Tokenizer.shapes.encode(text); _ = try ShapePrompt.parse(text) } catch { throw ValidationError("--prompt: \(error)") }
        }
    }

    var recipe: TextRecipe {
        let quick = common.quick
        return TextRecipe(channels: model.channels(quick: quick), textDim: quick ? 16 : 64, textLayers: 2, coordinates: !noCoordinates,
                          batch: model.batch(quick: quick), training: model.training(quick: quick, target: predict),
                          dropCaption: 0.1, dropAttribute: 0.15, holdout: [], seed: common.seed)
    }
    var perScale: Int { model.sampleCount(quick: common.quick) }
    var sampler: Sampler { model.sampler(quick: common.quick) }
}

/// Everything that decides the trained text-to-image model: the UNet's width and inputs, the text
/// encoder's size, the caption dropout, any colour–shape pairs held out of training, the trainer
/// (whose `target` says what the UNet predicts), the data and the seed.
struct TextRecipe: Recipe {
    var channels: Int
    var textDim: Int
    var textLayers: Int
    /// Whether the UNet gets each pixel's x and y as two extra input channels (`TimeUNet.coordinates`).
    var coordinates: Bool
    var batch: Int
    var training: TrainingOptions
    /// Probability that an example's whole caption is dropped (the empty prompt).
    var dropCaption: Double
    /// Probability that each attribute of a kept caption is dropped on its own.
    var dropAttribute: Double
    /// Colour–shape pairs never shown in training (all nine positions of each), as "red triangle".
    var holdout: [String]
    var schedule = NoiseSchedule.Kind.linear
    var data = "ShapesDataset v\(DataVersion.shapes)"
    var seed: UInt64

    var name: String { "text" }
    var trainingSteps: Int { training.steps }
    /// What the UNet is trained to predict: ε or v.
    var prediction: PredictionTarget { training.target }
    static let flags = ["channels": "--channels", "batch": "--batch", "training.steps": "--train-steps",
                        "training.learningRate": "--lr", "training.target": "--predict", "seed": "--seed",
                        "coordinates": "coordinate channels (--no-coordinates)", "textDim": "text width (16 with --quick)",
                        "holdout": "held-out pairs (--holdout)"]

    /// The held-out colour–shape pairs, at the centre (their position is not held out; see `excluded`).
    var heldOutPairs: [ShapeCombination] {
        holdout.compactMap { words in
            let parts = words.split(separator: " ").map(String.init)
            guard parts.count == 2, let color = ShapeColor(rawValue: parts[0]), let kind = ShapeKind(rawValue: parts[1]) else { return nil }
            return ShapeCombination(color: color, kind: kind, position: .center)
        }
    }

    /// Every combination held out: the nine positions of each held-out colour–shape pair.
    var excluded: Set<ShapeCombination> {
        Set(heldOutPairs.flatMap { ShapeCombination.matching(color: $0.color, kind: $0.kind) })
    }

    func makeModel() -> TextToImage {
        var rng = RandomGenerator(seed: seed)
        return TextToImage(tokenizer: .shapes, channels: channels, textDim: textDim, textLayers: textLayers,
                           coordinates: coordinates, prediction: prediction, using: &rng)
    }

    func train(_ model: TextToImage, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        let data = ShapesDataset(size: 16, seed: 0, excluding: excluded)
        let tokenizer = model.encoder.tokenizer
        return try DDPMTrainer.train(model, predictor: { x, t, tokens in model(x, t, tokens: tokens) }, schedule: .named(schedule),
                                     options: training, seed: seed &+ 1,
                                     batch: { rng in
                                         let (images, specs) = data.batch(batch, using: &rng)
                                         let tokens = specs.map { tokenizer.encode(trainingPrompt($0.combination, self, using: &rng)) }
                                         return (images, tokens)
                                     }, progress: progress)
    }
}

/// The prompt an example is trained with (`ShapePrompt.dropped`: the caption dropped with probability
/// `dropCaption`, each attribute with `dropAttribute`), or with `--mine` the learner's dropout.
func trainingPrompt(_ c: ShapeCombination, _ recipe: TextRecipe, using rng: inout RandomGenerator) -> ShapePrompt {
    if let replacement = dropoutReplacement { return replacement(c, recipe, &rng) }
    return ShapePrompt.dropped(from: c, dropCaption: recipe.dropCaption, dropAttribute: recipe.dropAttribute, using: &rng)
}

/// `--mine` sets this once, before training, to the learner's caption dropout.
nonisolated(unsafe) var dropoutReplacement: ((ShapeCombination, TextRecipe, inout RandomGenerator) -> ShapePrompt)?
