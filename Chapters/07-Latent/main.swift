// Chapter 7 — Latent diffusion: an autoencoder with Stable Diffusion's 48× compression, and chapter 6's
// text-to-image model trained on its latents.
//
//   swift run -c release 07-latent [--quick] [--seed N] [--out DIR] [--retrain] [--ablate] [--mine]
//                                  [--autoencoder-steps N] [--beta X] [--train-steps N] [--channels N] [--batch N]
//                                  [--lr X] [--samples N] [--sampling-steps N] [--eta X] [--predict velocity|epsilon]
//                                  [--guidance W]
//
// A notebook in eight sections; each prints what it shows and adds it to report.md. The lesson code is
// Sources/Diffusion/Autoencoder.swift (the autoencoder, its KL-regularised latent, the scale factor) and
// Sources/Diffusion/LatentDiffusion.swift (sampling in the latent, image-to-image, negative prompts,
// interpolation). Model.swift beside this file holds the command line, the recipes and the latent set.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

let options = Options.parseOrExit()
let started = Date()
let tokenizer = Tokenizer.shapes
let seed = options.common.seed, quick = options.common.quick
let sampler = options.sampler
let schedule = NoiseSchedule.linear()
let perScale = options.perScale
func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }
func percent(_ v: Double) -> String { fmt(v * 100) + " %" }
func ms(_ v: Double) -> String { String(format: v < 0.01 ? "%.2f ms" : "%.0f ms", v * 1000) }

let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 7: Latent diffusion")
book.say("Run with seed \(seed)\(quick ? ", --quick" : ""). Samples by \(sampler).")

// MARK: - 7.1 Shapes at 64×64

book.section("7.1 Shapes at 64×64")
let data = shapesData()
var exampleRNG = RandomGenerator(seed: seed &+ 71)
let (examples, exampleSpecs) = data.batch(8, using: &exampleRNG)
book.figure(ImageGrid(images: (0..<8).map { shapeImage($0, of: examples) }, columns: 8, scale: 2, padding: 4,
                      columnLabels: exampleSpecs.map(\.caption)).render(),
            name: "data.png", caption: "Eight training images at 64×64 with their captions")
/// The checker's accuracy on `count` fresh images of side `side`, clean and noised (x + σ·ε).
func checkerAccuracy(side: Int, sigma: Float, count: Int) -> Double {
    var rng = RandomGenerator(seed: seed &+ 72)
    let (images, specs) = ShapesDataset(size: side, seed: 0).batch(count, using: &rng)
    let noisy = sigma == 0 ? images : images + Tensor.randn(images.shape, using: &rng) * sigma
    let verdicts = ShapesChecker.describe(batch: clipped(noisy))
    return Double(zip(verdicts, specs).filter { $0.0.combination == $0.1.combination }.count) / Double(count)
}
let checkCount = quick ? 20 : 300
let sigmas: [Float] = [0, 0.1, 0.2]
book.table(headers: ["images"] + sigmas.map { $0 == 0 ? "clean" : "noised, σ = \(fmt(Double($0), 2))" },
           rows: [16, 64].map { side in ["\(side)×\(side)"] + sigmas.map { percent(checkerAccuracy(side: side, sigma: $0, count: checkCount)) } })
book.say("""
    The data are chapter 6's Shapes with the same captions — colour, shape, position — drawn at 64×64, so that \
    every measure of chapter 6 carries over and pixels and latents can be compared like for like. They are \
    not 16×16 images blown up: the renderer works in fractions of the image side, the shape's size \
    (0.4–0.5 of the side) and its centre (anywhere in its cell) vary continuously, and each pixel is the \
    share of a 4 × 4 grid of sub-samples the shape covers, so the edges are anti-aliased at 64×64 as they were \
    at 16×16: a circle's rim is a smooth ramp one pixel wide, not a staircase of 4-pixel blocks. The table \
    gives the share of \(checkCount) fresh images the Shapes checker reads as their captions, clean and with \
    Gaussian noise added: the checker reads 64×64 as well as 16×16, so it can grade this chapter's samples.
    """)

// MARK: - 7.2 The autoencoder

