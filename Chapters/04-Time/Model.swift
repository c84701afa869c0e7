// Chapter 4's command line and recipe: what the run asks for, and everything that decides the
// trained TimeUNet's weights (ChapterKit caches them under the recipe's key).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "04-time",
        abstract: "Chapter 4: the UNet is told t — a sinusoidal embedding through a small MLP sets a scale and a "
            + "shift in every residual block. Compared (--ablate) with no t and with t as a plain number.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @Option(help: "How the UNet is told t: none, scalar or sinusoidal.") var conditioning: TimeConditioning = .sinusoidal
    @Option(help: "Training steps (default 1500; 40 with --quick).") var trainSteps: Int?
    @Option(help: "Base width c of the UNet, a multiple of 8 (default 32; 8 with --quick).") var channels: Int?
    @Option(help: "Training batch size (default 64; 16 with --quick).") var batch: Int?
    @Option(help: "Peak learning rate of Adam.") var lr: Float = 0.002
    @Option(help: "Images sampled for validity and coverage (default 256; 16 with --quick).") var samples: Int?
    @Option(help: "DDIM's η: 1 ancestral (fresh noise each step), 0 deterministic.") var eta: Float = 1
    @Option(help: "Sampler steps (default 50; 10 with --quick).") var samplingSteps: Int?

    func validate() throws {
        try Bounds.check(trainSteps, "--train-steps", in: Bounds.trainSteps)
        try Bounds.checkChannels(channels)
        try Bounds.check(batch, "--batch", in: Bounds.batch)
        try Bounds.checkLearningRate(lr)
        try Bounds.check(samples, "--samples", in: Bounds.samples)
        try Bounds.check(eta, "--eta", in: 0...1)
        try Bounds.check(samplingSteps, "--sampling-steps", in: Bounds.samplingSteps)
    }

    var recipe: TimeRecipe {
        let quick = common.quick
        return TimeRecipe(conditioning: conditioning, channels: channels ?? (quick ? 8 : 32), size: 16,
                          batch: batch ?? (quick ? 16 : 64),
                          training: TrainingOptions(steps: trainSteps ?? (quick ? 40 : 1500), learningRate: lr, emaDecay: 0.999),
                          seed: common.seed)
    }
    var sampleCount: Int { samples ?? (common.quick ? 16 : 256) }
    var sampler: Sampler { Sampler(eta: eta, steps: samplingSteps ?? (common.quick ? 10 : 50)) }
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
