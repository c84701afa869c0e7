// `02-mlp --mine`: the chapter on the learner's build exercises (exercises/Chapter02). Their
// training step (2.4) trains the MLP, their Algorithm 2 (2.5) draws the samples of 2.3, and their
// DDIM timesteps (2.6) with their DDIM step (2.3) draw 2.5's DDIM samples. Graded by the chapter's
// own measure, the energy distance against the data's noise floor.

import ChapterKit
import Diffusion
import Exercises02
import Foundation
import Imaging
import NN
import Tensor

/// Trains a fresh model of `recipe` with the learner's `trainingStep` — never cached, since the
/// learner's code changes between runs — under a progress bar.
func trainMine(_ recipe: MLPRecipe, _ mine: MineRun) -> (model: NoiseMLP, record: TrainingRecord) {
    let schedule = NoiseSchedule.named(recipe.schedule)
    return book.must("--mine: training with your trainingStep") {
        try recipe.trainUncached(label: "train \(recipe.dataset.rawValue) (your trainingStep)") { model, progress in
            try DDPMTrainer.train(model, predictor: model.predictor, schedule: schedule, options: recipe.training, seed: recipe.seed &+ 1,
                                  batch: { rng in recipe.dataset.sample(recipe.batch, using: &rng) },
                                  step: { predictor, x0, parameters, optimizer, ema, rng in
                                      mine.use("trainingStep", learner: {
                                          try trainingStep(predict: predictor, x0: x0, parameters: parameters, optimizer: optimizer, ema: ema,
                                                           alphaBar: schedule.alphaBar, clipNorm: recipe.training.clipNorm, using: &rng)
                                      }, library: {
                                          DDPMTrainer.step(predictor, x0: x0, parameters: parameters, optimizer: optimizer, ema: ema,
                                                           schedule: schedule, options: recipe.training, using: &rng)
                                      })
                                  }, progress: progress)
        }
    }
}

/// Algorithm 2 by the learner's `sampleDDPM` from `xT`, observed like the library's sampler.
func sampleMine(_ mine: MineRun, _ predictor: @escaping NoisePredictor, from xT: Tensor, schedule: NoiseSchedule,
                using rng: inout RandomGenerator, observe: (Int, Tensor) -> Void) -> Tensor {
    withoutGradients {
        mine.use("sampleDDPM", learner: {
            let x = try sampleDDPM(predict: predictor, xT: xT, beta: schedule.beta, alphaBar: schedule.alphaBar, observe: observe, using: &rng)
            guard x.shape == xT.shape else { Options.fail("--mine: your sampleDDPM returned shape \(x.shape) for x_T of shape \(xT.shape)") }
            return x
        }, library: { withoutActuallyEscaping(observe) { Sampler.ddpm(steps: schedule.steps).sample(predictor, from: xT, schedule: schedule, using: &rng, observe: $0) } })
    }
}

/// DDIM (η = 0) with `count` steps by the learner's `ddimTimesteps` and `ddimStep`.
func ddimMine(_ mine: MineRun, _ predictor: NoisePredictor, from xT: Tensor, count: Int, schedule: NoiseSchedule) -> Tensor {
    let taus = mine.use("ddimTimesteps", learner: {
        let taus = try ddimTimesteps(count: count, steps: schedule.steps)
        guard taus.count == count, taus.allSatisfy({ (0..<schedule.steps).contains($0) }) else {
            Options.fail("--mine: your ddimTimesteps(count: \(count), steps: \(schedule.steps)) gave \(taus.count) steps, not all in 0…\(schedule.steps - 1)")
        }
        return taus
    }, library: { DDIM.timesteps(count: count, steps: schedule.steps) })
    return withoutGradients {
        var x = xT
        for (i, t) in taus.enumerated() {
            let previous: Float = i + 1 < taus.count ? schedule.alphaBar[taus[i + 1]] : 1     // ᾱ of t′, 1 for x₀
            let epsilon = predictor(x, [Int](repeating: t, count: x.shape[0]))
            x = mine.use("ddimStep", learner: { try ddimStep(xt: x, epsilon: epsilon, alphaBar: schedule.alphaBar[t], alphaBarPrevious: previous) },
                         library: { DDIM.step(x, epsilon: epsilon, alphaBar: schedule.alphaBar[t], alphaBarPrevious: previous) })
        }
        return x
    }
}

/// Samples of the learner's model by their Algorithm 2 beside samples of the library's (this
/// recipe's cached weights, if on disk) by the library's sampler, from the same x_T and noise.
func compareMine(_ mine: MineRun, _ predictor: @escaping NoisePredictor, seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    let yours = sampleMine(mine, predictor, from: Tensor.randn([count, 2], using: &rng), schedule: schedule, using: &rng, observe: { _, _ in })
    let library = recipe.cachedModel(in: book.directory).map { model in
        var rng = RandomGenerator(seed: seed)
        let xT = Tensor.randn([count, 2], using: &rng)
        return withoutGradients { Sampler.ddpm(steps: T).sample(model.predictor, from: xT, schedule: schedule, using: &rng) }
    }
    func panel(_ x: Tensor) -> Image { scatter("\(count) samples", [("samples", x, sampleColor)], size: 320).render() }
    mine.compare(yours: panel(yours), library: library.map(panel),
                 what: "Samples by Algorithm 2 (\(T) steps), from the same x_T and noise", yoursTensor: yours, libraryTensor: library)
}

/// The grade: DDPM's samples within 2× the noise floor's mean (the solutions, on every dataset and
/// seed measured: see the README), and DDIM-50 by the learner's loop no further than 1.25× from the
/// library's loop on the same trained network and the same x_T (both are deterministic).
func gradeMine(_ mine: MineRun, ancestral: Double, ddim50: Double, libraryDDIM50: Double, floor: Double) {
    mine.grade("energy distance of your DDPM samples, in floors", value: Report.format(ancestral / floor, digits: 3) + "×",
               threshold: "≤ 2×", passed: ancestral <= 2 * floor)
    mine.grade("your DDIM-50 against the library's on the same network", value: Report.format(ddim50 / libraryDDIM50, digits: 3) + "×",
               threshold: "≤ 1.25×", passed: ddim50 <= 1.25 * libraryDDIM50)
    mine.report(in: book)
}
