// Chapter 4 — Telling the network t: the sinusoidal time embedding.
//
//   swift run -c release 04-time [--quick] [--seed N] [--out DIR] [--retrain] [--ablate] [--conditioning KIND]
//                                [--train-steps N] [--channels N] [--batch N] [--lr X] [--samples N] [--eta X] [--sampling-steps N]
//
// A notebook in six sections; each prints what it shows and adds it to report.md. The lesson code
// is Sources/Diffusion/TimeEmbedding.swift (the embedding, the AdaGN residual block, the UNet built
// from them); training is chapter 3's DDPMTrainer, sampling chapter 3's ancestral DDIM.
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
let conditioning = options.conditioning
let size = 16
let recipe = options.recipe
let sampleCount = options.sampleCount
let sampler = options.sampler
let seed = options.common.seed, quick = options.common.quick
/// The other sampler the chapter compares with: deterministic DDIM if the main one is ancestral, and vice versa.
let otherSampler = sampler.eta > 0 ? Sampler(eta: 0, steps: quick ? 10 : 50) : Sampler(eta: 1, steps: quick ? 10 : 50)
let schedule = NoiseSchedule.linear()
let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 4: Telling the network t")
func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }

book.say("""
    Run with seed \(seed)\(quick ? ", --quick" : ""). Recipe: \(recipe.summary); \
    linear schedule, T = \(schedule.steps); samples by \(sampler).
    """)

// MARK: - 4.1 The sinusoidal embedding

book.section("4.1 The sinusoidal embedding of t")
let embeddingDim = 32
let shownT = Array(0..<schedule.steps)                                              // one column per t
let table = sinusoidalEmbedding(shownT, dimension: embeddingDim)                    // [1000, 32]
/// Dimensions `dims` as an image: one band of 6 pixel rows per dimension, one column per shown t.
func band(_ dims: Range<Int>) -> Image {
    let rowHeight = 6
    var picture = [Float](repeating: 0, count: dims.count * rowHeight * shownT.count)
    for (r, d) in dims.enumerated() {
        for y in 0..<rowHeight {
            for column in shownT.indices { picture[(r * rowHeight + y) * shownT.count + column] = table.data[column * embeddingDim + d] }
        }
    }
    return Image(width: shownT.count, height: dims.count * rowHeight, channels: 1, floats: picture, range: -1...1)
}
let half = embeddingDim / 2
book.figure(ImageGrid(rows: [[band(0..<half)], [band(half..<embeddingDim)]], scale: 1, padding: 6,
                          rowLabels: ["sin, i = 0..15", "cos, i = 0..15"], columnLabels: ["t = 0 ... 999, left to right"],
                          title: "sinusoidal embedding, d = 32").render(),
                name: "embedding.png",
                caption: "The embedding as an image: one band per dimension (fast frequencies at the top of each half), one column per t = 0…999; black −1, white +1")
let e = sinusoidalEmbedding([0, 1, 500, 999], dimension: embeddingDim)
book.say("""
    Chapter 2 told its MLP t as one number, t/T. DDPM (Ho et al. 2020, Appendix B) borrows the Transformer's \
    position code instead (Vaswani et al. 2017, §3.5): t becomes d numbers, sines and cosines of t at \
    d/2 frequencies spaced geometrically from 1 down to 1/10000 (`sinusoidalEmbedding`, \
    Sources/Diffusion/TimeEmbedding.swift):
    ```
    ω_i = 10000^(−i/(d/2 − 1)),  i = 0 … d/2 − 1
    emb(t) = [sin(t·ω_0), …, sin(t·ω_{d/2−1}), cos(t·ω_0), …, cos(t·ω_{d/2−1})]
    ```
    In the figure the top rows (fast frequencies) flicker from one t to the next — they tell neighbouring \
    steps apart — and the bottom rows change slowly across all 1000 — they say roughly where in the \
    schedule t is. Every value stays in −1…1 whatever t is, so no input of the network is 999 times \
    bigger than another. For example emb(1) starts \(e.data[embeddingDim..<(embeddingDim + 4)].map { fmt(Double($0), 3) }) \
    and emb(999) starts \(e.data[(3 * embeddingDim)..<(3 * embeddingDim + 4)].map { fmt(Double($0), 3) }).
    """)