book.section("7.2 An autoencoder with Stable Diffusion's compression")
let aeRecipe = options.autoencoderRecipe
let latentRecipe = options.latentRecipe
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
if let mine { installMine(mine) }
let (autoencoder, aeRecord) = mine != nil
    ? book.must("--mine") { try aeRecipe.trainUncached(label: "train the autoencoder (your code)") { try aeRecipe.train($0, progress: $1) } }
    : book.must { try aeRecipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train the autoencoder") }
let latentNumbers = Autoencoder.latentChannels * (imageSide / Autoencoder.factor) * (imageSide / Autoencoder.factor)
book.table(headers: ["", "image", "latent", "numbers", "compression"], rows: [
    ["Stable Diffusion (f = 8, c = 4)", "512×512×3", "64×64×4", "786,432 → 16,384", "48×"],
    ["this chapter (f = 8, c = 4)", "64×64×3", "8×8×4", "12,288 → \(latentNumbers)",
     "\(3 * imageSide * imageSide / latentNumbers)×"],
])
book.table(headers: ["part", "parameters"], rows: [
    ["encoder (pixel unshuffle ×4, conv, ResBlock at 16×16 and 8×8, widths \(aeRecipe.widths))", String(autoencoder.encoderParameterCount)],
    ["decoder (the mirror image, pixel shuffle ×4 at the end)", String(autoencoder.parameterCount - autoencoder.encoderParameterCount)],
])
if aeRecord.fromCache {
    book.say("Loaded the cached autoencoder from \(aeRecord.fileName) (trained earlier in \(seconds(aeRecord.seconds))); --retrain trains again.")
} else {
    book.say("""
        Trained \(aeRecipe.training.steps) steps of batch \(aeRecipe.batch) in \(seconds(aeRecord.seconds)) \
        (\(fmt(aeRecord.millisecondsPerStep)) ms per step), β = \(fmt(Double(aeRecipe.beta), 3)).
        """)
}
book.say("""
    The encoder E maps an image to a diagonal Gaussian over latents, q(z|x) = N(μ, σ²), and the decoder D maps \
    a latent back (`Autoencoder`, Sources/Diffusion/Autoencoder.swift). Training draws z from q by the \
    **reparameterisation trick** (Kingma & Welling 2014, §2.4), so that the draw is differentiable in μ and σ, \
    and adds a small multiple β of the **KL divergence** of q from N(0, I) (ibid., appendix B) — the \
    "KL-reg" autoencoder of Rombach et al. 2022, §3.1:
    ```
    (μ, log σ²) = E(x),   z = μ + σ·ε,  ε ~ N(0, I)
    KL = ½ Σ (μ² + σ² − 1 − log σ²)                 summed over the latent's \(latentNumbers) numbers
    L = (‖x − D(z)‖² + β·KL) / 12,288
    ```
    The first factor 4 of the downsampling is a rearrangement, not a computation: a *pixel unshuffle* \
    moves each 4×4×3 patch into 48 channels of one pixel, and the decoder ends with the inverse *pixel \
    shuffle* (the sub-pixel convolution of Shi et al. 2016). So every convolution runs at 16×16 or 8×8 \
    with wide channels, where this package's convolutions are fast.
    """)
book.lossFigure(aeRecord.losses, name: "autoencoder-loss.png", title: "Autoencoder training loss")

var testRNG = RandomGenerator(seed: seed &+ 73)
let testCount = quick ? 16 : 300
let (testImages, testSpecs) = data.batch(testCount, using: &testRNG)
let testPosterior = withoutGradients { autoencoder.encode(testImages) }
let reconstructions = clipped(withoutGradients { autoencoder.decode(testPosterior.mean) })
let testVerdicts = ShapesChecker.describe(batch: testImages)
let reconstructionVerdicts = ShapesChecker.describe(batch: reconstructions)
let agreement = Double(zip(testVerdicts, reconstructionVerdicts).filter { $0.0 == $0.1 }.count) / Double(testCount)
/// PSNR in dB of `a` against `b`, both in −1…1, on the 0…1 scale of a PNG: 10·log₁₀(1/MSE).
func psnr(_ a: Tensor, _ b: Tensor) -> Double {
    var sum = 0.0
    for (x, y) in zip(a.data, b.data) { let d = Double(x - y) / 2; sum += d * d }
    return 10 * log10(1 / max(sum / Double(a.count), 1e-12))
}
let reconstructionPSNR = psnr(reconstructions, testImages)
let meanKL = withoutGradients { Double(testPosterior.klDivergence.mean().item) }
let shown = min(8, testCount)
book.figure(ImageGrid(rows: [(0..<shown).map { shapeImage($0, of: testImages) }, (0..<shown).map { shapeImage($0, of: reconstructions) }],
                      scale: 2, padding: 4, rowLabels: ["original", "reconstructed"],
                      columnLabels: (0..<shown).map { reconstructionVerdicts[$0].combination?.caption ?? reconstructionVerdicts[$0].description }).render(),
            name: "reconstructions.png", caption: "Test images and their reconstructions D(μ), labelled with what the checker reads in the reconstruction")
book.table(headers: ["on \(testCount) test images", "value"], rows: [
    ["checker reads the reconstruction as the original", "**\(percent(agreement))**"],
    ["PSNR (0…1 scale)", fmt(reconstructionPSNR, 3) + " dB"],
    ["KL(q(z|x) ‖ N(0, I)) per image", fmt(meanKL, 4) + " nats (" + fmt(meanKL / Double(latentNumbers), 3) + " per latent number)"],
])
book.say("""
    Reconstructions are decoded from the mean μ of q(z|x). The checker reads **\(percent(agreement))** of \
    them exactly as it reads their originals (colour, shape and position, or the same rejection), at a \
    PSNR of \(fmt(reconstructionPSNR, 3)) dB\(agreement >= 0.95 ? ": what 256 numbers lose of 12,288 is sharpness at the edges, which the figure shows and the checker does not need" : ""). \
    The KL term keeps each latent close to N(0, I) — about \(fmt(meanKL / Double(latentNumbers), 3)) nats per latent \
    number — which is what makes the latents a distribution a diffusion model can learn (--ablate trains one \
    on an autoencoder with almost no KL term).
    """)

// The four channels of the latents, each as a grey image (−3…3 mapped to black…white).
func latentChannelImage(_ z: Tensor, _ i: Int, _ c: Int) -> Image {
    let side = z.shape[2], plane = side * side
    let values = (0..<plane).map { Float(min(1, max(-1, z.data[(i * 4 + c) * plane + $0] / 3))) }
    return Image(chw: values + values + values, channels: 3, height: side, width: side)
}
let channelRows = (0..<min(4, testCount)).map { i in
    [shapeImage(i, of: testImages)] + (0..<4).map { latentChannelImage(testPosterior.mean, i, $0).upscaled(by: 8) }
}
book.figure(ImageGrid(rows: channelRows, scale: 2, padding: 4, rowLabels: (0..<channelRows.count).map { testSpecs[$0].caption },
                      columnLabels: ["image", "channel 1", "channel 2", "channel 3", "channel 4"]).render(),
            name: "latent-channels.png", caption: "Four test images and the four 8×8 channels of their latent μ (grey: 0; white +3, black −3)")

// MARK: - 7.3 The latent scale factor

book.section("7.3 The latent scale factor")
let latentStart = Date()
let latentScale = LatentSet.scale(of: autoencoder)
var randomRNG = RandomGenerator(seed: seed &+ 74)
let randomLatents = Tensor.randn(Autoencoder.latentShape(count: 8, side: imageSide), using: &randomRNG)
let randomDecoded = clipped(withoutGradients { autoencoder.decode(randomLatents / latentScale) })
let randomVerdicts = ShapesChecker.describe(batch: randomDecoded)
book.figure(ImageGrid(images: (0..<8).map { shapeImage($0, of: randomDecoded) }, columns: 8, scale: 2, padding: 4,
                      columnLabels: randomVerdicts.map { $0.combination?.caption ?? $0.description }).render(),
            name: "random-latents.png", caption: "Decoding random latents z = ε/s, ε ~ N(0, I): what the decoder makes of a latent no image produced")
book.say("""
    Over draws z ~ q(z|x) of \(LatentSet.scaleImages) training images (encoded in \
    \(seconds(Date().timeIntervalSince(latentStart)))), the latent numbers have standard \
    deviation \(fmt(Double(1 / latentScale), 4)), so the **scale factor** is s = 1/std(z) = **\(fmt(Double(latentScale), 4))** \
    (`Autoencoder.scaleFactor`). The diffusion model is trained on s·z, whose variance is 1 like the noise \
    it is mixed with: the schedule's signal-to-noise ratios then mean what they meant for pixels in −1…1. \
    Stable Diffusion's 0.18215 is the same number for its own autoencoder, measured on its training \
    latents (Rombach et al. 2022, §4.3.2 and appendix G): their standard deviation is 1/0.18215 ≈ 5.5.
    The figure decodes eight random latents ε/s: the decoder was never shown such latents, and the checker \
    reads \(randomVerdicts.filter(\.isValid).count) of 8 as clean shapes. Random latents are not images; \
    finding the latents that *are* images is the diffusion model's job.
    """)

// MARK: - 7.4 Diffusion in the latent

book.section("7.4 Text-to-image diffusion in the latent")
let (model, trained) = mine != nil
    ? book.must("--mine") {
        try latentRecipe.trainUncached(label: "train latent text-to-image (your code)") {
            try latentRecipe.train($0, on: LatentSet(autoencoder: autoencoder, count: latentRecipe.latents), progress: $1)
        }
    }
    : book.must {
        try latentRecipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train latent text-to-image") {
            try latentRecipe.train($0, on: LatentSet(autoencoder: autoencoder, count: latentRecipe.latents), progress: $1)
        }
    }
