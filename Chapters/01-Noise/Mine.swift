// `01-noise --mine`: the chapter on the learner's build exercises (exercises/Chapter01): their
// cosine schedule (1.4) is the chapter's cosine schedule, their eq. (4) (1.3, `noisyBatch`) is the
// closed-form route of 1.3's measurement. Graded by the chapter's own measures: the schedule
// against eq. (17), and the closed form against eq. (4)'s mean and variance.

import ChapterKit
import Diffusion
import Exercises01
import Imaging
import Tensor

/// The cosine schedule from the learner's `cosineBetas` (or the library's, if not attempted).
func learnersCosineSchedule(_ mine: MineRun) -> NoiseSchedule {
    mine.use("cosineBetas", learner: {
        let beta = try cosineBetas(steps: 1000, offset: 0.008, maxBeta: 0.999)
        guard beta.count == 1000, beta.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 1 }) else {
            Options.fail("--mine: your cosineBetas(steps: 1000, …) returned \(beta.count) values"
                         + (beta.count == 1000 ? ", not all in (0, 1]" : "") + "; it should return 1000 β values in (0, 1]")
        }
        return NoiseSchedule(kind: .cosine, beta: beta)
    }, library: { NoiseSchedule.cosine() })
}

/// Eq. (4)'s jump by the learner's `noisyBatch`: x0 `[N, …]`, a step t of `schedule`, ε -> x_t.
func learnersJump(_ mine: MineRun, schedule: NoiseSchedule) -> (Tensor, Int, Tensor) -> Tensor {
    { x0, t, noise in
        mine.use("noisyBatch", learner: {
            let x = try noisyBatch(x0: x0, alphaBar: [Float](repeating: schedule.alphaBar[t], count: x0.shape[0]), noise: noise)
            guard x.shape == x0.shape else {
                Options.fail("--mine: your noisyBatch returned shape \(x.shape) for x0 of shape \(x0.shape); it should keep the shape")
            }
            return x
        }, library: { schedule.addNoise(x0, t: [Int](repeating: t, count: x0.shape[0]), noise: noise) })
    }
}

/// x₀ jumped to a few t by the learner's schedule and eq. (4) beside the library's, with the same
/// noise: correct code draws the very same strip.
func compareMine(_ mine: MineRun, cosine: NoiseSchedule, image: CleanImage, seed: UInt64) {
    let ts = [0, 100, 250, 500, 750, 999]
    let x0 = Tensor(image.chw, shape: [1] + image.shape)
    var rng = RandomGenerator(seed: seed)
    let noise = Tensor.randn(x0.shape, using: &rng)
    let library = NoiseSchedule.cosine()
    let jump = learnersJump(mine, schedule: cosine)
    let yours = Tensor.concat(ts.map { jump(x0, $0, noise) }, axis: 0)
    let theirs = Tensor.concat(ts.map { library.addNoise(x0, t: [$0], noise: noise) }, axis: 0)
    func strip(_ x: Tensor) -> Image {
        ImageGrid(rows: [ts.indices.map { Optional(shapeImage($0, of: clipped(x))) }], scale: image.width <= 16 ? 4 : 1, padding: 4,
                  columnLabels: ts.map { "t = \($0)" }).render()
    }
    mine.compare(yours: strip(yours), library: strip(theirs),
                 what: "x₀ jumped to t by eq. (4) on the cosine schedule, the same noise at every t", yoursTensor: yours, libraryTensor: theirs)
}

/// The grade. Thresholds: the schedule within 0.1 % of eq. (17) at every step (the solution: below
/// 1e-6) and its last β clipped at 0.999; the closed form within 5 standard errors of eq. (4)'s
/// mean and variance at every checkpoint (the solution's worst over seeds 0, 1, 2: see the README).
func gradeMine(_ mine: MineRun, cosine: NoiseSchedule, agreement: [Agreement]) {
    let reference = NoiseSchedule.cosine()
    let worstRelative = zip(cosine.alphaBar, reference.alphaBar).map { Double(abs($0 - $1) / $1) }.max() ?? .infinity
    mine.grade("cosine ᾱ_t against eq. (17): largest relative error", value: Report.format(worstRelative, digits: 2),
               threshold: "≤ 0.001", passed: worstRelative <= 1e-3)
    mine.grade("last β (clipped)", value: Report.format(Double(cosine.beta.last ?? 0), digits: 4), threshold: "0.999",
               passed: abs(Double(cosine.beta.last ?? 0) - 0.999) < 1e-6)
    let closed = agreement.filter { $0.route == "closed form" }
    let values = Double(closed.first?.values ?? 1)
    let worstVariance = closed.map { abs($0.varianceRatio - 1) / $0.varianceRatioSD }.max() ?? .infinity
    let worstRMS = closed.map { abs($0.rmsZ - 1) * (2 * values).squareRoot() }.max() ?? .infinity
    let worstMean = closed.map { abs($0.meanZ) * values.squareRoot() }.max() ?? .infinity
    for (measure, value) in [("closed form: variance ratio, worst deviation", worstVariance),
                             ("closed form: RMS z, worst deviation", worstRMS),
                             ("closed form: mean z, worst deviation", worstMean)] {
        mine.grade(measure + " (in standard errors)", value: Report.format(value, digits: 3), threshold: "≤ 5", passed: value <= 5)
    }
    mine.report(in: book)
}
