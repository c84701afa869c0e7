// Chapter 3's command line and recipe: what the run asks for, and everything that decides the
// trained UNet's weights (ChapterKit caches them under the recipe's key).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "03-unet",
        abstract: "Chapter 3: a minimal UNet with skip connections predicts the noise in 16×16 Shapes images; "
            + "trained by DDPM's Algorithm 1, sampled by ancestral DDIM, judged by the Shapes checker.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @Option(help: "Training steps (default 1500; 40 with --quick).") var trainSteps: Int?
    @Option(help: "Base width c of the UNet, a multiple of 8 (default 32; 8 with --quick).") var channels: Int?
    @Option(help: "Training batch size (default 64; 16 with --quick).") var batch: Int?
    @Option(help: "Peak learning rate of Adam.") var lr: Float = 0.002
    @Option(help: "Images sampled for validity and coverage (default 256; 16 with --quick).") var samples: Int?
    @Option(help: "DDIM's η: 1 ancestral (fresh noise each step), 0 deterministic.") var eta: Float = 1
    @Option(help: "Sampler steps (default 100; 10 with --quick).") var samplingSteps: Int?

    func validate() throws {
        try Bounds.check(trainSteps, "--train-steps", in: Bounds.trainSteps)
        try Bounds.checkChannels(channels)
        try Bounds.check(batch, "--batch", in: Bounds.batch)
        try Bounds.checkLearningRate(lr)
        try Bounds.check(samples, "--samples", in: Bounds.samples)
        try Bounds.check(eta, "--eta", in: 0...1)
        try Bounds.check(samplingSteps, "--sampling-steps", in: Bounds.samplingSteps)
    }

    /// The recipe of this run's UNet.
    var recipe: UNetRecipe {
        let quick = common.quick
        return UNetRecipe(channels: channels ?? (quick ? 8 : 32), useSkips: true, size: 16, batch: batch ?? (quick ? 16 : 64),
                          training: TrainingOptions(steps: trainSteps ?? (quick ? 40 : 1500), learningRate: lr, emaDecay: 0.999),
                          seed: common.seed)
    }
    var sampleCount: Int { samples ?? (common.quick ? 16 : 256) }
    var sampler: Sampler { Sampler(eta: eta, steps: samplingSteps ?? (common.quick ? 10 : 100)) }
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
