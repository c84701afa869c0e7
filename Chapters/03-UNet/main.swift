// Chapter 3 — A minimal UNet with skip connections, on the Shapes images.
//
//   swift run -c release 03-unet [--quick] [--seed N] [--out DIR] [--retrain] [--ablate] [--train-steps N] [--samples N] …
//   (every flag: --help)
//
// A notebook in eight sections; each prints what it shows and adds it to report.md. The lesson code
// is Sources/Diffusion/UNet.swift (the network) and Sources/Diffusion/Training.swift (the DDPM
// trainer and the loss per range of t); sampling is chapter 2's DDIM with η (Sources/Diffusion/DDIM.swift).
// Model.swift beside this file holds the command line and the recipe of the trained UNet.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

let options = Options.parseOrExit()
let started = Date()
let size = 16
let recipe = options.recipe
let sampleCount = options.sampleCount
let sampler = options.sampler
let seed = options.common.seed, quick = options.common.quick
let schedule = NoiseSchedule.linear()
let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 3: A minimal UNet with skip connections")
func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }

book.say("""
    Run with seed \(seed)\(quick ? ", --quick" : ""). Recipe: \(recipe.summary); \
    linear schedule, T = \(schedule.steps); samples by \(sampler).
    """)

// MARK: - 3.1 The data

book.section("3.1 The data: Shapes, 16×16")
let data = ShapesDataset(size: size, seed: seed &+ 31)
var dataRNG = RandomGenerator(seed: seed &+ 31)
let preview = data.batch(16, using: &dataRNG)
let previewCells = (0..<16).map { captioned(shapeImage($0, of: preview.images), preview.specs[$0].combination.caption) }
book.figure(ImageGrid(images: previewCells, columns: 8, scale: 1, padding: 4).render(), name: "data.png",
                caption: "16 training images (×4) with their captions")
book.say("""
    Each image is one coloured shape (6 colours × 3 shapes × 9 positions = 162 combinations) on black, \
    with a little jitter in place and size, as [B, 3, 16, 16] in −1…1 (`ShapesDataset`, \
    Sources/Datasets/ShapesDataset.swift). Training draws fresh images every step. The Shapes checker \
    (`ShapesChecker.describe`) reads a picture back into a caption, or says why it is not a clean shape; \
    that is how the samples are judged in 3.5.
    """)

// MARK: - 3.2 The hourglass

book.section("3.2 The hourglass: a UNet with skip connections")
var shapeRNG = RandomGenerator(seed: 0)
let anatomy = UNet(channels: recipe.channels, using: &shapeRNG)
let noSkipAnatomy = UNet(channels: recipe.channels, useSkips: false, using: &shapeRNG)
book.table(headers: ["stage", "output shape", "parameters"],
           rows: anatomy.summary(size: size).map { [$0.stage, $0.shape, $0.parameters == 0 ? "" : String($0.parameters)] })
book.say("""
    The network (Sources/Diffusion/UNet.swift) goes down through two poolings (16 → 8 → 4 pixels, \
    c = \(recipe.channels) → \(2 * recipe.channels) channels) and back up by nearest-neighbour upsampling. \
    Each ConvBlock is conv 3×3 → GroupNorm(8) → SiLU, twice. The skip connections of Ronneberger et al. \
    (2015) concatenate the down path's features at each resolution onto the upsampled ones, so the up path \
    gets back the fine detail that pooling threw away:
    ```
    s₁ = down₁(stem(x_t))                      [B, c, 16, 16]
    s₂ = down₂(pool(s₁))                       [B, 2c, 8, 8]
    h₂ = up₂( up(middle(pool(s₂))) ⊕ s₂ )       [B, 2c, 8, 8]
    ε̂  = head( up₁( up(h₂) ⊕ s₁ ) )             [B, 3, 16, 16]
    ```
    \(anatomy.parameterCount) parameters. Without skips (the ablation, `useSkips: false`) zeros stand \
    where the skips were: the same \(noSkipAnatomy.parameterCount) parameters, of which \
    \(noSkipAnatomy.effectiveParameterCount) can learn (the weights that read the skip channels never see \
    a nonzero input). The receptive field of one output pixel through the middle block is \
    \(UNet.receptiveField)×\(UNet.receptiveField) input pixels: more than the whole 16×16 image, so every \
    output pixel can see every input pixel. Note what is missing: **the network is not told t**. It must \
    judge the noise level from x_t itself; chapter 4 gives it t.
    """)

