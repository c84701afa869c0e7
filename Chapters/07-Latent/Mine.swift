// `07-latent --mine`: the chapter on the learner's build exercises (exercises/Chapter07): their
// reparameterised draw (7.2) makes every latent drawn from q(z|x) — the ones the decoder learns to
// decode while the autoencoder trains, and the ones the scale factor is measured on — their KL term
// (7.3) regularises the autoencoder, and their latent scale factor (7.4) sets the scale of every
// latent the diffusion model learns and samples. Graded by the chapter's own measures: the share of
// reconstructions the Shapes checker reads as it reads their originals, and the share of samples with
// colour, shape and position all as asked, at w = 3.

import ChapterKit
import Datasets
import Diffusion
import Exercises07
import Imaging
import Tensor

/// Puts the learner's reparameterisation, KL term and scale factor in place of the library's for the
/// rest of the run (each falls back to the library's if not attempted).
func installMine(_ mine: MineRun) {
    DiagonalGaussian.sampleReplacement = { mean, logVariance, noise in
        mine.use("reparameterize", learner: {
            let z = try reparameterize(mean: mean, logVariance: logVariance, noise: noise)
            guard z.shape == mean.shape else {
                Options.fail("--mine: your reparameterize gave shape \(z.shape) for a mean of shape \(mean.shape)")
            }
            return z
        }, library: { mean + (logVariance * 0.5).exp() * noise })
    }
    DiagonalGaussian.klReplacement = { mean, logVariance in
        mine.use("gaussianKL", learner: {
            let kl = try gaussianKL(mean: mean, logVariance: logVariance)
            guard kl.shape == [mean.shape[0]] else {
                Options.fail("--mine: your gaussianKL gave shape \(kl.shape) for a mean of shape \(mean.shape); "
                             + "it must be [\(mean.shape[0])], one KL per example")
            }
            return kl
        }, library: {
            let perNumber = (mean * mean + logVariance.exp() - logVariance - 1) * 0.5   // ½(μ² + σ² − 1 − log σ²), [B, 4, 8, 8]
            return perNumber.sum(axes: Array(1..<mean.rank))                           // [B]
        })
    }
    Autoencoder.scaleReplacement = { latents in
        mine.use("latentScaleFactor", learner: {
            let s = try latentScaleFactor(latents)
            guard s.isFinite, s > 0 else {
                Options.fail("--mine: your latentScaleFactor gave \(s) for latents of shape \(latents.shape); a scale must be a positive number")
            }
            return s
        }, library: {
            // The library's own, with this replacement set aside while it runs.
            let saved = Autoencoder.scaleReplacement
            Autoencoder.scaleReplacement = nil
            defer { Autoencoder.scaleReplacement = saved }
            return Autoencoder.scaleFactor(latents)
        })
    }
}

/// Runs `body` on the library's code: the learner's reparameterisation, KL term and scale factor are
/// set aside meanwhile (to draw the library's side of the comparison from the same noise).
func withLibraryCode<T>(_ body: () -> T) -> T {
    let saved = (DiagonalGaussian.sampleReplacement, DiagonalGaussian.klReplacement, Autoencoder.scaleReplacement)
    DiagonalGaussian.sampleReplacement = nil
    DiagonalGaussian.klReplacement = nil
    Autoencoder.scaleReplacement = nil
    defer { (DiagonalGaussian.sampleReplacement, DiagonalGaussian.klReplacement, Autoencoder.scaleReplacement) = saved }
    return body()
}

/// The grade, two measures, each a share in 0…1: `agreement`, the share of reconstructions D(μ) the
/// Shapes checker reads as it reads their originals (the autoencoder keeps colour, shape and position),
/// at least 95 %; and `allThree`, the share of samples with colour, shape and position all as asked
/// at w = 3 (the latent model follows its prompts), at least 80 % (nil, if it was not measured,
/// counts as 0). Correct exercises compute the library's autoencoder and latent model.
func gradeMine(_ mine: MineRun, agreement: Double, allThree: Double?) {
    mine.grade("reconstructions the Shapes checker reads as it reads their originals", value: Report.format(agreement * 100, digits: 3) + " %",
               threshold: "≥ 95 %", passed: agreement >= 0.95)
    let share = allThree ?? 0
    mine.grade("samples with colour, shape and position all as asked, at w = 3", value: Report.format(share * 100, digits: 3) + " %",
               threshold: "≥ 80 %", passed: share >= 0.80)
    mine.report(in: book)
}

/// The first 16 of 7.4's prompts drawn at w = 3 by the learner's autoencoder, scale and latent model,
/// beside the library's (this recipe's cached weights, if on disk, with the scale measured by the
/// library's code), from the same noise: correct code draws the very same images.
func compareMine(_ mine: MineRun, _ yoursModel: LatentDiffusion, prompts: [ShapeCombination], tokens: [[Int]], seed: UInt64) {
    let count = Swift.min(16, prompts.count)
    let asked = Array(tokens.prefix(count))
    func grid(_ x: Tensor) -> Image { promptGrid(x, prompts: prompts, count: count) }
    let yours = draw(yoursModel, asked, scale: 3, seed: seed)
    let library = withLibraryCode { () -> Tensor? in
        let recipe = options.latentRecipe
        guard let autoencoder = recipe.autoencoder.cachedModel(in: book.directory), let model = recipe.cachedModel(in: book.directory) else { return nil }
        let scale = LatentSet.scale(of: autoencoder)
        return draw(LatentDiffusion(autoencoder: autoencoder, model: model, scale: scale), asked, scale: 3, seed: seed)
    }
    mine.compare(yours: grid(yours), library: library.map(grid),
                 what: "\(count) prompts at w = 3 from the same noise, each captioned with its prompt (“missed” where the checker saw something else)",
                 yoursTensor: yours, libraryTensor: library)
}
