// `03-unet --mine`: the chapter on the learner's hourglass (exercises/Chapter03, 3.4). The UNet's
// layers are the library's; how they are wired — down, pooled, the middle, upsampled, the skips
// concatenated — is the learner's, in training, in sampling and in the loss table. Graded by the
// chapter's own measure, the share of samples the Shapes checker reads as a clean shape.

import ChapterKit
import Datasets
import Diffusion
import Exercises03
import Imaging
import Tensor

/// ε̂ by the learner's wiring of `model`'s layers (the library's where not attempted).
func minePredictor(_ model: UNet, _ mine: MineRun) -> NoisePredictor {
    { x, _ in
        mine.use("hourglass", learner: {
            let l = model.layers
            let y = try hourglass(x, stem: l.stem, down1: l.down1, down2: l.down2, middle: l.middle, up2: l.up2, up1: l.up1,
                                  head: l.head, skips: model.useSkips)
            guard y.shape == x.shape else { Options.fail("--mine: your hourglass returned shape \(y.shape) for x_t of shape \(x.shape)") }
            return y
        }, library: { model(x) })
    }
}

/// A fresh UNet trained through the learner's hourglass, never cached.
func trainMine(_ recipe: UNetRecipe, _ mine: MineRun) -> (model: UNet, record: TrainingRecord) {
    book.must("--mine: training through your hourglass") {
        try recipe.trainUncached(label: "train UNet (your hourglass)") { model, progress in
            try DDPMTrainer.train(model, predictor: minePredictor(model, mine), schedule: .named(recipe.schedule), options: recipe.training,
                                  seed: recipe.seed &+ 1, batch: shapesBatches(size: recipe.size, count: recipe.batch), progress: progress)
        }
    }
}

/// The grade: validity of the samples (3.5's measure) at least 25 %. A correct wiring is the
/// library's network (46.1 % on seed 0, 41.1 ± 7.3 % over seeds 0–2: the README); without skips, 0 %.
/// 16 samples of the learner's model beside 16 of the library's (this recipe's cached weights, if
/// on disk), from the same noise: correct code draws the very same images.
func compareMine(_ mine: MineRun, _ recipe: UNetRecipe, _ predictor: @escaping NoisePredictor, sampler: Sampler, seed: UInt64) {
    let count = 16
    func draw(_ p: @escaping NoisePredictor) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return clipped(sampler.sample(p, shape: [count, 3, recipe.size, recipe.size], schedule: .named(recipe.schedule), using: &rng))
    }
    func grid(_ x: Tensor) -> Image { verdictGrid(x, ShapesChecker.describe(batch: x), count: count, columns: 4) }
    let yours = draw(predictor)
    let library = recipe.cachedModel(in: book.directory).map { draw($0.predictor) }
    mine.compare(yours: grid(yours), library: library.map(grid), what: "\(count) samples (\(sampler)) from the same noise",
                 yoursTensor: yours, libraryTensor: library)
}

func gradeMine(_ mine: MineRun, validity: Double) {
    mine.grade("valid samples (a clean shape), 3.5's measure", value: Report.format(validity * 100, digits: 3) + " %",
               threshold: "≥ 25 %", passed: validity >= 0.25)
    mine.report(in: book)
}
