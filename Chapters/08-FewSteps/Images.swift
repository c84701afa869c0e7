// Chapter 8's image half: chapter 7's latent text-to-image model (its recipes are in
// Sources/ChapterKit/LatentRecipes.swift), sampled call for call with guidance, judged by the Shapes
// checker, and distilled. The student of the first round learns the *guided* teacher — two network
// passes a step, conditional and unconditional — in one conditional pass (Meng et al. 2023, "On
// distillation of guided diffusion models", §3.1, here at one fixed w); later rounds halve its steps.

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

/// One round of progressive distillation of chapter 7's latent model: the student of `studentSteps`
/// steps, distilled from the model guided at `guidance` and sampled with `teacherSteps` DDIM steps,
/// halved round by round. Every round before it has the same settings, so this value decides its weights.
struct ImageDistillationRecipe: Recipe {
    var teacher: LatentRecipe
    var guidance: Float
    var teacherSteps: Int
    var studentSteps = 0
    var training: TrainingOptions
    var batch: Int
    var seed: UInt64

    var name: String { "image-student-\(studentSteps)" }
    var trainingSteps: Int { training.steps }
    static let flags = ["training.steps": "--image-round-steps", "seed": "--seed"]

    func round(_ n: Int) -> ImageDistillationRecipe { var r = self; r.studentSteps = n; return r }

    /// The student starts as a copy of its teacher, so its shape is the teacher's.
    func makeModel() -> TextToImage { teacher.makeModel() }

    func train(_ model: TextToImage, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        throw ValidationError("a distillation round is trained from its teacher; call distil(_:from:on:)")
    }

    /// Trains `student` as this round's student of `teacher`, on latents of `set` with their full captions.
    /// The first round's teacher is chapter 7's model with guidance (one call on the doubled batch); a later
    /// round's is the previous student, conditional alone.
    func distil(_ student: TextToImage, from teacher: TextToImage, on set: LatentSet,
                progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        student.copyParameters(from: teacher)
        let schedule = student.schedule, guided = 2 * studentSteps == teacherSteps, w = guidance, batch = batch
        return try ProgressiveDistillation.round(
            student: student, studentSteps: studentSteps, schedule: schedule, options: training, seed: seed &+ 800 &+ UInt64(studentSteps),
            batch: { rng in
                let (z, combinations) = set.batch(batch, using: &rng)
                let tokens = combinations.map { Tokenizer.shapes.encode(ShapePrompt($0)) }
                let teacherV: NoisePredictor = guided ? { x, t in teacher.guidedOutput(x, t, tokens: tokens, scale: w) }
                                                      : { x, t in teacher(x, t, tokens: tokens) }
                return (z, ProgressiveDistillation.dataPrediction(velocity: { x, t in student(x, t, tokens: tokens) }, schedule: schedule),
                        ProgressiveDistillation.dataPrediction(velocity: teacherV, schedule: schedule))
            }, progress: progress)
    }
}

/// The adherence measures of a set of samples as a tensor (for the measurement cache) and back:
/// [count, valid, colour, shape, position, all three, combinations drawn].
extension Adherence {
    var tensor: Tensor {
        Tensor([count, valid, color, kind, position, all, combinations.count].map(Float.init), shape: [7])
    }
    /// What the chapter's tables show, read back from `tensor` (the set of combinations itself is not
    /// kept), with the samples' edge energy as a multiple of the reconstructions'.
    static func summary(_ t: Tensor, edges: Double) -> AdherenceSummary {
        let v = t.data.map(Double.init)
        return AdherenceSummary(valid: v[1] / v[0], all: v[5] / v[0], combinations: Int(v[6]), edges: edges)
    }
}

/// The shares of the samples that are valid and that match all three attributes, the number of distinct
/// combinations drawn, and the samples' edge energy as a multiple of the autoencoder's reconstructions'.
struct AdherenceSummary {
    var valid: Double, all: Double
    var combinations: Int
    var edges: Double
}
