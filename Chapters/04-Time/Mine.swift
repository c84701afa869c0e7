// `04-time --mine`: the chapter on the learner's build exercises (exercises/Chapter04): their
// sinusoidal embedding (4.1) embeds t, and their residual block (4.5) runs in place of every
// ResBlock of the UNet, in training and in sampling. Graded by the chapter's own measure, the share
// of samples the Shapes checker reads as a clean shape.

import ChapterKit
import Datasets
import Diffusion
import Exercises04
import Imaging
import Tensor

/// Puts the learner's embedding and block in place of the library's for the rest of the run (each
/// falls back to the library's if not attempted).
func installMine(_ mine: MineRun) {
    TimeEmbedding.sinusoidalReplacement = { t, d in
        mine.use("sinusoidalEmbedding", learner: {
            let e = try Exercises04.sinusoidalEmbedding(t, dimension: d)
            guard e.shape == [t.count, d] else { Options.fail("--mine: your sinusoidalEmbedding gave shape \(e.shape), not [\(t.count), \(d)]") }
            return e
        }, library: { Diffusion.sinusoidalEmbedding(t, dimension: d) })
    }
    ResBlock.replacement = { block, x, emb in
        mine.use("resBlock", learner: {
            let y = try Exercises04.resBlock(x, emb: emb, norm1: block.norm1, conv1: block.conv1, embedding: block.embedding,
                                             norm2: block.norm2, conv2: block.conv2, skip: block.skip)
            let out = [x.shape[0], block.conv2.weight.shape[0], x.shape[2], x.shape[3]]
            guard y.shape == out else { Options.fail("--mine: your resBlock gave shape \(y.shape), not \(out)") }
            return y
        }, library: { block.forward(x, emb) })
    }
}

/// The grade: valid samples (4.4's measure) at least 80 %. A correct block and embedding compute the
/// library's network (the solutions train bit-identical weights), which draws 94.5 % on seed 0 and
/// 93.2 ± 1.2 % over seeds 0–2 (the README); told nothing about t, the same UNet draws 28.4 ± 6.3 %.
/// Runs `body` on the library's code: the learner's embedding and block are set aside meanwhile.
func withLibraryCode<T>(_ body: () -> T) -> T {
    let saved = (TimeEmbedding.sinusoidalReplacement, ResBlock.replacement)
    TimeEmbedding.sinusoidalReplacement = nil
    ResBlock.replacement = nil
    defer { (TimeEmbedding.sinusoidalReplacement, ResBlock.replacement) = saved }
    return body()
}

/// 16 samples of the learner's model beside 16 of the library's (this recipe's cached weights, if
/// on disk, run by the library's code), from the same noise: correct code draws the very same images.
func compareMine(_ mine: MineRun, _ recipe: TimeRecipe, _ predictor: @escaping NoisePredictor, seed: UInt64) {
    let count = 16
    func grid(_ x: Tensor) -> Image { verdictGrid(x, ShapesChecker.describe(batch: x), count: count, columns: 4) }
    let yours = measure(predictor, sampler, count: count, seed: seed).samples
    let library = withLibraryCode { recipe.cachedModel(in: book.directory).map { measure($0.predictor, sampler, count: count, seed: seed).samples } }
    mine.compare(yours: grid(yours), library: library.map(grid), what: "\(count) samples (\(sampler)) from the same noise",
                 yoursTensor: yours, libraryTensor: library)
}

func gradeMine(_ mine: MineRun, validity: Double) {
    mine.grade("valid samples (a clean shape)", value: Report.format(validity * 100, digits: 3) + " %", threshold: "≥ 80 %",
               passed: validity >= 0.8)
    mine.report(in: book)
}
