// Chapter 8's command line and recipes: chapter 2's MLP (`MLPRecipe`, Sources/ChapterKit/Recipes2D.swift),
// whose weights this chapter loads from chapter 2's output folder when they are there, a v-trained
// copy of it for distillation, and the distillation rounds (Sources/Diffusion/Distillation.swift).

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "08-few-steps",
        abstract: "Chapter 8: from a thousand steps to a few — DDPM, DDIM and DPM-Solver++(2M) per network call, "
            + "and progressive distillation down to one step, measured on chapter 2's 2-D models.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var run: TrainingFlags
    @Option(parsing: .unconditional, help: "The 2-D data the solvers and the distillation are measured on: moons, spiral or rings.")
    var dataset: Toy2D = .rings
    @Option(parsing: .unconditional, help: "Samples drawn per measurement, each compared with as many fresh data points (default 2000; 400 with --quick).")
    var samples: Int?
    @Option(parsing: .unconditional, help: "Training steps of each distillation round (default 4000; 60 with --quick).")
    var roundSteps: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Where chapter 2 cached its weights, looked in before training them here (default: output/02-mlp).",
                                                        valueName: "dir"))
    var chapter2: String = "output/02-mlp"
    @Option(parsing: .unconditional, help: "Steps of the first teacher, halved by each round down to 1 (a power of 2, default 256; 8 with --quick).")
    var teacherSteps: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Where chapter 7 cached its weights, looked in before training them here (default: output/07-latent).",
                                                        valueName: "dir"))
    var chapter7: String = "output/07-latent"
    @Option(parsing: .unconditional, help: "Prompts drawn per image measurement, one sample each (default 100; 8 with --quick).")
    var imageSamples: Int?
    @Option(parsing: .unconditional, help: "Training steps of each round distilling the image model (default 400; 20 with --quick).")
    var imageRoundSteps: Int?

    @Flag(help: "Sample and distil with your build exercises (exercises/Chapter08: logSNRTimesteps, dpmSolverStep, distillationTarget) and grade the result.")
    var mine = false

    func validate() throws {
        try Bounds.check(samples, "--samples", in: 50...5000)
        try Bounds.check(roundSteps, "--round-steps", in: Bounds.trainSteps)
        try Bounds.check(teacherSteps, "--teacher-steps", in: 2...512)
        try Bounds.check(imageSamples, "--image-samples", in: 4...1000)
        try Bounds.check(imageRoundSteps, "--image-round-steps", in: Bounds.trainSteps)
        if let teacherSteps, teacherSteps & (teacherSteps - 1) != 0 {
            throw ValidationError("--teacher-steps must be a power of 2 (each round halves it down to 1), got \(teacherSteps)")
        }
    }

    var quick: Bool { common.quick }
    var sampleCount: Int { samples ?? (quick ? 400 : 2000) }

    /// Chapter 2's recipe for `dataset` (4 hidden layers, or `depth`), trained on ε as chapter 2 trains it or on v.
    func mlpRecipe(_ dataset: Toy2D, depth: Int = 4, target: PredictionTarget = .epsilon) -> MLPRecipe {
        MLPRecipe.chapter2(dataset: dataset, quick: quick, seed: common.seed, depth: depth, target: target)
    }

    var imageSampleCount: Int { imageSamples ?? (quick ? 8 : 100) }
    /// Chapter 7's latent model (and autoencoder) as chapter 7's default run trains them.
    var latentRecipe: LatentRecipe { LatentRecipe.chapter7(quick: quick, seed: common.seed) }

    /// The image model's distillation: guided at w = 3 (chapter 7's default), from 64 DDIM steps (8 with --quick).
    var imageDistillation: ImageDistillationRecipe {
        ImageDistillationRecipe(teacher: latentRecipe, guidance: 3, teacherSteps: quick ? 8 : 64,
                                training: TrainingOptions(steps: imageRoundSteps ?? (quick ? 20 : 400), learningRate: 2e-4,
                                                          warmupFraction: 0.05, emaDecay: 0),
                                batch: quick ? 8 : 32, seed: common.seed)
    }

    var distillation: DistillationRecipe {
        DistillationRecipe(teacher: mlpRecipe(dataset, target: .velocity), teacherSteps: teacherSteps ?? (quick ? 8 : 256),
                           training: TrainingOptions(steps: roundSteps ?? (quick ? 60 : 4000), learningRate: 5e-4, warmupFraction: 0.02,
                                                     emaDecay: 0),
                           seed: common.seed)
    }
}

/// One round of progressive distillation: the student of `studentSteps` steps, distilled from the v-trained
/// `teacher` sampled with `teacherSteps` DDIM steps, halved round by round down to `studentSteps`. Every
/// round before it has the same settings, so this value decides the student's weights.
struct DistillationRecipe: Recipe {
    var teacher: MLPRecipe
    var teacherSteps: Int
    var studentSteps = 0
    var training: TrainingOptions
    var batch = 256
    var seed: UInt64

    var name: String { "student-\(teacher.dataset.rawValue)-\(studentSteps)" }
    var trainingSteps: Int { training.steps }
    static let flags = ["teacherSteps": "--teacher-steps", "training.steps": "--round-steps", "seed": "--seed"]

    /// The same round for a student of `n` steps.
    func round(_ n: Int) -> DistillationRecipe { var r = self; r.studentSteps = n; return r }

    /// The student starts as a copy of its teacher, so its shape is the teacher's.
    func makeModel() -> NoiseMLP { teacher.makeModel() }

    /// A round cannot train without its teacher: the chapter trains it with `distil(_:from:)`.
    func train(_ model: NoiseMLP, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        throw ValidationError("a distillation round is trained from its teacher; call distil(_:from:)")
    }

    /// Trains `student` as this round's student of `teacher` (a v-trained MLP with twice the steps).
    func distil(_ student: NoiseMLP, from teacher: NoiseMLP, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        student.copyParameters(from: teacher)
        let schedule = NoiseSchedule.named(self.teacher.schedule), data = self.teacher.dataset, batch = batch
        return try ProgressiveDistillation.round(
            student: student, studentPrediction: ProgressiveDistillation.dataPrediction(velocity: student.predictor, schedule: schedule),
            teacher: ProgressiveDistillation.dataPrediction(velocity: teacher.predictor, schedule: schedule),
            studentSteps: studentSteps, schedule: schedule, options: training, seed: seed &+ UInt64(studentSteps),
            batch: { rng in data.sample(batch, using: &rng) }, progress: progress)
    }
}
