// Chapter 5's command line and recipe: what the run asks for, and everything that decides the
// trained UNet's weights — with self-attention or one of its controls, on the paired Shapes
// (ChapterKit caches them under the recipe's key).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "05-attention",
        abstract: "Chapter 5: self-attention at the UNet's 8×8 and 4×4 feature maps, trained on pairs of shapes that "
            + "must share a colour; compared (--ablate) with blocks of the same size that do not mix positions.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @Option(help: "After the 8×8 and 4×4 blocks: attention, positionwise (the control), pointwise or none.")
    var mixing: PositionMixing = .attention
    @Option(help: "Training steps (default 1200; 40 with --quick).") var trainSteps: Int?
    @Option(help: "Base width c of the UNet, a multiple of 8 (default 32; 8 with --quick).") var channels: Int?
    @Option(help: "Attention heads (must divide 2c).") var heads: Int = 4
    @Option(help: "Training batch size (default 64; 16 with --quick).") var batch: Int?
    @Option(help: "Peak learning rate of Adam.") var lr: Float = 0.002
    @Option(help: "Images sampled for validity and coverage (default 256; 16 with --quick).") var samples: Int?
    @Option(help: "DDIM's η: 1 ancestral (fresh noise each step), 0 deterministic.") var eta: Float = 1
    @Option(help: "Sampler steps (default 50; 10 with --quick).") var samplingSteps: Int?

    func validate() throws {
        try Bounds.check(trainSteps, "--train-steps", in: Bounds.trainSteps)
        try Bounds.checkChannels(channels)
        try Bounds.check(heads, "--heads", in: Bounds.heads)
        let width = 2 * (channels ?? (common.quick ? 8 : 32))
        if width % heads != 0 { throw ValidationError("--heads \(heads) must divide the attention width 2c = \(width)") }
        try Bounds.check(batch, "--batch", in: Bounds.batch)
        try Bounds.checkLearningRate(lr)
        try Bounds.check(samples, "--samples", in: Bounds.samples)
        try Bounds.check(eta, "--eta", in: 0...1)
        try Bounds.check(samplingSteps, "--sampling-steps", in: Bounds.samplingSteps)
    }

    var recipe: AttentionRecipe {
        let quick = common.quick
        return AttentionRecipe(mixing: mixing, channels: channels ?? (quick ? 8 : 32), heads: heads, batch: batch ?? (quick ? 16 : 64),
                               training: TrainingOptions(steps: trainSteps ?? (quick ? 40 : 1200), learningRate: lr, emaDecay: 0.999),
                               seed: common.seed)
    }
    var sampleCount: Int { samples ?? (common.quick ? 16 : 256) }
    var sampler: Sampler { Sampler(eta: eta, steps: samplingSteps ?? (common.quick ? 10 : 50)) }
}

/// Everything that decides a trained paired-Shapes UNet: its mixing block, width and heads, the
/// data, the trainer, the seed.
struct AttentionRecipe: Recipe {
    var mixing: PositionMixing
    var channels: Int
    var heads: Int
    var batch: Int
    var training: TrainingOptions
    var schedule = NoiseSchedule.Kind.linear
    var time = TimeConditioning.sinusoidal
    var data = "PairedShapesDataset v\(DataVersion.pairedShapes)"
    var seed: UInt64

    var name: String { "paired-\(mixing.rawValue)" }
    var trainingSteps: Int { training.steps }
    static let flags = ["mixing": "--mixing", "channels": "--channels", "heads": "--heads", "batch": "--batch",
                        "training.steps": "--train-steps", "training.learningRate": "--lr", "seed": "--seed"]

    func makeModel() -> TimeUNet {
        var rng = RandomGenerator(seed: seed)
        return TimeUNet(channels: channels, conditioning: time, mixing: mixing, heads: heads, using: &rng)
    }

    func train(_ model: TimeUNet, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .named(schedule), options: training, seed: seed &+ 1,
                              batch: pairedShapesBatches(count: batch), progress: progress)
    }
}