// MARK: - 3.3 Training

book.section("3.3 Training (DDPM Algorithm 1)")
book.say("""
    The loss is chapter 2's, L = ‖ε − ε_θ(√ᾱ_t·x₀ + √(1 − ᾱ_t)·ε)‖² (DDPM eq. 14), now minimised by the \
    library's `DDPMTrainer.train` (Sources/Diffusion/Training.swift): Adam, peak learning rate \
    \(recipe.training.learningRate), 5 % linear warm-up then cosine decay, gradients clipped to norm 1, EMA of the \
    weights (decay min(0.999, (1 + n)/(10 + n))), batch \(recipe.batch), \(recipe.training.steps) steps.
    """)
// With --mine the learner's hourglass wires the layers, in training and sampling; nothing is cached.
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
let (model, trained) = mine.map { trainMine(recipe, $0) }
    ?? book.must { try recipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train UNet") }
let predictor = mine.map { minePredictor(model, $0) } ?? model.predictor
let cacheName = trained.fileName
if trained.fromCache {
    book.say("Loaded cached weights from \(cacheName) (trained earlier in \(seconds(trained.seconds))); --retrain trains again.")
} else {
    book.say("""
        Trained \(recipe.training.steps) steps in \(seconds(trained.seconds)) \
        (\(fmt(trained.millisecondsPerStep)) ms per step); \
        \(mine == nil ? "weights saved to \(cacheName)." : "wired by your hourglass (`--mine` caches nothing).")
        """)
}
let curve = book.lossFigure(trained.losses)
book.say("""
    The running mean falls from \(fmt(curve.first)) to \(fmt(curve.last)) (a network that predicts ε̂ = 0 scores 1).
    """)

// MARK: - 3.4 Denoising examples

book.section("3.4 Denoising in one step: x̂₀ from x_t")
let showT = [50, 200, 500, 800]
var denoiseRNG = RandomGenerator(seed: seed &+ 34)
let clean = data.batch(showT.count, using: &denoiseRNG).images      // [4, 3, 16, 16]
let noise = Tensor.randn(clean.shape, using: &denoiseRNG)
let xt = schedule.addNoise(clean, t: showT, noise: noise)
let x0Hat = clipped(withoutGradients { DDPM.predictedX0(xt, t: showT, epsilon: predictor(xt, showT), schedule: schedule) })
let denoiseRows = showT.indices.map { i -> [Image?] in [shapeImage(i, of: xt), shapeImage(i, of: x0Hat), shapeImage(i, of: clean)] }
book.figure(ImageGrid(rows: denoiseRows, scale: 6, padding: 4, rowLabels: showT.map { "t = \($0)" },
                          columnLabels: ["noisy x_t", "predicted x0", "truth x0"], title: "One-step denoising").render(),
                name: "denoise.png", caption: "Noisy input, the x̂₀ the predicted noise implies (clipped to −1…1), and the truth")
book.say("""
    From one prediction of the noise, eq. (4) solved for x₀ gives the network's guess of the clean image:
    ```
    x̂₀ = (x_t − √(1 − ᾱ_t)·ε̂) / √ᾱ_t          clipped to [−1, 1]
    ```
    At t = 50 the shape is plain in x_t and x̂₀ is nearly exact; by t = 500 (ᾱ ≈ \(fmt(Double(schedule.alphaBar[500]), 2))) \
    a single step can only guess a blurred blob where the shape probably is, and at t = 800 little \
    of the truth is left to find. Sampling (3.5) takes many such steps, each correcting the last.
    """)

// MARK: - 3.5 Samples

book.section("3.5 Samples, judged by the Shapes checker")
var sampleRNG = RandomGenerator(seed: seed &+ 35)
var clock = Date()
let samples = clipped(sampler.sample(predictor, shape: [sampleCount, 3, size, size], schedule: schedule, using: &sampleRNG))  // [N, 3, 16, 16]
let samplingSeconds = Date().timeIntervalSince(clock)
let verdicts = ShapesChecker.describe(batch: samples)
let metrics = ShapesMetrics(verdicts)
book.must { try writeSamples(samples, verdicts: verdicts, to: book.directory) }
let shown = min(64, sampleCount)
book.figure(verdictGrid(samples, verdicts, count: shown), name: "samples.png",
                caption: "\(shown) samples (\(sampler)), each with the checker's verdict")
let floorTV = ShapesMetrics.expectedTV(samples: metrics.validCount)
book.table(headers: ["measure", "value"], rows: [
    ["valid (a clean shape)", "\(fmt(metrics.validity * 100, 3)) % (\(metrics.validCount)/\(metrics.count))"],
    ["combinations covered", "\(metrics.combinationsSeen)/162"],
    ["colours / shapes / positions seen", "\(metrics.colorsSeen)/6 · \(metrics.shapesSeen)/3 · \(metrics.positionsSeen)/9"],
    ["TV from uniform (floor at this n)", "\(fmt(metrics.totalVariation)) (\(fmt(floorTV)))"],
    ["sampling time", seconds(samplingSeconds)],
])
// A washed-out sample: nearly every pixel near the top of the range (mean above 0.8 in −1…1).
let washedOut = (0..<sampleCount).filter { i in
    !verdicts[i].isValid && ShapesDataset.image(i, of: samples).reduce(0, +) / Float(3 * size * size) > 0.8
}.count
let rejections = metrics.rejections.sorted { $0.value > $1.value }.map { "\($0.key.words) \($0.value)" }.joined(separator: ", ")
book.say("""
    \(sampleCount) samples from \(sampler) in \(seconds(samplingSeconds)); every image is in \
    samples/ named by its caption, and [verdicts.csv](verdicts.csv) lists the checker's verdicts. \
    \(metrics). Rejected: \(rejections.isEmpty ? "none" : rejections). A perfect sampler of this many \
    valid images would still score TV ≈ \(fmt(floorTV)) by chance (`ShapesMetrics.expectedTV`); the \
    coverage of 162 combinations is likewise limited by the sample size: \(metrics.validCount) valid images \
    drawn uniformly would cover on average \(fmt(162 * (1 - pow(1 - 1 / 162.0, Double(metrics.validCount))), 3)) \
    of them. Of the \(sampleCount - metrics.validCount) failures, \(washedOut) are washed out to (nearly) white \
    and most of the rest keep a field of noise or fade to black. These are the failures of a network that \
    is not told t: early in sampling it misjudges how much noise there is and the error compounds into a \
    saturated frame; near the end it cannot tell faint noise from detail and leaves some in. Chapter 4 \
    tells it t.
    """)

// MARK: - 3.6 Which sampler (--ablate)

book.section("3.6 Which sampler\(options.run.ablate ? "" : " (run with --ablate)")")
if options.run.ablate {
    let candidates = [Sampler(eta: 0, steps: 50), Sampler(eta: 0, steps: 250), Sampler(eta: 1, steps: 50),
                      Sampler(eta: 1, steps: 100), Sampler(eta: 1, steps: 250), Sampler(eta: 1, steps: 1000)]
    let n = quick ? 8 : 128
    var rows: [[String]] = []
    var validityOf: [Double] = []
    for candidate in candidates {
        var r = RandomGenerator(seed: seed &+ 36)
        let start = Date()
        let m = ShapesMetrics(ShapesChecker.describe(batch: clipped(candidate.sample(predictor, shape: [n, 3, size, size],
                                                                                 schedule: schedule, using: &r))))
        validityOf.append(m.validity * 100)
        rows.append([candidate.description, "\(fmt(m.validity * 100, 3)) %", "\(m.combinationsSeen)/162",
                     seconds(Date().timeIntervalSince(start))])
        print("  \(rows.last!.joined(separator: " · "))")
    }
    book.table(headers: ["sampler (\(n) samples, same model)", "valid", "combinations", "time"], rows: rows)
    book.say("""
        The same trained network, sampled six ways from the same seed. DDIM's η sets how much of each \
        step's noise is drawn fresh (DDIM eq. 16): η = 0 is deterministic, η = 1 is ancestral like DDPM's \
        Algorithm 2. Deterministic sampling reaches \(fmt(validityOf[0...1].max()!, 3)) % valid at best, \
        ancestral \(fmt(validityOf[2...].max()!, 3)) %. A network that is not told t misjudges the noise \
        level now and then; without fresh noise each error is carried to the end, with it the next steps \
        wash it out. More steps buy little for either, so the default is η = 1 with 100 steps.
        """)
} else {
    book.say("`--ablate` samples the same network with DDIM at η = 0 and η = 1 and several step counts, and compares validity, coverage and time.")
}

// MARK: - 3.7 Loss per range of t

book.section("3.7 Where the error is: loss per range of t")
let rangeBatches = quick ? 1 : 8
let rangeLoss = DDPMTrainer.lossByTimeRange(predictor, schedule: schedule, batches: rangeBatches, seed: seed &+ 36,
                                            batch: shapesBatches(size: size, count: 64))
let zeroSkipPredictor: NoisePredictor = { x, _ in model(x, zeroSkips: true) }
let rangeLossZeroed = DDPMTrainer.lossByTimeRange(zeroSkipPredictor, schedule: schedule, batches: rangeBatches,
                                                  seed: seed &+ 36, batch: shapesBatches(size: size, count: 64))
book.table(headers: ["t in", "ᾱ_t from … to", "MSE of ε̂", "same, skips zeroed at test time"],
           rows: DDPMTrainer.standardRanges.enumerated().map { i, r in
               ["[\(r.lowerBound), \(r.upperBound))",
                "\(fmt(Double(schedule.alphaBar[r.lowerBound]), 2)) … \(fmt(Double(schedule.alphaBar[r.upperBound - 1]), 2))",
                fmt(rangeLoss[i], 3), fmt(rangeLossZeroed[i], 3)]
           })
book.say("""
    The denoising MSE on fresh images (\(rangeBatches) batches of 64 per range, the same images, t and \
    noise for each column). The error is largest at small t: there the noise is faint, and predicting it \
    means knowing the image's every edge, at a noise level the network must guess because it is not told t. \
    At large t the image is nearly all noise and ε̂ ≈ x_t is almost right. Zeroing the skips of the \
    *trained* network (right column) ruins it at every t — it has learnt to rely on them — but that is not \
    a fair test of whether skips help; 3.8 (`--ablate`) trains a network without them.
    """)

// MARK: - 3.8 Ablation (--ablate)

book.section("3.8 Ablation: without skip connections\(options.run.ablate ? "" : " (run with --ablate)")")
if options.run.ablate {
    let study = SeedStudy(first: seed)
    let rows = [true, false].map { skips -> [String] in
        let results = study.run { s in
            var c = recipe
            (c.useSkips, c.seed) = (skips, s)
            let (trained, _) = book.must {
                try c.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train UNet\(skips ? "" : " (no skips)"), seed \(s)")
            }
            var r = RandomGenerator(seed: s &+ 35)
            let m = ShapesMetrics(ShapesChecker.describe(batch: clipped(sampler.sample(trained.predictor, shape: [sampleCount, 3, size, size],
                                                                                    schedule: schedule, using: &r))))
            return [m.validity * 100, Double(m.combinationsSeen)]
                + DDPMTrainer.lossByTimeRange(trained.predictor, schedule: schedule, batches: rangeBatches,
                                              seed: seed &+ 36, batch: shapesBatches(size: size, count: 64))
        }
        return [skips ? "with skips" : "without skips"] + results.row()
    }
    book.table(headers: ["UNet (3 seeds, mean ± sd)", "valid %", "combinations /162"]
                   + DDPMTrainer.standardRanges.map { "MSE t∈[\($0.lowerBound),\($0.upperBound))" }, rows: rows)
    book.say("""
        Both trained with the same budget (\(recipe.training.steps) steps, batch \(recipe.batch)) and seeds \(study.list); \
        the version without skips has zeros where the skips were (\(noSkipAnatomy.effectiveParameterCount) of its \
        \(noSkipAnatomy.parameterCount) parameters can learn).
        """)
} else {
    book.say("`--ablate` trains the same UNet without skips (and both with 3 seeds, cached) and compares validity, coverage and the loss per range of t.")
}

if let mine {
    compareMine(mine, recipe, predictor, sampler: sampler, seed: seed &+ 39)
    gradeMine(mine, validity: metrics.validity)
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trained.fromCache ? " (weights from the cache)" : ", training included").")
book.save()
