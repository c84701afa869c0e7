// Chapter 5 — Attention: every position of a feature map looks at every other.
//
//   swift run -c release 05-attention [--quick] [--seed N] [--out DIR] [--retrain] [--ablate] [--mixing KIND]
//                                     [--train-steps N] [--channels N] [--heads N] [--batch N] [--lr X] [--samples N]
//                                     [--eta X] [--sampling-steps N]
//
// A notebook in seven sections; each prints what it shows and adds it to report.md. The lesson code
// is Sources/Diffusion/SpatialAttention.swift (self-attention over positions, and the controls of
// its size that do not mix positions) on top of Sources/NN/Attention.swift (scaled dot-product and multi-head attention); the
// data are Sources/Datasets/PairedShapes.swift. Model.swift beside this file holds the
// command line and the recipe of the trained UNet.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

let options = Options.parseOrExit()
let started = Date()
let mixing = options.mixing
let recipe = options.recipe
let sampleCount = options.sampleCount
let sampler = options.sampler
let seed = options.common.seed, quick = options.common.quick
let schedule = NoiseSchedule.linear()
let size = 16
let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 5: Attention")
func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }

book.say("""
    Run with seed \(seed)\(quick ? ", --quick" : ""). Recipe: \(recipe.summary); samples by \(sampler).
    """)

// MARK: - 5.1 Attention

book.section("5.1 Attention: every position looks at every other")
// Receptive field of one position after each stage of the down path (as in chapter 3's UNet.receptiveField):
// a 3×3 conv at a stage whose pixels are `jump` input pixels apart widens it by 2·jump, a 2×2 pool by jump.
var field = 1, jump = 1
var fieldRows: [[String]] = []
func conv(_ n: Int, _ stage: String) { field += 2 * jump * n; fieldRows.append([stage, "\(size / jump)×\(size / jump)", "\(field)×\(field) px"]) }
conv(1, "stem conv")
conv(2, "down1 (2 convs)")
field += jump; jump *= 2
conv(2, "down2 (2 convs) — attention here")
let fieldAtAttention = field
field += jump; jump *= 2
conv(2, "middle (2 convs) — and here")
book.table(headers: ["stage", "feature map", "receptive field of one position"], rows: fieldRows)
book.say("""
    A convolution mixes each pixel with its 3×3 neighbours; stacked, they see further, but slowly. At the \
    8×8 map after down2 one position sees \(fieldAtAttention)×\(fieldAtAttention) input pixels *centred on \
    it*. The two shapes' near edges are only 1–3 px apart, so from most positions on the left shape the window \
    reaches into the right shape, but from none does it cover the whole of it, and from the left shape's outer \
    side it sees little or none of it. \
    Only the 4×4 middle block's convolutions span the whole image. Attention (Vaswani et al. 2017, eq. 1) \
    lets every position read every other in one step, with weights computed from the content:
    ```
    X = GN(h) as a sequence of H·W tokens of width C      [B, C, 8, 8] -> [B, 64, C]
    Q = X·W_Q,  K = X·W_K,  V = X·W_V                       per head, width d = C/heads
    Attention(Q, K, V) = softmax(Q·Kᵀ/√d)·V                  eq. (1): row q of the softmax says where position q looks
    MultiHead(X) = Concat(head₁, …, head_h)·W_O              §3.2.2
    out = h + MultiHead(X) back as [B, C, 8, 8]              a residual block; W_O starts at 0
    ```
    The softmax is computed stably (the row's maximum subtracted first: the same result, no overflow). \
    The scores cost (H·W)² per head — 4,096 pairs at 8×8 — so attention goes where the map is small: here \
    after down2 (8×8), after the middle block (4×4) and after up2 (8×8) (`TimeUNet(mixing: .attention)`, \
    `SpatialSelfAttention` in Sources/Diffusion/SpatialAttention.swift).
    """)

// MARK: - 5.2 The data

book.section("5.2 The data: two shapes that must share a colour")
let paired = PairedShapesDataset()
var dataRNG = RandomGenerator(seed: seed &+ 52)
let preview = paired.batch(16, using: &dataRNG)
let previewCells = (0..<16).map { captioned(shapeImage($0, of: preview.images), preview.pairs[$0].description) }
book.figure(ImageGrid(images: previewCells, columns: 8, scale: 1, padding: 4).render(), name: "data.png",
                caption: "16 training images (×4): a shape in the left column and one in the right column, always of one colour")