let ldm = LatentDiffusion(autoencoder: autoencoder, model: model, scale: latentScale)
if trained.fromCache {
    book.say("Loaded cached weights from \(trained.fileName) (trained earlier in \(seconds(trained.seconds))); --retrain trains again.")
} else {
    book.say("""
        Trained \(latentRecipe.training.steps) steps of batch \(latentRecipe.batch) in \(seconds(trained.seconds)) \
        (\(fmt(trained.millisecondsPerStep)) ms per step).
        """)
}
book.say("""
    The network is chapter 6's — text encoder, UNet with cross-attention, the pooled text added to the \
    time embedding, coordinate channels, caption dropout for guidance, \(model.prediction == .velocity ? "v-prediction" : "ε-prediction") — \
    with 4 input and output channels instead of 3, on 8×8 latents instead of 16×16 pixels \
    (\(model.parameterCount) parameters). Each training example is a fresh draw z ~ q(z|x) of one of \
    \(latentRecipe.latents) training images (encoded once, before training), times s. Sampling runs the reverse process in the latent and \
    decodes once at the end:
    ```
    z_T ~ N(0, I)  →  \(sampler) with guidance  →  ẑ₀  →  x̂ = D(ẑ₀ / s)
    ```
    """)
book.lossFigure(trained.losses, name: "latent-loss.png", title: "Latent diffusion training loss")

