// Chapter 4's command line and recipe: what the run asks for, and everything that decides the
// trained TimeUNet's weights (ChapterKit caches them under the recipe's key).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Tensor

/// This chapter's numbers for the flags the image chapters share.
enum Defaults: ImageModelDefaults {
    static let trainSteps = 1500
    static let samplingSteps = 50
    static let samples = (full: 256, quick: 16)
    static let samplesHelp = "Images sampled for validity and coverage"
}

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "04-time",
        abstract: "Chapter 4: the UNet is told t — a sinusoidal embedding through a small MLP sets a scale and a "
            + "shift in every residual block. Compared (--ablate) with no t and with t as a plain number.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @OptionGroup var model: ImageModelOptions<Defaults>
    @Flag(help: "Train and sample with your sinusoidal embedding and residual block (exercises/Chapter04) and grade what they draw.")
    var mine = false
    @Option(parsing: .unconditional, help: "How the UNet is told t: none, scalar or sinusoidal.") var conditioning: TimeConditioning = .sinusoidal

    func validate() throws {
        if mine && run.ablate { throw ValidationError("--mine and --ablate do not go together: --ablate trains the library's comparisons") }
    }

    var recipe: TimeRecipe {
        let quick = common.quick
        return TimeRecipe(conditioning: conditioning, channels: model.channels(quick: quick), size: 16,
                          batch: model.batch(quick: quick), training: model.training(quick: quick), seed: common.seed)
    }
    var sampleCount: Int { model.sampleCount(quick: common.quick) }
    var sampler: Sampler { model.sampler(quick: common.quick) }
}

/// Everything that decides a trained TimeUNet: how it is told t, its width, the data, the trainer, the seed.
struct TimeRecipe: Recipe {
    var conditioning: TimeConditioning
    var channels: Int
    var size: Int
    var batch: Int
    var training: TrainingOptions
    var schedule = NoiseSchedule.Kind.linear
    var data = "ShapesDataset v\(DataVersion.shapes)"
    var seed: UInt64

    var name: String { "time-\(conditioning.rawValue)" }
    var trainingSteps: Int { training.steps }
    static let flags = ["conditioning": "--conditioning", "channels": "--channels", "batch": "--batch",
                        "training.steps": "--train-steps", "training.learningRate": "--lr", "seed": "--seed"]

    func makeModel() -> TimeUNet {
        var rng = RandomGenerator(seed: seed)
        return TimeUNet(channels: channels, conditioning: conditioning, using: &rng)
    }

    func train(_ model: TimeUNet, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .named(schedule), options: training, seed: seed &+ 1,
                              batch: shapesBatches(size: size, count: batch), progress: progress)
    }
}
