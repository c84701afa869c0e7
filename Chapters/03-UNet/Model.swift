// Chapter 3's command line and recipe: what the run asks for, and everything that decides the
// trained UNet's weights (ChapterKit caches them under the recipe's key).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Tensor

/// This chapter's numbers for the flags the image chapters share.
enum Defaults: ImageModelDefaults {
    static let trainSteps = 1500
    static let samplingSteps = 100
    static let samples = (full: 256, quick: 16)
    static let samplesHelp = "Images sampled for validity and coverage"
}

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "03-unet",
        abstract: "Chapter 3: a minimal UNet with skip connections predicts the noise in 16×16 Shapes images; "
            + "trained by DDPM's Algorithm 1, sampled by ancestral DDIM, judged by the Shapes checker.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @OptionGroup var model: ImageModelOptions<Defaults>
    @Flag(help: "Train and sample the UNet wired by your hourglass (exercises/Chapter03) and grade what it draws.") var mine = false

    /// The recipe of this run's UNet.
    var recipe: UNetRecipe {
        let quick = common.quick
        return UNetRecipe(channels: model.channels(quick: quick), useSkips: true, size: 16, batch: model.batch(quick: quick),
                          training: model.training(quick: quick), seed: common.seed)
    }
    var sampleCount: Int { model.sampleCount(quick: common.quick) }
    var sampler: Sampler { model.sampler(quick: common.quick) }
}

/// Everything that decides the trained UNet: its architecture, the data, the trainer's options, the seed.
struct UNetRecipe: Recipe {
    var channels: Int
    var useSkips: Bool
    var size: Int
    var batch: Int
    var training: TrainingOptions
    var schedule = NoiseSchedule.Kind.linear
    var data = "ShapesDataset v\(DataVersion.shapes)"
    var seed: UInt64

    var name: String { "unet" }
    var trainingSteps: Int { training.steps }
    static let flags = ["channels": "--channels", "batch": "--batch", "training.steps": "--train-steps",
                        "training.learningRate": "--lr", "seed": "--seed"]

    func makeModel() -> UNet {
        var rng = RandomGenerator(seed: seed)
        return UNet(channels: channels, useSkips: useSkips, using: &rng)
    }

    func train(_ model: UNet, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .named(schedule), options: training, seed: seed &+ 1,
                              batch: shapesBatches(size: size, count: batch), progress: progress)
    }
}