/// Images for `prompts` (tokens) drawn by `l` at guidance w, from `seed`: latents sampled, then decoded.
func draw(_ l: LatentDiffusion, _ prompts: [[Int]], scale w: Float, seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let z = sampler.sample(shape: Autoencoder.latentShape(count: prompts.count, side: imageSide), schedule: schedule, using: &rng) { range in
        l.model.guided(tokens: Array(prompts[range]), scale: w)
    }
    return clipped(l.decode(z))
}

let scales: [Float] = [0, 1, 3, 5]
book.figure(guidanceGrid(prompts: showcasePrompts, scales: scales, perCell: 2, scale: 1, title: "sampled in the 8×8×4 latent, decoded to 64×64") { tokens, w in
                draw(ldm, tokens, scale: w, seed: seed &+ 75)
            },
            name: "guidance.png", caption: "Six prompts, two samples each, at guidance scales 0, 1, 3, 5 (same z_T for every scale)")

var promptRNG = RandomGenerator(seed: seed &+ 76)
let evalCombos = (0..<perScale).map { _ in ShapeCombination.all[promptRNG.int(in: 0..<162)] }
let evalTokens = evalCombos.map { tokenizer.encode(ShapePrompt($0)) }
var adherence: [(Float, Adherence, Double)] = []
var samplesAtW3: (Tensor, [ShapeDescription])? = nil
for w in scales {
    let start = Date()
    let images = draw(ldm, evalTokens, scale: w, seed: seed &+ 77)
    let verdicts = ShapesChecker.describe(batch: images)
    let a = Adherence(prompts: evalCombos, verdicts: verdicts)
    adherence.append((w, a, Date().timeIntervalSince(start)))
    if w == 3 { samplesAtW3 = (images, verdicts) }
    print("  w = \(w): all three \(percent(a.share(a.all)))")
}
book.table(headers: ["w", "valid", "colour", "shape", "position", "all three", "combinations drawn", "time"],
           rows: adherence.map { w, a, t in
               ["\(fmt(Double(w), 2))", percent(a.share(a.valid)), percent(a.share(a.color)), percent(a.share(a.kind)),
                percent(a.share(a.position)), "**\(percent(a.share(a.all)))**", "\(a.combinations.count)/162", seconds(t)]
           })
let atW3 = adherence.first { $0.0 == 3 }!.1
book.must { try writeSamples(samplesAtW3!.0, verdicts: samplesAtW3!.1, prompts: evalCombos.map(\.caption), to: book.directory) }
book.say("""
    \(perScale) random full prompts (the same list and the same starting noise at every scale), each decoded \
    sample judged by the Shapes checker at 64×64. At the default w = 3: **\(percent(atW3.share(atW3.all))) all three** \
    with \(atW3.combinations.count) of 162 combinations drawn (the prompts asked for \(Set(evalCombos).count) distinct ones); \
    the samples are in samples/, named by what the checker saw, and [verdicts.csv](verdicts.csv) lists each one's prompt and verdict.
    """)

