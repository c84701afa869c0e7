// Chapter 5 — Attention: every position of a feature map looks at every other.
//
//   swift run -c release 05-attention [--quick] [--seed N] [--out DIR] [--retrain] [--ablate]
//                                     [--steps N] [--channels N] [--heads N] [--batch N] [--lr X] [--samples N] [--sampling-steps N]
//
// A notebook in seven sections; each prints what it shows and adds it to report.md. The lesson code
// is Sources/Diffusion/SpatialAttention.swift (self-attention over positions, and its pointwise
// control) on top of Sources/NN/Attention.swift (scaled dot-product and multi-head attention); the
// data are Sources/Datasets/PairedShapes.swift. Model.swift beside this file holds the
// configuration and the weight cache.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

let options = ChapterOptions.parse(
    chapter: "05-attention",
    summary: "Chapter 5: self-attention at the UNet's 8×8 and 4×4 feature maps, trained on pairs of shapes that\n"
        + "must share a colour; compared (--ablate) with a pointwise block of the same size.",
    flags: [
        Flag("--steps", value: "N", help: "training steps (default 1500; 40 with --quick)"),
        Flag("--channels", value: "N", help: "base width c of the UNet, a multiple of 8 (default 32; 8 with --quick)"),
        Flag("--heads", value: "N", default: "4", help: "attention heads (must divide 2c)"),
        Flag("--batch", value: "N", help: "training batch size (default 64; 16 with --quick)"),
        Flag("--lr", value: "X", default: "0.002", help: "peak learning rate of Adam"),
        Flag("--samples", value: "N", help: "images sampled for validity and coverage (default 256; 16 with --quick)"),
        Flag("--sampling-steps", value: "N", help: "ancestral sampler steps (default 50; 10 with --quick)"),
    ])
let started = Date()
let config = AttentionConfig(mixing: .attention, channels: options.count("--channels", 32, quick: 8), heads: options.number("--heads"),
                             steps: options.count("--steps", 1500, quick: 40), batch: options.count("--batch", 64, quick: 16),
                             learningRate: options.number("--lr"), emaDecay: 0.999, seed: options.seed)
let sampleCount = options.count("--samples", 256, quick: 16)
guard config.channels > 0, config.channels % 8 == 0 else { options.fail("--channels must be a positive multiple of 8 (GroupNorm(8))") }
guard config.heads > 0, (2 * config.channels) % config.heads == 0 else {
    options.fail("--heads \(config.heads) must divide the attention width 2c = \(2 * config.channels)")
}
guard config.steps > 0, config.batch > 0, config.learningRate > 0, sampleCount > 0 else {
    options.fail("--steps, --batch, --lr and --samples must be positive")
}
let sampler = Sampler(eta: 1, steps: options.count("--sampling-steps", 50, quick: 10))
guard sampler.steps >= 1, sampler.steps <= 1000 else { options.fail("--sampling-steps must be in 1…1000") }
let schedule = NoiseSchedule.linear()
let size = 16
let book = Notebook(directory: options.out, title: "Chapter 5: Attention")
func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }
try FileManager.default.createDirectory(atPath: options.out, withIntermediateDirectories: true)

