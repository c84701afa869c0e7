// Chapter 2's command line and recipe: what the run asks for, and everything that decides the
// trained `NoiseMLP` (Sources/Diffusion/NoiseMLP.swift), trained by `DDPMTrainer`
// (Sources/Diffusion/Training.swift); the recipe itself, `MLPRecipe`, is in Sources/ChapterKit/Points2D.swift
// (chapter 8 uses the same weights), and ChapterKit caches the weights under the recipe's key.

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "02-mlp",
        abstract: "Chapter 2: a noise-prediction MLP on 2-D data, trained by DDPM's Algorithm 1 and sampled by "
            + "Algorithm 2 (1000 ancestral steps) and by DDIM (50 deterministic steps); quality measured by energy distance.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @Option(parsing: .unconditional, help: "The 2-D data: moons, spiral or rings.") var dataset: Toy2D = .moons
    @Option(parsing: .unconditional, help: "Noise schedule: linear or cosine.") var schedule: NoiseSchedule.Kind = .linear
    @Option(parsing: .unconditional, help: "Training steps (default 30000; 400 with --quick).") var trainSteps: Int?
    @Option(parsing: .unconditional, help: "Hidden width of the MLP.") var width: Int = 128
    @Option(parsing: .unconditional, help: "Hidden layers of the MLP.") var depth: Int = 4
    @Option(parsing: .unconditional, help: "Training batch size.") var batch: Int = 256
    @Option(parsing: .unconditional, help: "Peak learning rate of Adam.") var lr: Float = 0.001
    @Option(parsing: .unconditional, help: "EMA decay of the sampled weights, in [0, 1) (0: no EMA).") var ema: Float = 0.999
    @Flag(help: "Train and sample with your build exercises (exercises/Chapter02: trainingStep, sampleDDPM, ddimTimesteps with ddimStep) and grade what they draw.")
    var mine = false

    func validate() throws {
        try Bounds.check(trainSteps, "--train-steps", in: Bounds.trainSteps)
        try Bounds.check(width, "--width", in: Bounds.width)
        try Bounds.check(depth, "--depth", in: Bounds.depth)
        try Bounds.check(batch, "--batch", in: Bounds.batch)
        try Bounds.checkLearningRate(lr)
        try Bounds.check(ema, "--ema", in: Float(0)..<Float(1))
    }

    var recipe: MLPRecipe {
        MLPRecipe(dataset: dataset, schedule: schedule, width: width, depth: depth, batch: batch,
                  training: TrainingOptions(steps: trainSteps ?? (common.quick ? 400 : 30_000), learningRate: lr, emaDecay: ema),
                  seed: common.seed)
    }
}