// MARK: - 7.5 What the compression buys

book.section("7.5 What the compression buys: pixels against latents")
/// Seconds per training step (forward, loss, backward; no optimizer) and per sampling network call of
/// `net` on inputs `shape`, and the floats its training graph holds, over `repeats` steps after one warm-up.
func cost(_ net: TextToImage, shape: [Int], repeats: Int) -> (train: Double, sample: Double, floats: Int) {
    var rng = RandomGenerator(seed: seed &+ 78)
    let x0 = Tensor.randn(shape, using: &rng)
    let tokens = (0..<shape[0]).map { _ in tokenizer.encode(ShapePrompt(ShapeCombination.all[rng.int(in: 0..<162)])) }
    var floats = 0
    func trainStep() {
        let loss = DDPM.trainingLoss({ x, t in net(x, t, tokens: tokens) }, x0: x0, schedule: schedule, target: net.prediction, using: &rng)
        floats = loss.graphActivationCount
        net.zeroGrad()
        loss.backward()
    }
    trainStep()
    var start = Date()
    for _ in 0..<repeats { trainStep() }
    let train = Date().timeIntervalSince(start) / Double(repeats)
    let t = [Int](repeating: 500, count: shape[0])
    _ = withoutGradients { net(x0, t, tokens: tokens) }
    start = Date()
    for _ in 0..<repeats { _ = withoutGradients { net(x0, t, tokens: tokens) } }
    return (train, Date().timeIntervalSince(start) / Double(repeats), floats)
}
let costBatch = quick ? 4 : 16
let pixelModel = { () -> TextToImage in
    var rng = RandomGenerator(seed: seed &+ 79)
    return TextToImage(tokenizer: .shapes, channels: latentRecipe.channels, textDim: latentRecipe.textDim, textLayers: latentRecipe.textLayers,
                       coordinates: true, prediction: latentRecipe.training.target, using: &rng)
}()
let latentCost = cost(model, shape: Autoencoder.latentShape(count: costBatch, side: imageSide), repeats: quick ? 1 : 10)
let pixelCost = cost(pixelModel, shape: [costBatch, 3, imageSide, imageSide], repeats: 1)
func megabytes(_ floats: Int) -> String { fmt(Double(floats) * 4 / 1_048_576, 4) + " MB" }
book.table(headers: ["the same network, batch \(costBatch)", "training step (forward + backward)", "one network call when sampling", "activations held for backward"],
           rows: [
               ["on 64×64×3 pixels", ms(pixelCost.train), ms(pixelCost.sample), megabytes(pixelCost.floats)],
               ["on 8×8×4 latents", ms(latentCost.train), ms(latentCost.sample), megabytes(latentCost.floats)],
               ["ratio", fmt(pixelCost.train / latentCost.train, 3) + "×", fmt(pixelCost.sample / latentCost.sample, 3) + "×",
                fmt(Double(pixelCost.floats) / Double(latentCost.floats), 3) + "×"],
           ])
book.say("""
    The same network (width \(latentRecipe.channels), cross-attention, measured here on this machine) on \
    pixels and on latents. A 64×64 image has 64 times the pixels of an 8×8 latent; the convolutions' work \
    grows with the pixels and the attention's with their square, so a pixel-space step costs \
    \(fmt(pixelCost.train / latentCost.train, 3))× as much time and holds \(fmt(Double(pixelCost.floats) / Double(latentCost.floats), 3))× \
    as many activations. The autoencoder is paid once: its training (\(seconds(aeRecord.seconds))) and one \
    decoder call per image at the end of sampling. That is why the latent space made text-to-image \
    practical: Stable Diffusion's UNet runs on 64×64×4 latents, not 512×512×3 pixels.
    """)
if options.run.ablate { runAblations() } else {
    book.say("""
        `--ablate` trains the pixel-space model for the same wall time as the latent model and compares \
        their adherence, and shows what the KL weight and the prediction target do to the latent model.
        """)
}

// MARK: - 7.6 Image to image