book.say("""
    Run with seed \(options.seed)\(options.quick ? ", --quick" : ""). Configuration: \(config); samples by \(sampler).
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
    it*: a position over the left edge of the image sees barely past the middle. Attention (Vaswani et al. \
    2017, eq. 1) lets every position read every other in one step, with weights computed from the content:
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
var dataRNG = RandomGenerator(seed: options.seed &+ 52)
let preview = paired.batch(16, using: &dataRNG)
let previewCells = (0..<16).map { captioned(shapeImage($0, of: preview.images), preview.pairs[$0].description) }
try book.figure(ImageGrid(images: previewCells, columns: 8, scale: 1, padding: 4).render(), name: "data.png",
                caption: "16 training images (×4): a shape in the left column and one in the right column, always of one colour")
book.say("""
    Chapter 4's images held one shape, which a UNet can draw from local evidence. Here each image holds two, \
    one in the left column and one in the right column of the 3×3 grid, with shape and row chosen \
    independently — and **one colour for both** (6 × 3 × 3 × 3 × 3 = 486 pairs; `PairedShapesDataset`). \
    The two shapes are 6–11 pixels apart, so the colour at one must be decided knowing the colour at the \
    other. The checker reads each half with chapter 3's single-shape checker: a sample is *valid* if each \
    half holds a clean shape in its column, and *keeps the rule* if the two colours agree.
    """)

// MARK: - 5.3 Training

book.section("5.3 Training the UNet with attention")
var countRNG = RandomGenerator(seed: 0)
let counts = PositionMixing.allCases.map { m -> [String] in
    [m.rawValue, String(TimeUNet(channels: config.channels, conditioning: .sinusoidal, mixing: m, heads: config.heads, using: &countRNG).parameterCount)]
}
book.table(headers: ["after the 8×8 and 4×4 blocks", "parameters"], rows: counts)
let model: TimeUNet, trained: TrainingRecord
do {
    (model, trained) = try trainOrLoad(config, directory: options.out, retrain: options.retrain)
} catch {
    FileHandle.standardError.write(Data("05-attention: \(error)\n".utf8))
    exit(1)
}
let predictor = model.predictor
if trained.fromCache {
    book.say("Loaded cached weights from \(trained.fileName) (trained earlier in \(seconds(trained.seconds))); --retrain trains again.")
} else {
    book.say("""
        Chapter 4's UNet (sinusoidal time embedding, AdaGN residual blocks) with \(config.heads)-head self-attention, \
        trained \(config.steps) steps of batch \(config.batch) on fresh paired images in \(seconds(trained.seconds)) \
        (\(fmt(trained.millisecondsPerStep)) ms per step); weights saved to \(trained.fileName). The control of 5.7 \
        replaces each attention block by a per-position MLP of the same size (`PointwiseMLP`): same place, same \
        normalisation and residual, no looking elsewhere.
        """)
}
try book.lossFigure(trained.losses)

// MARK: - 5.4 Samples

book.section("5.4 Samples: valid pairs, and do they share a colour?")
func samplePairs(_ p: @escaping NoisePredictor, count: Int, seed: UInt64) -> (Tensor, [PairDescription], Double) {
    var rng = RandomGenerator(seed: seed)
    let start = Date()
    let x = clipped(sampler.sample(p, shape: [count, 3, size, size], schedule: schedule, using: &rng))
    return (x, PairedShapesDataset.describe(batch: x), Date().timeIntervalSince(start))
}
let (samples, verdicts, samplingSeconds) = samplePairs(predictor, count: sampleCount, seed: options.seed &+ 54)
let metrics = PairMetrics(verdicts)
// samples/NNN-<pair or "sample">.png and verdicts.csv
let folder = (options.out as NSString).appendingPathComponent("samples")
try? FileManager.default.removeItem(atPath: folder)
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
var csv: [[String]] = []
for i in 0..<sampleCount {
    let name = String(format: "%03d-", i) + (verdicts[i].pair?.description ?? "sample").replacingOccurrences(of: " ", with: "-") + ".png"
    try shapeImage(i, of: samples).writePNG(to: (folder as NSString).appendingPathComponent(name))
    csv.append([String(i), "samples/" + name, verdicts[i].isValid ? "valid" : "invalid", verdicts[i].keepsRule ? "yes" : "no",
                verdicts[i].description])
}
try writeCSV((options.out as NSString).appendingPathComponent("verdicts.csv"),
             header: ["index", "file", "valid", "same colour", "verdict"], rows: csv)
let cells = (0..<min(64, sampleCount)).map { captioned(shapeImage($0, of: samples), verdicts[$0].description) }
try book.figure(ImageGrid(images: cells, columns: 8, scale: 1, padding: 4).render(), name: "samples.png",
                caption: "\(cells.count) samples (\(sampler)), each with the checker's verdict")
book.table(headers: ["measure", "value"], rows: [
    ["valid (a clean shape in each half)", "\(fmt(metrics.validity * 100)) % (\(metrics.validCount)/\(metrics.count))"],
    ["of those, same colour (the rule)", "\(fmt(metrics.ruleKept * 100)) % (\(metrics.ruleKeptCount)/\(metrics.validCount))"],
    ["pairs covered", "\(metrics.pairsSeen)/486"],
    ["colours · left shapes · right shapes", "\(metrics.colorsSeen)/6 · \(metrics.leftSeen)/54 · \(metrics.rightSeen)/54"],
    ["sampling time", seconds(samplingSeconds)],
])
let expectedPairs = 486 * (1 - pow(1 - 1 / 486.0, Double(metrics.ruleKeptCount)))
book.say("""
    \(metrics). A model that drew each half's colour on its own would keep the rule one time in six \
    (17 %). Coverage is limited by the sample size: \(metrics.ruleKeptCount) rule-keeping pairs drawn \
    uniformly from 486 would cover \(fmt(expectedPairs)) of them on average. Every image is in samples/, the \
    verdicts in [verdicts.csv](verdicts.csv).
    """)

// MARK: - 5.5 Attention maps

book.section("5.5 Where a position looks: attention maps on a sample")
// A valid sample, noised a little (t = 100) and passed through the network up to the first attention block.
let shownIndex = verdicts.firstIndex(where: \.keepsRule) ?? 0
let probeT = 100
var probeRNG = RandomGenerator(seed: options.seed &+ 55)
let one = Tensor(ShapesDataset.image(shownIndex, of: samples), shape: [1, 3, size, size])
let probe = schedule.addNoise(one, t: [probeT], noise: Tensor.randn(one.shape, using: &probeRNG))
let weights: Tensor = withoutGradients {
    let emb = model.time!([probeT])
    let s1 = model.down1(model.stem(probe), emb)
    let h = model.down2(s1.avgPool2x2(), emb)                              // [1, 2c, 8, 8]
    return (model.attentionDown2 as! SpatialSelfAttention).attend(h).weights  // [1, heads, 64, 64]
}
// The query: the 8×8 cell over the centre of the left shape (the lit pixels of the left half).
var sx = 0.0, sy = 0.0, lit = 0.0
let pixels = ShapesDataset.image(shownIndex, of: samples)
for y in 0..<size {
    for x in 0..<(size / 2) {
        let brightest = Swift.max(pixels[y * size + x], pixels[(size + y) * size + x], pixels[(2 * size + y) * size + x])
        if brightest > 0 { sx += Double(x); sy += Double(y); lit += 1 }
    }
}
let qx = lit > 0 ? Int(sx / lit) / 2 : 1, qy = lit > 0 ? Int(sy / lit) / 2 : 3
let query = qy * 8 + qx
var sampleImage = shapeImage(shownIndex, of: samples).upscaled(by: 8)       // 128×128, one 8×8 cell = 16 px
for i in 0..<16 {                                                          // outline the query cell in white
    for (x, y) in [(qx * 16 + i, qy * 16), (qx * 16 + i, qy * 16 + 15), (qx * 16, qy * 16 + i), (qx * 16 + 15, qy * 16 + i)] {
        sampleImage.setPixel(x: x, y: y, .white)
    }
}
var maps: [Image] = [sampleImage]
var farShares: [Double] = []
for head in 0..<config.heads {
    let row = Array(weights.data[((head * 64) + query) * 64..<((head * 64) + query + 1) * 64])
    let peak = row.max()!
    maps.append(Image(width: 8, height: 8, channels: 1, floats: row.map { $0 / peak }, range: 0...1).upscaled(by: 16))
    var far: Float = 0
    for position in 0..<64 where position % 8 >= 4 { far += row[position] }  // columns 4…7: the right half
    farShares.append(Double(far))
}
try book.figure(ImageGrid(rows: [maps.map { Optional($0) }], scale: 1, padding: 6,
                          columnLabels: ["sample, query cell"] + (0..<config.heads).map { "head \($0 + 1)" },
                          title: "attention weights of one 8x8 position (t = \(probeT))").render(),
                name: "attention.png", caption: "Where the outlined position of the left shape looks, per head (white: the most weight)")
book.say("""
    Sample \(shownIndex) (\(verdicts[shownIndex].description)), noised to t = \(probeT) and run up to the first \
    attention block (after down2, 8×8). The outlined cell sits on the left shape; each map is its row of \
    softmax(QKᵀ/√d) for one head, scaled so the largest weight is white. Share of each head's weight on the \
    right half of the image, where the other shape is: \(farShares.map { fmt($0 * 100) + " %" }.joined(separator: ", ")) \
    (uniform attention would put 50 % there).
    """)

// MARK: - 5.6 Loss per range of t

book.section("5.6 Loss per range of t")
let rangeBatches = options.quick ? 1 : 8
let rangeLoss = DDPMTrainer.lossByTimeRange(predictor, schedule: schedule, batches: rangeBatches, seed: options.seed &+ 56,
                                            batch: pairedBatch(count: 64))
book.table(headers: ["t in", "MSE of ε̂ (attention)"],
           rows: DDPMTrainer.standardRanges.enumerated().map { ["[\($1.lowerBound), \($1.upperBound))", fmt(rangeLoss[$0])] })
book.say("The denoising MSE on fresh paired images (\(rangeBatches) batches of 64 per range; the same data, t and noise for 5.7's models).")

// MARK: - 5.7 With and without attention (--ablate)

book.section("5.7 With and without attention, at equal size\(options.ablate ? "" : " (run with --ablate)")")
if options.ablate {
    let seeds: [UInt64] = [options.seed, options.seed + 1, options.seed + 2]
    var rows: [[String]] = []
    for mixing in [PositionMixing.attention, .pointwise] {
        var valid: [Double] = [], rule: [Double] = [], pairs: [Double] = [], ranges: [[Double]] = []
        for s in seeds {
            var c = config
            c.mixing = mixing
            c.seed = s
            let (m, _) = try trainOrLoad(c, directory: options.out, retrain: options.retrain)
            let (_, v, _) = samplePairs(m.predictor, count: sampleCount, seed: s &+ 54)
            let pm = PairMetrics(v)
            valid.append(pm.validity * 100); rule.append(pm.ruleKept * 100); pairs.append(Double(pm.pairsSeen))
            ranges.append(DDPMTrainer.lossByTimeRange(m.predictor, schedule: schedule, batches: rangeBatches, seed: options.seed &+ 56,
                                                      batch: pairedBatch(count: 64)))
            print("  \(mixing.rawValue), seed \(s): \(pm)")
        }
        rows.append([mixing == .attention ? "self-attention" : "pointwise MLP (control)", meanAndSD(valid), meanAndSD(rule), meanAndSD(pairs)]
                    + (0..<4).map { i in meanAndSD(ranges.map { $0[i] }) })
    }
    book.table(headers: ["after the 8×8 and 4×4 blocks (3 seeds)", "valid %", "same colour % of valid", "pairs /486"]
                   + DDPMTrainer.standardRanges.map { "MSE t∈[\($0.lowerBound),\($0.upperBound))" }, rows: rows)
    book.say("""
        Same budget (\(config.steps) steps, batch \(config.batch)), seeds \(seeds.map(String.init).joined(separator: ", ")), \
        \(sampleCount) samples each by \(sampler); parameter counts as in 5.3.
        """)
} else {
    book.say("`--ablate` trains the same UNet with a pointwise MLP of the same size in place of each attention block (3 seeds each, cached) and compares validity, the share keeping the rule, coverage and the loss per range of t.")
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trained.fromCache ? " (weights from the cache)" : ", training included").")
try book.save()
