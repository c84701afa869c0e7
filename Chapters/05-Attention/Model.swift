// Chapter 5's command line and recipe: what the run asks for, and everything that decides the
// trained UNet's weights — with self-attention or one of its controls, on the paired Shapes
// (ChapterKit caches them under the recipe's key).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Tensor

/// This chapter's numbers for the flags the image chapters share.
enum Defaults: ImageModelDefaults {
    static let trainSteps = 1200
    static let samplingSteps = 50
    static let samples = (full: 256, quick: 16)
    static let samplesHelp = "Images sampled for validity and coverage"
}

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "05-attention",
        abstract: "Chapter 5: self-attention at the UNet's 8×8 and 4×4 feature maps, trained on pairs of shapes that "
            + "must share a colour; compared (--ablate) with blocks of the same size that do not mix positions.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @OptionGroup var model: ImageModelOptions<Defaults>
    @Flag(help: "Train and sample with your self-attention block (exercises/Chapter05) and grade what it draws.") var mine = false
    @Option(parsing: .unconditional, help: "After the 8×8 and 4×4 blocks: attention, positionwise (the control), pointwise or none.")
    var mixing: PositionMixing = .attention
    @Option(parsing: .unconditional, help: "Attention heads (must divide 2c).") var heads: Int = 4

    func validate() throws {
        if mine && run.ablate { throw ValidationError("--mine and --ablate do not go together: --ablate trains the library's comparisons") }
        if mine && mixing != .attention { throw ValidationError("--mine runs your attention block: it needs --mixing attention") }
        try Bounds.check(heads, "--heads", in: Bounds.heads)
        let width = 2 * model.channels(quick: common.quick)
        if width % heads != 0 { throw ValidationError("--heads \(heads) must divide the attention width 2c = \(width)") }
    }

    var recipe: AttentionRecipe {
        let quick = common.quick
        return AttentionRecipe(mixing: mixing, channels: model.channels(quick: quick), heads: heads, batch: model.batch(quick: quick),
                               training: model.training(quick: quick), seed: common.seed)
    }
    var sampleCount: Int { model.sampleCount(quick: common.quick) }
    var sampler: Sampler { model.sampler(quick: common.quick) }
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