book.section("7.6 Image to image")
let strengths: [Double] = [0, 0.1, 0.2, 0.3, 0.5, 1]
let sourceCount = quick ? 2 : 24
var sourceRNG = RandomGenerator(seed: seed &+ 80)
let (sources, sourceSpecs) = data.batch(sourceCount, using: &sourceRNG)
// Each source is asked for the next colour alone ("green" for a red image): shape and position are
// left to what survives of the source.
let targetColors = sourceSpecs.map { spec -> ShapeColor in
    let colors = ShapeColor.allCases
    return colors[(colors.firstIndex(of: spec.color)! + 1) % colors.count]
}
let targetTokens = targetColors.map { tokenizer.encode(ShapePrompt(color: $0)) }
let sourceLatents = ldm.encode(sources)
var editRows: [[String]] = []
var editBoth: [(strength: Double, both: Int)] = []
var editStrip: [[Image?]] = (0..<min(4, sourceCount)).map { [shapeImage($0, of: sources)] }
for strength in strengths {
    var rng = RandomGenerator(seed: seed &+ 81)
    let z = imageToImage(model.guided(tokens: targetTokens, scale: options.guidance), latents: sourceLatents, strength: strength,
                         sampler: sampler, schedule: schedule, using: &rng)
    let edited = clipped(ldm.decode(z))
    let verdicts = ShapesChecker.describe(batch: edited)
    let recoloured = zip(verdicts, targetColors).filter { $0.0.combination?.color == $0.1 }.count
    let kept = zip(verdicts, sourceSpecs).filter { $0.0.combination?.kind == $0.1.kind && $0.0.combination?.position == $0.1.position }.count
    let both = zip(zip(verdicts, targetColors), sourceSpecs).filter { pair, spec in
        pair.0.combination == ShapeCombination(color: pair.1, kind: spec.kind, position: spec.position)
    }.count
    func share(_ n: Int) -> String { percent(Double(n) / Double(sourceCount)) }
    editRows.append([fmt(strength, 2), share(verdicts.filter(\.isValid).count), share(recoloured), share(kept), "**\(share(both))**"])
    editBoth.append((strength, both))
    for i in editStrip.indices { editStrip[i].append(shapeImage(i, of: edited)) }
}
book.figure(ImageGrid(rows: editStrip, scale: 1, padding: 3,
                      rowLabels: editStrip.indices.map { "\(sourceSpecs[$0].caption), asked \"\(targetColors[$0].word)\"" },
                      columnLabels: ["source"] + strengths.map { "strength \(fmt($0, 2))" }).render(),
            name: "image-to-image.png", caption: "Image to image: each source redrawn under the prompt of the next colour alone, at growing strength")
book.table(headers: ["strength", "valid", "in the new colour", "shape and position kept", "both"], rows: editRows)
let bestEdit = editBoth.max { $0.both < $1.both }!
/// √ᾱ at each strength's t₀, with the strength: "0.99 at 0.1, …".
let signalLeft = strengths.dropFirst().map { strength -> String in
    let t0 = max(0, Int(strength * Double(schedule.steps)) - 1)
    return "\(fmt(Double(schedule.alphaBar[t0].squareRoot()), 2)) at strength \(fmt(strength, 2))"
}.joined(separator: ", ")
book.say("""
    Image-to-image (SDEdit, Meng et al. 2022): encode an image, noise its latent to step t₀ = strength·T, \
    z_t₀ = √ᾱ_t₀·z₀ + √(1 − ᾱ_t₀)·ε, and run the reverse process from there under another prompt \
    (`imageToImage`, Sources/Diffusion/LatentDiffusion.swift). Here each of \(sourceCount) test images is asked \
    for the next colour alone (a red image: "green"), at w = \(fmt(Double(options.guidance), 2)); the prompt says \
    nothing of shape or position, so whatever of those the result keeps comes from the source. At strength 0 \
    the image is only encoded and decoded; at strength 1 the start is pure noise and nothing of the source \
    is left to keep. The table shows, per strength, how many results the checker reads in the new colour, \
    how many keep the source's shape and position, and how many do both: at best \(bestEdit.both) of \(sourceCount) (strength \
    \(fmt(bestEdit.strength, 2))). What is left of the source at t₀ is √ᾱ_t₀ of it: \(signalLeft).
    """)

// MARK: - 7.7 Negative prompts