// MARK: - 4.2 Into every block

book.section("4.2 Into every block: scale and shift (AdaGN)")
var shapeRNG = RandomGenerator(seed: 0)
let counts = TimeConditioning.allCases.map { kind -> [String] in
    let net = TimeUNet(channels: recipe.channels, conditioning: kind, using: &shapeRNG)
    return [kind.rawValue, String(net.parameterCount), net.time.map { String($0.parameterCount) } ?? "0"]
}
book.table(headers: ["the UNet is told t as", "parameters", "of which the time MLP"], rows: counts)
book.say("""
    The embedding goes through a small MLP (Linear → SiLU → Linear, width E = 4c = \(4 * recipe.channels)) and \
    then into every residual block of the UNet, where it sets one scale and one shift per channel right \
    after the block's second GroupNorm (AdaGN, Dhariwal & Nichol 2021):
    ```
    h = conv₁(SiLU(GN₁(x)))
    [s, b] = Linear(SiLU(emb(t)))                    per channel
    h = conv₂(SiLU((1 + s)·GN₂(h) + b))
    out = x + h                                      (a 1×1 conv on x when the width changes)
    ```
    So the same convolution weights serve every noise level, and t decides how strongly each channel \
    speaks. (DDPM's own blocks only add the projected embedding to the features, one bias per channel \
    after conv₁; AdaGN also scales them.) The UNet is chapter 3's hourglass (16 → 8 → 4 pixels, skips concatenated) rebuilt from \
    these residual blocks (`ResBlock`, `TimeUNet`). Three versions are compared in 4.6: the same UNet \
    told nothing (chapter 3's situation), told t/T as one number through the same MLP (chapter 2's way), \
    and told the sinusoidal embedding. This run trains: **\(conditioning.rawValue)**.
    """)

// MARK: - 4.3 Training