book.say("""
    Chapter 4's images held one shape, which a UNet can draw from local evidence. Here each image holds two, \
    one in the left column and one in the right column of the 3×3 grid, with shape and row chosen \
    independently — and **one colour for both** (6 × 3 × 3 × 3 × 3 = 486 pairs; `PairedShapesDataset`). \
    The two shapes' centres are 8–14 pixels apart and they never touch, so the colour drawn at one must \
    be decided knowing the colour at the other. The checker reads each half with chapter 3's single-shape checker: a sample is *valid* if each \
    half holds a clean shape in its column, and *keeps the rule* if the two colours agree.
    """)

// MARK: - 5.3 Training

book.section("5.3 Training the UNet with attention")
/// What each choice of `--mixing` puts after the 8×8 and 4×4 blocks.
func blockName(_ m: PositionMixing) -> String {
    switch m {
    case .none: return "nothing (chapter 4's UNet)"
    case .attention: return "self-attention: GN, Q K V O, softmax over all positions"
    case .positionwise: return "control: GN, the same Q K V O, each position alone"
    case .pointwise: return "control: GN, a C→2C→C MLP per position"
    }
}
var countRNG = RandomGenerator(seed: 0)
let parameterCount = Dictionary(uniqueKeysWithValues: PositionMixing.allCases.map { m in
    (m, TimeUNet(channels: recipe.channels, conditioning: .sinusoidal, mixing: m, heads: recipe.heads, using: &countRNG).parameterCount)
})
book.table(headers: ["--mixing", "after the 8×8 and 4×4 blocks", "parameters"],
           rows: [PositionMixing.none, .attention, .positionwise, .pointwise].map { [$0.rawValue, blockName($0), String(parameterCount[$0]!)] })
