// `05-attention --mine`: the chapter on the learner's self-attention block (exercises/Chapter05,
// 5.4), which runs in place of every SpatialSelfAttention of the UNet (after down2, the middle block
// and up2), in training and in sampling. Graded by the chapter's own measure: the share of valid
// pairs whose two shapes share a colour.

import ChapterKit
import Datasets
import Diffusion
import Exercises05
import Imaging
import Tensor

/// Puts the learner's block in place of the library's for the rest of the run (the library's if not attempted).
func installMine(_ mine: MineRun) {
    SpatialSelfAttention.replacement = { block, h in
        mine.use("selfAttentionBlock", learner: {
            let y = try selfAttentionBlock(h, norm: block.norm, query: block.attention.query, key: block.attention.key,
                                           value: block.attention.value, output: block.attention.output, heads: block.attention.heads)
            guard y.shape == h.shape else { Options.fail("--mine: your selfAttentionBlock gave shape \(y.shape) for h of shape \(h.shape)") }
            return y
        }, library: { block.attend(h).output })
    }
}

/// The grade: the colour rule kept in at least 95 % of valid pairs (5.4's measure). The library's
/// block keeps it in 98.2 % on seed 0 and 99.4 ± 1.1 % over seeds 0–2; blocks that do not mix
/// positions keep it in 83–89 % (the README), so a block that does not attend fails.
/// Runs `body` on the library's code: the learner's attention block is set aside meanwhile.
func withLibraryCode<T>(_ body: () -> T) -> T {
    let saved = SpatialSelfAttention.replacement
    SpatialSelfAttention.replacement = nil
    defer { SpatialSelfAttention.replacement = saved }
    return body()
}

/// 16 samples of the learner's model beside 16 of the library's (this recipe's cached weights, if
/// on disk, run by the library's code), from the same noise: correct code draws the very same images.
func compareMine(_ mine: MineRun, _ recipe: AttentionRecipe, _ predictor: @escaping NoisePredictor, seed: UInt64) {
    let count = 16
    func grid(_ x: Tensor) -> Image {
        let verdicts = PairedShapesDataset.describe(batch: x)
        let cells = (0..<count).map { captioned(shapeImage($0, of: x), verdicts[$0].description) }
        return ImageGrid(images: cells, columns: 4, scale: 1, padding: 4).render()
    }
    let yours = samplePairs(predictor, count: count, seed: seed).0
    let library = withLibraryCode { recipe.cachedModel(in: book.directory).map { samplePairs($0.predictor, count: count, seed: seed).0 } }
    mine.compare(yours: grid(yours), library: library.map(grid), what: "\(count) samples (\(sampler)) from the same noise",
                 yoursTensor: yours, libraryTensor: library)
}

func gradeMine(_ mine: MineRun, metrics: PairMetrics) {
    mine.grade("valid pairs whose shapes share a colour", value: Report.format(metrics.ruleKept * 100, digits: 3) + " %",
               threshold: "≥ 95 %", passed: metrics.ruleKept >= 0.95)
    mine.report(in: book)
}