book.section("7.7 Negative prompts")
let negativeCount = quick ? 4 : 32
let positive = [[Int]](repeating: try! tokenizer.encode("circle"), count: negativeCount)
var negativeRows: [[String]] = []
var negativeStrip: [[Image?]] = []
for (label, negative) in [("none (the empty prompt)", ""), ("\"red\"", "red"), ("\"top left\"", "top left")] {
    var rng = RandomGenerator(seed: seed &+ 82)
    let negTokens = [[Int]](repeating: try! tokenizer.encode(negative), count: negativeCount)
    let z = sampler.sample(shape: Autoencoder.latentShape(count: negativeCount, side: imageSide), schedule: schedule, using: &rng) { range in
        model.guided(tokens: Array(positive[range]), negative: Array(negTokens[range]), scale: options.guidance)
    }
    let images = clipped(ldm.decode(z))
    let verdicts = ShapesChecker.describe(batch: images).compactMap(\.combination)
    let circles = verdicts.filter { $0.kind == .circle }.count
    let red = verdicts.filter { $0.color == .red }.count
    let topLeft = verdicts.filter { $0.position == .topLeft }.count
    negativeRows.append([label, "\(verdicts.count)/\(negativeCount)", "\(circles)/\(negativeCount)", "\(red)/\(negativeCount)", "\(topLeft)/\(negativeCount)"])
    negativeStrip.append((0..<min(8, negativeCount)).map { shapeImage($0, of: images) })
}
book.figure(ImageGrid(rows: negativeStrip, scale: 1, padding: 3, rowLabels: ["negative: none", "negative: red", "negative: top left"]).render(),
            name: "negative.png", caption: "\"circle\" at w = \(fmt(Double(options.guidance), 2)) with no negative prompt, with \"red\" and with \"top left\" (same starting noise in each row)")
book.table(headers: ["prompt \"circle\", negative prompt", "valid", "circles", "red", "top left"], rows: negativeRows)
book.say("""
    A negative prompt replaces the unconditional prediction in guidance (`TextToImage.guided(tokens:negative:scale:)`):
    ```
    ε̃ = ε(z_t, t, c_neg) + w·(ε(z_t, t, c) − ε(z_t, t, c_neg))
    ```
    so each step moves towards the prompt *and away from* the negative prompt. With the prompt "circle" \
    alone, colour and position are left to the model (by chance, 1 in 6 would be red and 1 in 9 top left); \
    the table counts what the checker reads in \(negativeCount) samples from the same starting noise with each \
    negative prompt: with no negative prompt \(negativeRows[0][3]) are red and \(negativeRows[0][4]) top left; \
    with "red" as the negative prompt \(negativeRows[1][3]) are red, and with "top left" \(negativeRows[2][4]) are top left. \
    A negative prompt is a push, not a filter: at w = \(fmt(Double(options.guidance), 2)) each step moves away from \
    the negative prompt's whole prediction, not only from the word it names, and the valid and circle columns \
    show what that costs.
    """)

// MARK: - 7.8 Interpolation

book.section("7.8 Interpolation")
let lambdas: [Float] = (0...7).map { Float($0) / 7 }
let pairA = testPosterior.mean.slice(axis: 0, 0..<1), pairB = testPosterior.mean.slice(axis: 0, 1..<2)
let latentLine = Tensor.concat(lambdas.map { pairA * (1 - $0) + pairB * $0 }, axis: 0)
let decodedLine = clipped(withoutGradients { autoencoder.decode(latentLine) })
var noiseRNG = RandomGenerator(seed: seed &+ 83)
let noiseA = Tensor.randn(Autoencoder.latentShape(count: 1, side: imageSide), using: &noiseRNG)
let noiseB = Tensor.randn(Autoencoder.latentShape(count: 1, side: imageSide), using: &noiseRNG)
let arc = Tensor.concat(lambdas.map { slerp(noiseA, noiseB, $0) }, axis: 0)
let arcPrompt = "blue square"
let arcTokens = [[Int]](repeating: try! tokenizer.encode(arcPrompt), count: lambdas.count)
let arcSamples = { () -> Tensor in
    var rng = RandomGenerator(seed: seed &+ 84)
    let deterministic = Sampler(eta: 0, steps: sampler.steps)
    return clipped(ldm.decode(deterministic.sample(model.guided(tokens: arcTokens, scale: options.guidance), from: arc, schedule: schedule, using: &rng)))
}()
book.figure(ImageGrid(rows: [lambdas.indices.map { shapeImage($0, of: decodedLine) }, lambdas.indices.map { shapeImage($0, of: arcSamples) }],
                      scale: 1, padding: 3, rowLabels: ["decoded (1-a)*mu_A + a*mu_B", "\"\(arcPrompt)\" from slerp(z_A, z_B; a)"],
                      columnLabels: lambdas.map { "a = \(fmt(Double($0), 2))" }).render(),
            name: "interpolation.png", caption: "Top: the decoder along a straight line between two images' latents. Bottom: deterministic DDIM samples of one prompt from starting noises on an arc between two draws")
book.say("""
    Top row (λ is written a in the figure): the latents of two test images (\(testSpecs[0].caption); \(testSpecs[min(1, testCount - 1)].caption)) and the \
    straight line between them, decoded. Bottom row: one prompt, "\(arcPrompt)", sampled by deterministic DDIM \
    (η = 0, \(sampler.steps) steps) from starting noises on the arc between two draws z_A and z_B (`slerp`; a straight \
    line between two draws of N(0, I) would pass through noise of too small a norm, which the model never saw). \
    Since DDIM with η = 0 is a fixed map from z_T to an image, nearby starting noises give nearby images, and \
    the arc walks from one sample of the prompt to another.
    """)