// With --mine the learner's block runs at every attention site, in training and sampling; nothing is cached.
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
if let mine { installMine(mine) }
let (model, trained) = mine != nil
    ? book.must("--mine") { try recipe.trainUncached(label: "train (your attention block)") { try recipe.train($0, progress: $1) } }
    : book.must { try recipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train (\(mixing.rawValue), seed \(seed))") }
let predictor = model.predictor
book.say("""
    Chapter 4's UNet (sinusoidal time embedding, AdaGN residual blocks) with \
    \(recipe.mixing == .attention ? "\(recipe.heads)-head self-attention" : "`--mixing \(recipe.mixing.rawValue)`") after \
    down2, the middle block and up2, trained by chapter 3's `DDPMTrainer` (Adam, peak learning rate \
    \(recipe.training.learningRate), warm-up then cosine decay, EMA \(recipe.training.emaDecay)) for \(recipe.training.steps) steps of \
    batch \(recipe.batch), on fresh paired images every step. The controls of 5.7 keep everything but the \
    mixing: `PositionwiseMixer` holds *the same* GroupNorm and Q, K, V, O maps as attention (the same \
    \(parameterCount[.attention]!) parameters) but lets each position attend only to itself — its own score \
    σ(q·k/√d) gates its own value, per head; `PointwiseMLP` is a per-position MLP of nearly the same size.
    """)
if trained.fromCache {
    book.say("Loaded cached weights from \(trained.fileName) (trained earlier in \(seconds(trained.seconds))); --retrain trains again.")
} else {
    book.say("""
        Trained in \(seconds(trained.seconds)) (\(fmt(trained.millisecondsPerStep)) ms per step); \
        \(mine == nil ? "weights saved to \(trained.fileName)." : "with your attention block (`--mine` caches nothing).")
        """)
}
let curve = book.lossFigure(trained.losses)
book.say("""
    The running mean falls from \(fmt(curve.first)) to \(fmt(curve.last)) \
    (a network that predicts ε̂ = 0 scores 1).
    """)

// MARK: - 5.4 Samples

book.section("5.4 Samples: valid pairs, and do they share a colour?")
func samplePairs(_ p: @escaping NoisePredictor, count: Int, seed: UInt64) -> (Tensor, [PairDescription], Double) {
    var rng = RandomGenerator(seed: seed)
    let start = Date()
    let x = clipped(sampler.sample(p, shape: [count, 3, size, size], schedule: schedule, using: &rng))  // [N, 3, 16, 16]
    return (x, PairedShapesDataset.describe(batch: x), Date().timeIntervalSince(start))
}
let (samples, verdicts, samplingSeconds) = samplePairs(predictor, count: sampleCount, seed: seed &+ 54)
let metrics = PairMetrics(verdicts)
// samples/NNN-<pair or "sample">.png and verdicts.csv
book.must {
    try writeSamples(samples, labels: verdicts.map { $0.pair?.description ?? "sample" }, header: ["valid", "same colour", "verdict"],
                     rows: verdicts.map { [$0.isValid ? "valid" : "invalid", $0.keepsRule ? "yes" : "no", $0.description] },
                     to: book.directory)
}
let cells = (0..<min(64, sampleCount)).map { captioned(shapeImage($0, of: samples), verdicts[$0].description) }
book.figure(ImageGrid(images: cells, columns: 8, scale: 1, padding: 4).render(), name: "samples.png",
                caption: "\(cells.count) samples (\(sampler)), each with the checker's verdict")
book.table(headers: ["measure", "value"], rows: [
    ["valid (a clean shape in each half)", "\(fmt(metrics.validity * 100)) % (\(metrics.validCount)/\(metrics.count))"],
    ["of those, same colour (the rule)", "\(fmt(metrics.ruleKept * 100)) % (\(metrics.ruleKeptCount)/\(metrics.validCount))"],
    ["pairs covered", "\(metrics.pairsSeen)/486"],
    ["colours · left shapes · right shapes", "\(metrics.colorsSeen)/6 · \(metrics.leftSeen)/54 · \(metrics.rightSeen)/54"],
    ["TV of the left and right shapes' mix from uniform (floor at this n)", "\(fmt(metrics.totalVariation)) (\(fmt(metrics.expectedTV)))"],
    ["sampling time", seconds(samplingSeconds)],
])
let expectedPairs = 486 * (1 - pow(1 - 1 / 486.0, Double(metrics.ruleKeptCount)))
let invalidReasons = Dictionary(grouping: verdicts.filter { !$0.isValid }) { v -> String in
    !v.left.isValid && !v.right.isValid ? "both halves" : !v.left.isValid ? "left half" : !v.right.isValid ? "right half" : "wrong columns"
}.map { "\($0.key) \($0.value.count)" }.sorted().joined(separator: ", ")
book.say("""
    \(metrics). A model that drew each half's colour on its own would keep the rule one time in six \
    (17 %). Coverage is limited by the sample size: \(metrics.ruleKeptCount) rule-keeping pairs drawn \
    uniformly from 486 would cover \(fmt(expectedPairs)) of them on average, and a perfect sampler of \
    \(metrics.validCount) valid pairs would score TV ≈ \(fmt(metrics.expectedTV)) over the 54 left and 54 right \
    shapes. Invalid samples, by the half that failed: \(invalidReasons.isEmpty ? "none" : invalidReasons). \
    Every image is in samples/, the verdicts in [verdicts.csv](verdicts.csv).
    """)

// MARK: - 5.5 Attention maps

book.section("5.5 Where a position looks: attention maps")
/// The 8×8 cells (index y·8 + x) under one half's shape in image `chw`: a cell is lit if any of its
/// 2×2 pixels is brighter than mid-grey in some channel.
func shapeCells(_ chw: [Float], left: Bool) -> [Int] {
    (0..<64).filter { cell in
        let cx = cell % 8, cy = cell / 8
        guard (cx < 4) == left else { return false }
        for c in 0..<3 { for dy in 0..<2 { for dx in 0..<2 where chw[(c * size + 2 * cy + dy) * size + 2 * cx + dx] > 0 { return true } } }
        return false
    }
}
/// The cell nearest the centre of one half's shape.
func centreCell(_ cells: [Int]) -> Int {
    let mx = Double(cells.map { $0 % 8 }.reduce(0, +)) / Double(cells.count), my = Double(cells.map { $0 / 8 }.reduce(0, +)) / Double(cells.count)
    return cells.min { a, b in
        pow(Double(a % 8) - mx, 2) + pow(Double(a / 8) - my, 2) < pow(Double(b % 8) - mx, 2) + pow(Double(b / 8) - my, 2)
    }!
}
let probeT = 100
if let block = model.attentionDown2 as? SpatialSelfAttention {
    // 64 fresh paired images, noised a little (t = 100) and run up to the first attention block.
    var probeRNG = RandomGenerator(seed: seed &+ 55)
    let probes = paired.batch(64, using: &probeRNG)
    let clean = probes.images                                                      // [64, 3, 16, 16]
    let noisy = schedule.addNoise(clean, t: [Int](repeating: probeT, count: 64), noise: Tensor.randn(clean.shape, using: &probeRNG))
    let weights: Tensor = withoutGradients {
        let emb = model.time!([Int](repeating: probeT, count: 64))
        let h = model.down2(model.down1(model.stem(noisy), emb).avgPool2x2(), emb)  // [64, 2c, 8, 8]
        return block.attend(h).weights                                             // [64, heads, 64, 64]
    }
    /// Row `query` of head `head`'s weights for probe `n`: where that position looks (64 numbers summing to 1).
    func row(_ n: Int, _ head: Int, _ query: Int) -> ArraySlice<Float> {
        let start = ((n * recipe.heads + head) * 64 + query) * 64
        return weights.data[start..<start + 64]
    }
    do {
        // The figure: the first image, a query on each shape, each head's row as an 8×8 map.
        let pixels = ShapesDataset.image(0, of: clean)
        var figureRows: [[Image?]] = []
        for left in [true, false] {
            let query = centreCell(shapeCells(pixels, left: left))
            let qx = (query % 8) * 16, qy = (query / 8) * 16
            var picture = shapeImage(0, of: clean).upscaled(by: 8)             // 128×128: one 8×8 cell = 16 px
            picture.strokeRect(x: qx, y: qy, width: 16, height: 16, .white)
            picture.strokeRect(x: qx + 1, y: qy + 1, width: 14, height: 14, .white)
            var cellsOfRow: [Image?] = [picture]
            for head in 0..<recipe.heads {
                let r = row(0, head, query), peak = r.max()!
                var map = Image(width: 8, height: 8, channels: 1, floats: r.map { $0 / peak }, range: 0...1).upscaled(by: 16).rgb()
                map.strokeRect(x: qx, y: qy, width: 16, height: 16, .red)
                map.strokeRect(x: qx + 1, y: qy + 1, width: 14, height: 14, .red)
                cellsOfRow.append(map)
            }
            figureRows.append(cellsOfRow)
        }
        book.figure(ImageGrid(rows: figureRows, scale: 1, padding: 6, rowLabels: ["query: left", "query: right"],
                                  columnLabels: ["sample"] + (0..<recipe.heads).map { "head \($0 + 1)" },
                                  title: "attention weights of one 8x8 position (t = \(probeT))").render(),
                        name: "attention.png",
                        caption: "Where the outlined position of a training image (on the left shape, then on the right one) looks, per head; white: the head's largest weight")
        book.say("""
            A training image (\(probes.pairs[0])), noised to t = \(probeT) and run up to the first \
            attention block (after down2, 8×8). Top row: a query on the left shape; bottom row: on the right \
            shape. Each map is the query's row of softmax(QKᵀ/√d) for one head, scaled so its largest weight \
            is white; the red square marks the query itself.
            """)
    }
    // Over all the probes: how much of a shape's attention lands on the *other* shape, per head.
    var rows: [[String]] = []
    for head in 0..<recipe.heads {
        var leftToRight = 0.0, rightToLeft = 0.0, area = 0.0, n = 0.0
        for probe in 0..<64 {
            let pixels = ShapesDataset.image(probe, of: clean)
            let l = shapeCells(pixels, left: true), r = shapeCells(pixels, left: false)
            guard !l.isEmpty, !r.isEmpty else { continue }
            leftToRight += l.map { q in Double(r.map { row(probe, head, q)[row(probe, head, q).startIndex + $0] }.reduce(0, +)) }
                .reduce(0, +) / Double(l.count)
            rightToLeft += r.map { q in Double(l.map { row(probe, head, q)[row(probe, head, q).startIndex + $0] }.reduce(0, +)) }
                .reduce(0, +) / Double(r.count)
            area += Double(l.count + r.count) / 2 / 64
            n += 1
        }
        rows.append(["head \(head + 1)", "\(fmt(leftToRight / n * 100)) %", "\(fmt(rightToLeft / n * 100)) %", "\(fmt(area / n * 100)) %"])
    }
    book.table(headers: ["over 64 paired images", "left shape → right shape", "right shape → left shape",
                         "uniform attention"], rows: rows)
    book.say("""
        The share of a shape's attention (averaged over its cells) that lands on the cells of the *other* \
        shape, per head, against what attending uniformly would give (the other shape's share of the 64 \
        cells). A head far above the last column reads across the image, from one shape to the other.
        """)
} else {
    book.say("This run has no attention (`--mixing \(recipe.mixing.rawValue)`), so there are no attention maps to draw.")
}

// MARK: - 5.6 Loss per range of t

book.section("5.6 Loss per range of t")
let rangeBatches = quick ? 1 : 8
let rangeSeed = seed &+ 56
func lossByRange(_ p: @escaping NoisePredictor) -> [Double] {
    DDPMTrainer.lossByTimeRange(p, schedule: schedule, batches: rangeBatches, seed: rangeSeed, batch: pairedShapesBatches(count: 64))
}
let rangeLoss = lossByRange(predictor)
book.table(headers: ["t in", "ᾱ_t from … to", "MSE of ε̂ (\(recipe.mixing.rawValue))"],
           rows: DDPMTrainer.standardRanges.enumerated().map { i, r in
               ["[\(r.lowerBound), \(r.upperBound))",
                "\(fmt(Double(schedule.alphaBar[r.lowerBound]), 2)) … \(fmt(Double(schedule.alphaBar[r.upperBound - 1]), 2))",
                fmt(rangeLoss[i])]
           })
book.say("""
    The denoising MSE on fresh paired images (\(rangeBatches) batches of 64 per range; the same data, t and \
    noise for every model of 5.7). Whether the two colours agree is decided early in sampling, at large t, \
    when the image is mostly noise; the fine edges at small t are local work.
    """)

// MARK: - 5.7 With and without attention (--ablate)

book.section("5.7 With and without attention, at equal size\(options.run.ablate ? "" : " (run with --ablate)")")
let arms: [PositionMixing] = [.attention, .positionwise, .pointwise]
if options.run.ablate {
    let ablateStart = Date()
    let study = SeedStudy(first: seed)
    var rows: [[String]] = []
    var ruleOf: [PositionMixing: Double] = [:]
    for mixing in arms {
        // Per seed: valid %, same colour % of valid, pairs seen, TV, then the MSE in the four ranges of t.
        let results = study.run { s in
            var c = recipe
            (c.mixing, c.seed) = (mixing, s)
            let (m, _) = book.must {
                try c.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train (\(mixing.rawValue), seed \(s))")
            }
            let pm = PairMetrics(samplePairs(m.predictor, count: sampleCount, seed: s &+ 54).1)
            print("  \(mixing.rawValue), seed \(s): \(pm)")
            return [pm.validity * 100, pm.ruleKept * 100, Double(pm.pairsSeen), pm.totalVariation] + lossByRange(m.predictor)
        }
        ruleOf[mixing] = results.mean(1)
        rows.append([mixing.rawValue, String(parameterCount[mixing]!)] + results.row())
    }
    book.table(headers: ["--mixing (3 seeds, mean ± sd)", "parameters", "valid %", "same colour % of valid", "pairs /486", "TV"]
                   + DDPMTrainer.standardRanges.map { "MSE t∈[\($0.lowerBound),\($0.upperBound))" }, rows: rows)
    book.say("""
        Same budget (\(recipe.training.steps) steps, batch \(recipe.batch)), seeds \(study.list), \
        \(sampleCount) samples each by \(sampler); the MSE columns on the same images, t and noise for every model. \
        Of the valid pairs, attention keeps the rule in \(fmt(ruleOf[.attention]!)) %, the positionwise \
        control (the same parameters, no mixing) in \(fmt(ruleOf[.positionwise]!)) % and the pointwise MLP \
        in \(fmt(ruleOf[.pointwise]!)) %. \(study.seeds.count * arms.count) trainings (cached in the output folder) \
        and their evaluation took \(seconds(Date().timeIntervalSince(ablateStart))).
        """)
} else {
    book.say("""
        `--ablate` trains the same UNet with each of the two controls in place of attention (`--mixing \
        positionwise`: the same parameters, no mixing of positions; `--mixing pointwise`: a per-position MLP), \
        3 seeds each (cached), and compares validity, the share keeping the rule, coverage and the loss per range of t.
        """)
}

if let mine {
    compareMine(mine, recipe, predictor, seed: seed &+ 59)
    gradeMine(mine, metrics: metrics)
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trained.fromCache ? " (weights from the cache)" : ", training included").")
book.save()