book.section("4.3 Training")
// With --mine the learner's embedding and residual block run in every block, in training and sampling; nothing is cached.
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
if let mine { installMine(mine) }
let (model, trained) = mine != nil
    ? book.must("--mine") { try recipe.trainUncached(label: "train (your embedding and blocks)") { try recipe.train($0, progress: $1) } }
    : book.must { try recipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train (t: \(conditioning.rawValue), seed \(seed))") }
let predictor = model.predictor
if trained.fromCache {
    book.say("Loaded cached weights from \(trained.fileName) (trained earlier in \(seconds(trained.seconds))); --retrain trains again.")
} else {
    book.say("""
        Trained \(recipe.training.steps) steps of batch \(recipe.batch) in \(seconds(trained.seconds)) \
        (\(fmt(trained.millisecondsPerStep)) ms per step) with chapter 3's `DDPMTrainer`: Adam, peak learning \
        rate \(recipe.training.learningRate), 5 % warm-up then cosine decay, clipping at norm 1, EMA 0.999; \
        \(mine == nil ? "weights saved to \(trained.fileName)." : "with your embedding and blocks (`--mine` caches nothing).")
        """)
}
let curve = book.lossFigure(trained.losses)
book.say("The running mean falls from \(fmt(curve.first)) to \(fmt(curve.last)).")

// MARK: - 4.4 Samples

book.section("4.4 Samples, judged by the Shapes checker")
func measure(_ p: @escaping NoisePredictor, _ s: Sampler, count: Int, seed: UInt64) -> (samples: Tensor, verdicts: [ShapeDescription], seconds: Double) {
    var rng = RandomGenerator(seed: seed)
    let start = Date()
    let x = clipped(s.sample(p, shape: [count, 3, size, size], schedule: schedule, using: &rng))
    return (x, ShapesChecker.describe(batch: x), Date().timeIntervalSince(start))
}
let main = measure(predictor, sampler, count: sampleCount, seed: seed &+ 44)
let metrics = ShapesMetrics(main.verdicts)
book.must { try writeSamples(main.samples, verdicts: main.verdicts, to: book.directory) }
book.figure(verdictGrid(main.samples, main.verdicts), name: "samples.png",
                caption: "\(min(64, sampleCount)) samples (\(sampler)), each with the checker's verdict")
let otherCount = min(128, sampleCount)   // fewer, to keep a rerun with cached weights under 30 s
let other = measure(predictor, otherSampler, count: otherCount, seed: seed &+ 44)
let otherMetrics = ShapesMetrics(other.verdicts)
func row(_ name: String, _ m: ShapesMetrics, _ time: Double) -> [String] {
    [name, "\(fmt(m.validity * 100)) % (\(m.validCount)/\(m.count))", "\(m.combinationsSeen)/162",
     "\(m.colorsSeen)/6 · \(m.shapesSeen)/3 · \(m.positionsSeen)/9",
     "\(fmt(m.totalVariation, 2)) (\(fmt(ShapesMetrics.expectedTV(samples: m.validCount), 2)))", seconds(time)]
}
book.table(headers: ["sampler (same model)", "valid", "combinations", "colours · shapes · positions", "TV (floor)", "time"],
           rows: [row(sampler.description, metrics, main.seconds), row(otherSampler.description, otherMetrics, other.seconds)])
let expectedCoverage = 162 * (1 - pow(1 - 1 / 162.0, Double(metrics.validCount)))
let rejections = metrics.rejections.sorted { $0.value > $1.value }.map { "\($0.key.words) \($0.value)" }.joined(separator: ", ")
book.say("""
    \(sampleCount) samples from \(sampler) (every image in samples/, the checker's verdicts in \
    [verdicts.csv](verdicts.csv)), and \(otherCount) from the same model sampled by \(otherSampler), starting \
    from the same x_T, for comparison. \
    \(metrics). Rejected: \(rejections.isEmpty ? "none" : rejections). Coverage is limited by the sample \
    size: \(metrics.validCount) valid images drawn uniformly from the 162 combinations would cover \
    \(fmt(expectedCoverage)) of them on average, and score TV ≈ \(fmt(ShapesMetrics.expectedTV(samples: metrics.validCount), 2)).
    """)

// MARK: - 4.5 Loss per range of t

book.section("4.5 Where the error is: loss per range of t")
let rangeBatches = quick ? 1 : 8
let rangeSeed = seed &+ 45
/// The denoising MSE per range of t on the same fresh images, t and noise for every predictor.
func lossByRange(_ p: @escaping NoisePredictor) -> [Double] {
    DDPMTrainer.lossByTimeRange(p, schedule: schedule, batches: rangeBatches, seed: rangeSeed, batch: shapesBatches(size: size, count: 64))
}
let rangeLoss = lossByRange(predictor)
// The same trained network told a wrong t: always the middle of the schedule, whatever the true t.
let toldMiddle = schedule.steps / 2
let rangeLossWrongT = lossByRange { x, t in predictor(x, [Int](repeating: toldMiddle, count: t.count)) }
book.table(headers: ["t in", "ᾱ_t from … to", "MSE of ε̂ (\(conditioning.rawValue))", "same network, told t = \(toldMiddle) always"],
           rows: DDPMTrainer.standardRanges.enumerated().map { i, r in
               ["[\(r.lowerBound), \(r.upperBound))",
                "\(fmt(Double(schedule.alphaBar[r.lowerBound]), 2)) … \(fmt(Double(schedule.alphaBar[r.upperBound - 1]), 2))",
                fmt(rangeLoss[i]), fmt(rangeLossWrongT[i])]
           })
let wrongRatio = zip(rangeLossWrongT, rangeLoss).map { $0 / $1 }
let wrongT = conditioning == .none
    ? "This network is not told t, so telling it a wrong one changes nothing (right column)."
    : "The right column tells the *trained* network t = \(toldMiddle) whatever the truth: its error grows "
        + wrongRatio.map { fmt($0, 2) + "×" }.joined(separator: " / ")
        + " — it has learnt to rely on t, most where t is far from \(toldMiddle). That shows the network uses t, "
        + "not that it needs it: a network trained without t learns to read the noise level off x_t instead. 4.6 tests that fairly."
book.say("""
    The denoising MSE on fresh images (\(rangeBatches) batches of 64 per range; the same images, t and noise \
    for every column and for every model compared in 4.6). The error is largest where the noise is \
    faintest: to predict a whisper of noise the network must know every edge of the image. For scale, \
    chapter 3's t-blind UNet (plain conv blocks, no residuals) scored 0.080 / 0.028 / 0.014 / 0.0053 on \
    these ranges (its README). \(wrongT)
    """)

// MARK: - 4.6 The comparison

book.section("4.6 No t, t as a number, t embedded")
// First, cheaply: how much does x_t itself say about t? Neighbouring pixels of a Shapes image are
// nearly equal (flat colour on black), while the noise is independent from pixel to pixel, so the
// squared difference of neighbours measures the noise:
//   v(x) = mean over channels, rows and neighbour pairs of (x[c, y, i+1] − x[c, y, i])²
//   E[v(x_t)] = ᾱ_t·v₀ + 2·(1 − ᾱ_t),   v₀ = E[v(x₀)] on clean images
// so 1 − ᾱ_t ≈ (v(x_t) − v₀) / (2 − v₀), and t̂ is the step whose 1 − ᾱ is nearest (exercise 4.4).
/// v(x) for each image of `[B, C, H, W]` -> `[B]`.
func roughness(_ x: Tensor) -> [Double] {
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    return (0..<b).map { n in
        var sum = 0.0
        for row in 0..<(c * h) {
            let base = (n * c * h + row) * w
            for i in 0..<(w - 1) { let d = Double(x.data[base + i + 1] - x.data[base + i]); sum += d * d }
        }
        return sum / Double(c * h * (w - 1))
    }
}
var readRNG = RandomGenerator(seed: seed &+ 46)
let readData = ShapesDataset(size: size, seed: 0)
let readCount = quick ? 32 : 256
let cleanRoughness = roughness(readData.batch(readCount, using: &readRNG).images).reduce(0, +) / Double(readCount)
var readErrors: [Double] = [], blindErrors: [Double] = []
let readRows = DDPMTrainer.standardRanges.map { range -> [String] in
    let x0 = readData.batch(readCount, using: &readRNG).images
    let t = (0..<readCount).map { _ in readRNG.int(in: range) }
    let xt = schedule.addNoise(x0, t: t, noise: Tensor.randn(x0.shape, using: &readRNG))
    let guesses = roughness(xt).map { v -> Int in
        let variance = Float(Swift.min(1, Swift.max(0, (v - cleanRoughness) / (2 - cleanRoughness))))  // 1 − ᾱ̂
        return schedule.alphaBar.indices.min { Swift.abs(1 - schedule.alphaBar[$0] - variance) < Swift.abs(1 - schedule.alphaBar[$1] - variance) }!
    }
    let errors = zip(guesses, t).map { Double(Swift.abs($0 - $1)) }.sorted()
    readErrors.append(errors.reduce(0, +) / Double(readCount))
    blindErrors.append(t.map { Double(Swift.abs($0 - (range.lowerBound + range.upperBound) / 2)) }.reduce(0, +) / Double(readCount))
    return ["[\(range.lowerBound), \(range.upperBound))", fmt(readErrors.last!), fmt(errors[errors.count / 2]),
            fmt(errors[errors.count * 9 / 10]), fmt(blindErrors.last!)]
}
book.table(headers: ["true t in", "mean |t̂ − t|", "median", "90th percentile", "guessing the middle of the range"], rows: readRows)
let readWins = DDPMTrainer.standardRanges.indices.filter { readErrors[$0] < blindErrors[$0] }
    .map { "[\(DDPMTrainer.standardRanges[$0].lowerBound), \(DDPMTrainer.standardRanges[$0].upperBound))" }
book.say("""
    Before the fair comparison, a cheap one: can t be read off x_t without being told? A Shapes image \
    is flat colour on black, so neighbouring pixels are nearly equal, while the noise is independent \
    from pixel to pixel. The mean squared difference of horizontal neighbours, v(x_t), is therefore \
    ≈ ᾱ_t·v₀ + 2(1 − ᾱ_t), with v₀ = \(fmt(cleanRoughness)) measured on \(readCount) clean images; solving for \
    1 − ᾱ_t and taking the step with the nearest ᾱ gives t̂ — a few lines, no network, no training \
    (exercise 4.4). On \(readCount) noisy images per range, t̂ beats guessing the middle of the range in \
    \(readWins.isEmpty ? "no range" : readWins.joined(separator: ", ")). It is sharp where 1 − ᾱ_t changes fast from \
    step to step and loose where it changes slowly and many steps look alike — at the top of the \
    schedule that hardly matters, since there ε̂ ≈ x_t is nearly right whatever t is. A UNet can learn \
    at least this much from x_t, which is why recent work finds denoisers often degrade gracefully \
    without t (Sun et al. 2025, "Is noise conditioning necessary for \
    denoising generative models?").
    """)

if options.run.ablate {
    let study = SeedStudy(first: seed)
    var quality: [[String]] = [], lossRows: [[String]] = []
    var curves: [(TimeConditioning, [Double])] = []
    var meanValidity: [TimeConditioning: (Double, Double)] = [:]
    var gallery: [[Image?]] = []
    var rejected: [TimeConditioning: [ShapeRejection: Int]] = [:]
    for kind in TimeConditioning.allCases {
        // Per seed: valid % and combinations under each sampler, then the MSE in the four ranges of t.
        let results = study.run { s in
            var c = recipe
            (c.conditioning, c.seed) = (kind, s)
            let (m, _) = book.must {
                try c.trainOrLoad(in: book.directory, retrain: options.run.retrain && !(kind == conditioning && s == seed),
                                  label: "train (t: \(kind.rawValue), seed \(s))")
            }
            let first = measure(m.predictor, sampler, count: sampleCount, seed: s &+ 44)
            let a = ShapesMetrics(first.verdicts)
            let b = ShapesMetrics(measure(m.predictor, otherSampler, count: sampleCount, seed: s &+ 44).verdicts)
            rejected[kind, default: [:]].merge(a.rejections, uniquingKeysWith: +)
            if s == seed {
                gallery.append((0..<Swift.min(10, sampleCount)).map { i in
                    captioned(shapeImage(i, of: first.samples), first.verdicts[i].combination?.caption ?? first.verdicts[i].description)
                })
            }
            print("  t: \(kind.rawValue), seed \(s): valid \(fmt(a.validity * 100)) % (\(sampler)), \(fmt(b.validity * 100)) % (\(otherSampler))")
            return [a.validity * 100, Double(a.combinationsSeen), b.validity * 100, Double(b.combinationsSeen)]
                + lossByRange(m.predictor)
        }
        let row = results.row()
        curves.append((kind, (4..<8).map { results.mean($0) }))
        meanValidity[kind] = (results.mean(0), results.mean(2))
        quality.append([kind.rawValue] + row[0..<4])
        lossRows.append([kind.rawValue] + row[4..<8])
    }
    book.table(headers: ["told t as (3 seeds)", "valid %, \(sampler)", "combinations /162", "valid %, \(otherSampler)", "combinations /162"],
               rows: quality)
    book.table(headers: ["told t as (3 seeds)"] + DDPMTrainer.standardRanges.map { "MSE t∈[\($0.lowerBound),\($0.upperBound))" },
               rows: lossRows)
    var rangePlot = Plot(title: "Denoising loss per range of t (3 seeds)", xLabel: "t (middle of the range)",
                         yLabel: "MSE of eps-hat (log scale)", width: 640, height: 400, logY: true, legend: .topRight)
    let middles = DDPMTrainer.standardRanges.map { Double($0.lowerBound + $0.upperBound) / 2 }
    let colors = [Color(200, 60, 40), Color(220, 160, 30), Color(30, 80, 180)]
    for (i, (kind, values)) in curves.enumerated() {
        rangePlot.line("t: \(kind.rawValue)", x: middles, y: values, color: colors[i])
        rangePlot.scatter("", x: middles, y: values, color: colors[i], radius: 3)
    }
    book.figure(rangePlot, name: "comparison.png", caption: "Loss per range of t, mean of 3 seeds, for the three ways of telling t")
    book.figure(ImageGrid(rows: gallery, scale: 1, padding: 4, rowLabels: TimeConditioning.allCases.map { "t: \($0.rawValue)" }).render(),
                    name: "comparison-samples.png",
                    caption: "The first 10 samples (\(sampler)) of each seed-\(seed) model, with the checker's verdicts")
    let gaps = (0..<4).map { i in curves[0].1[i] / curves[2].1[i] }
    let scalarGaps = (0..<4).map { i in curves[1].1[i] / curves[2].1[i] }
    func ratios(_ r: [Double]) -> String { r.map { fmt($0, 3) + "×" }.joined(separator: " / ") }
    func share(_ kind: TimeConditioning, _ which: KeyPath<(Double, Double), Double>) -> String { fmt(meanValidity[kind]![keyPath: which]) + " %" }
    let rejectionLines = TimeConditioning.allCases.map { kind in
        "\(kind.rawValue): " + (rejected[kind] ?? [:]).sorted { $0.value > $1.value }.map { "\($0.key.words) \($0.value)" }.joined(separator: ", ")
    }
    book.say("""
        All nine trained with the same budget (\(recipe.training.steps) steps, batch \(recipe.batch), seeds \
        \(study.list)); each sampled \(sampleCount) times by both samplers from the \
        same x_T, and scored on the same images, t and noise for the loss. Rejected samples, \(sampler), all \
        three seeds together — \(rejectionLines.joined(separator: "; ")).

        Without t the loss is \(ratios(gaps)) the embedding's in the four ranges of t; with t/T it is \
        \(ratios(scalarGaps)): a network not told t still denoises nearly as well. (Sun et al. 2025 report \
        graceful degradation of the samples themselves, by FID, for most of the models they try.) Here the \
        samples are another matter: by \(sampler) the valid share goes \
        from \(share(.none, \.0)) without t to \(share(.scalar, \.0)) with t/T and \(share(.sinusoidal, \.0)) with the \
        embedding; by \(otherSampler) from \(share(.none, \.1)) to \(share(.scalar, \.1)) and \(share(.sinusoidal, \.1)). \
        Sampling chains a few dozen denoising steps, each fed the last one's output — an x_t that is no \
        longer exactly the forward process's — and a small misjudgement of the noise level at each step \
        compounds.
        """)
} else {
    book.say("""
        `--ablate` runs the fair comparison: the same UNet trained with the same budget told nothing, told \
        t/T and told the sinusoidal embedding (3 seeds each, weights cached), compared on validity and \
        coverage under both samplers and on the loss per range of t.
        """)
}

if let mine {
    compareMine(mine, recipe, predictor, seed: seed &+ 49)
    gradeMine(mine, validity: metrics.validity)
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trained.fromCache ? " (weights from the cache)" : ", training included").")
book.save()