if let mine {
    compareMine(mine, ldm, prompts: evalCombos, tokens: evalTokens, seed: seed &+ 85)
    gradeMine(mine, agreement: agreement, allThree: atW3.share(atW3.all))
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trained.fromCache && aeRecord.fromCache ? " (weights from the cache)" : ", training included").")
book.save()

// MARK: - --ablate

/// Pixel space for the latent model's training time; the KL weight; the prediction target.
func runAblations() {
    let ablateStart = Date()
    let budget = aeRecord.seconds + trained.seconds
    // One pixel-space step at the training batch (7.5 measured a smaller one); the optimizer adds a little.
    let pixelStep = cost(pixelModel, shape: [latentRecipe.batch, 3, imageSide, imageSide], repeats: 1).train
    let pixelSteps = max(1, Int(budget / (pixelStep * 1.1)))
    var rows: [[String]] = []
    /// Adherence at w = 3 on 7.4's prompts and starting noise, for images drawn by `drawImages`.
    func measure(_ images: Tensor) -> Adherence {
        let a = Adherence(prompts: evalCombos, verdicts: ShapesChecker.describe(batch: images))
        return a
    }
    func row(_ name: String, _ a: Adherence, _ wall: Double) -> [String] {
        [name, seconds(wall), percent(a.share(a.valid)), "**\(percent(a.share(a.all)))**", "\(a.combinations.count)/162"]
    }
    rows.append(row("latent (this chapter's model)", atW3, budget))
    // Pixel space, the same network on 64×64 pixels for the same wall time.
    var pixelRecipe = PixelRecipe(channels: latentRecipe.channels, textDim: latentRecipe.textDim, textLayers: latentRecipe.textLayers,
                                  batch: latentRecipe.batch, training: latentRecipe.training, seed: seed)
    pixelRecipe.training.steps = pixelSteps
    let (pixelTrained, pixelRecord) = book.must { try pixelRecipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train in pixel space") }
    let pixelImages = { () -> Tensor in
        var rng = RandomGenerator(seed: seed &+ 77)
        return clipped(sampler.sample(shape: [evalTokens.count, 3, imageSide, imageSide], schedule: schedule, using: &rng) { range in
            pixelTrained.guided(tokens: Array(evalTokens[range]), scale: 3)
        })
    }()
    rows.append(row("pixels, \(pixelSteps) steps", measure(pixelImages), pixelRecord.seconds))
    // The KL weight, and the prediction target: a different autoencoder or target, the rest the same.
    for (name, beta, target) in [("latent, β = 1e-5 (almost no KL)", Float(1e-5), PredictionTarget.velocity),
                                 ("latent, ε-prediction", aeRecipe.beta, PredictionTarget.epsilon)] {
        var l = latentRecipe
        l.autoencoder.beta = beta
        l.training.target = target
        let (ae, aeRec) = book.must { try l.autoencoder.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train the autoencoder (\(name))") }
        let scale = LatentSet.scale(of: ae)
        let (m, rec) = book.must {
            try l.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train (\(name))") {
                try l.train($0, on: LatentSet(autoencoder: ae, count: l.latents), progress: $1)
            }
        }
        let images = draw(LatentDiffusion(autoencoder: ae, model: m, scale: scale), evalTokens, scale: 3, seed: seed &+ 77)
        rows.append(row(name + " (s = \(fmt(Double(scale), 3)))", measure(images), aeRec.seconds + rec.seconds))
    }
    book.table(headers: ["model (\(perScale) prompts at w = 3)", "training time", "valid", "all three", "combinations drawn"], rows: rows)
    book.say("""
        One seed each (\(seed)); the weights are cached in the output folder. The pixel-space model is the same \
        network on 64×64×3 pixels (fresh 64×64 images each step, as chapter 6 trains), given as many steps as the \
        latent model's wall time (autoencoder included: \(seconds(budget))) allows at the pixel step time measured \
        just before (\(seconds(pixelStep)) at batch \(latentRecipe.batch), plus 10 % for the optimizer): \(pixelSteps) steps, \
        which took \(seconds(pixelRecord.seconds)). The two other rows change one thing in the latent \
        model: an autoencoder trained with almost no KL term, and ε- instead of v-prediction. All of it took \
        \(seconds(Date().timeIntervalSince(ablateStart))).
        """)
}
