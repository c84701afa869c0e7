// Chapter 6 — Text to image: a text encoder written here, cross-attention, classifier-free guidance.
//
//   swift run -c release 06-text [--quick] [--seed N] [--out DIR] [--retrain] [--holdout] [--ablate]
//                                [--prompt TEXT]… [--guidance W] [--sampling-steps N] [--eta X] [--load FILE] [--interactive]
//                                [--train-steps N] [--channels N] [--batch N] [--lr X] [--samples N]
//                                [--predict velocity|epsilon] [--no-coordinates]
//
// A notebook in eight sections (nine with --holdout); each prints what it shows and adds it to
// report.md. The lesson code is Sources/Diffusion/TextConditioning.swift (tokenizer, text encoder,
// cross-attention, the text-to-image model, guidance); the UNet is chapter 4's TimeUNet reading the
// text (Sources/Diffusion/TimeEmbedding.swift). Model.swift beside this file holds the command line,
// the caption dropout and the weight cache.

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
// Prompts were checked (in `Options.validate`) before anything slow happens.
let userPrompts: [(text: String, tokens: [Int], prompt: ShapePrompt)] = options.prompt.map { text in
    (text, try! tokenizer.encode(text), try! ShapePrompt.parse(text))
}
let recipe = options.recipe
let sampler = options.sampler
let guidance = options.guidance
let perScale = options.perScale
let seed = options.common.seed, quick = options.common.quick
let schedule = NoiseSchedule.linear()
let size = 16
func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }
func percent(_ v: Double) -> String { fmt(v * 100) + " %" }

/// `prompts.count` samples, sample k asked for `prompts[k]` (tokens), with guidance w, from `seed`.
func draw(_ model: TextToImage, _ prompts: [[Int]], scale w: Float, seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return clipped(sampler.sample(shape: [prompts.count, 3, size, size], schedule: schedule, using: &rng) { range in
        model.guided(tokens: Array(prompts[range]), scale: w)
    })
}

/// Writes one PNG per prompt into `folder`, named by the prompt, and returns the paths.
func drawPrompts(_ model: TextToImage, _ list: [(text: String, tokens: [Int], prompt: ShapePrompt)], folder: String, seed: UInt64,
                 first: Int = 0) throws -> [String] {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let images = draw(model, list.map(\.tokens), scale: guidance, seed: seed)
    let verdicts = ShapesChecker.describe(batch: images)
    return try list.indices.map { i in
        let name = String(format: "%03d-", first + i) + (list[i].text.isEmpty ? "no-prompt" : list[i].text.lowercased().split(separator: " ").joined(separator: "-")) + ".png"
        let file = (folder as NSString).appendingPathComponent(name)
        try shapeImage(i, of: images).upscaled(by: 4).writePNG(to: file)
        print("\(file)  (asked: \(list[i].prompt), drew: \(verdicts[i]))")
        return file
    }
}

/// Reads prompts from standard input until EOF, writing an image for each.
func interactive(_ model: TextToImage, folder: String) throws {
    print("Type a prompt (words: \(tokenizer.vocabulary.dropFirst().joined(separator: " "))), an empty line for none; end with Ctrl-D.")
    var n = 0
    while let line = readLine() {
        do {
            let item = (text: line, tokens: try tokenizer.encode(line), prompt: try ShapePrompt.parse(line))
            _ = try drawPrompts(model, [item], folder: folder, seed: seed &+ 600 &+ UInt64(n), first: n)
            n += 1
        } catch let error as PromptError {
            print("06-text: \(error)")
        } catch let error as TokenizerError {
            print("06-text: \(error)")
        }
    }
}

// MARK: - --load: sample in seconds from saved weights

if let file = options.load {
    let (model, _) = { () -> (TextToImage, TrainingRecord) in
        do { return try recipe.load(from: file) } catch { Options.fail(reason(error)) }
    }()
    let list = userPrompts.isEmpty ? [(text: "red circle top left", tokens: try! tokenizer.encode("red circle top left"),
                                       prompt: try! ShapePrompt.parse("red circle top left"))] : userPrompts
    let folder = (options.directory as NSString).appendingPathComponent("prompts")
    do {
        _ = try drawPrompts(model, list, folder: folder, seed: seed &+ 60)
        if options.interactive { try interactive(model, folder: (options.directory as NSString).appendingPathComponent("interactive")) }
    } catch {
        Options.fail(reason(error))
    }
    exit(0)
}

let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 6: Text to image, from scratch")
book.say("""
    Run with seed \(seed)\(quick ? ", --quick" : ""). Recipe: \(recipe.summary); samples by \(sampler).
    """)

// MARK: - 6.1 Tokens

book.section("6.1 From words to tokens")
let examples = ["red circle top left", "blue square", "bottom right", ""]
book.table(headers: ["prompt", "tokens", "what it asks for"],
           rows: examples.map { p in ["\"\(p)\"", "\(try! tokenizer.encode(p))", "\(try! ShapePrompt.parse(p))"] })
book.say("""
    The model reads words, not pixels' names: a tokenizer maps each word of the Shapes captions to an id \
    (`Tokenizer`, Sources/Diffusion/TextConditioning.swift). The vocabulary is \(tokenizer.vocabulary.count) \
    tokens — `<pad>` (id 0) and \(tokenizer.vocabulary.dropFirst().joined(separator: ", ")) — and every prompt \
    is padded to \(tokenizer.length) tokens. A prompt may give any subset of colour, shape and position; the \
    empty prompt, all `<pad>`, is what the model sees when it is told nothing. An unknown word is an error \
    that lists the vocabulary: `--prompt "red hexagon"` stops with *unknown word 'hexagon'; the vocabulary is: …*.
    """)

// MARK: - 6.2 The model

book.section("6.2 A text encoder, and a UNet that reads it")
let probe = recipe.makeModel()
book.table(headers: ["part", "parameters"], rows: [
    ["text encoder (embeddings, \(recipe.textLayers) Transformer layers, d = \(recipe.textDim))", String(probe.encoder.parameterCount)],
    ["UNet (chapter 4's, with cross-attention and the pooled text)", String(probe.unet.parameterCount)],
    ["total", String(probe.parameterCount)],
])
book.say("""
    The text encoder is a small Transformer written here (Vaswani et al. 2017; pre-LN as in GPT-2):
    ```
    h₀ = TokenEmbedding(tokens) + PositionEmbedding(0 … \(tokenizer.length - 1))       [B, \(tokenizer.length), \(recipe.textDim)]
    h = h + MultiHead(LN(h));  h = h + W₂·GELU(W₁·LN(h))          × \(recipe.textLayers) layers
    context = LN(h)  [B, \(tokenizer.length), \(recipe.textDim)];   pooled = mean of context over the tokens  [B, \(recipe.textDim)]
    ```
    The UNet is chapter 4's (sinusoidal time embedding, AdaGN residual blocks, skips) and reads the text \
    twice. The pooled vector is projected and added to the time embedding, so every block's scale and \
    shift hear the prompt (as in Imagen, Saharia et al. 2022). And after the 8×8 and 4×4 blocks, \
    **cross-attention** lets every pixel ask the tokens what it should be (Rombach et al. 2022, §3.3):
    ```
    out = h + softmax(Q·Kᵀ/√d)·V,   Q = GN(h)·W_Q (the pixels),  K = context·W_K,  V = context·W_V (the words)
    ```
    Encoder and UNet are trained together, from scratch, by the diffusion loss alone.
    """)
book.say(recipe.coordinates ? """
    One input is new. A convolution applies the same weights at every pixel, so chapters 3–5's UNet knew \
    where a pixel was only from the zero padding at the border — enough to draw shapes everywhere, since \
    the data put them everywhere, but not to put one *where it is told*. Two extra input channels hold \
    each pixel's x and y in −1…1 (CoordConv, Liu et al. 2018), so "top left" can meet the pixels it \
    names from the first layer on: the stem reads \(probe.unet.stem.weight.shape[1]) channels instead of 3 \
    (\(2 * 9 * recipe.channels) more parameters). `--no-coordinates` trains without them; the README shows what they buy.
    """ : "This run's UNet has no coordinate channels (`--no-coordinates`): it knows where a pixel is only from the zero padding at the border.")

// MARK: - 6.3 Training with dropped captions

book.section("6.3 Training, with captions dropped for guidance")
// With --mine the learner's dropout, v target and guidance run in training and sampling; nothing is cached.
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
if let mine { installMine(mine) }
let (model, trained) = mine != nil
    ? book.must("--mine") { try recipe.trainUncached(label: "train text-to-image (your code)") { try recipe.train($0, progress: $1) } }
    : book.must { try recipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train text-to-image") }
if trained.fromCache {
    book.say("Loaded cached weights from \(trained.fileName) (trained earlier in \(seconds(trained.seconds))); --retrain trains again.")
} else {
    book.say("""
        Trained \(recipe.training.steps) steps of batch \(recipe.batch) in \(seconds(trained.seconds)) \
        (\(fmt(trained.millisecondsPerStep)) ms per step); \
        \(mine == nil ? "weights saved to \(trained.fileName) — `06-text --load \(trained.path) --prompt \"…\"` samples from them in seconds."
                      : "with your dropout and v target (`--mine` caches nothing).")
        """)
}
book.say("""
    Each training image comes with its caption, but the caption is replaced by the empty prompt with \
    probability \(recipe.dropCaption) (Ho & Salimans 2022, Algorithm 1: the whole condition dropped with \
    probability p_uncond), so one network learns ε(x_t, t, c) *and* ε(x_t, t, ∅), which classifier-free \
    guidance needs. Our addition, not the paper's: each remaining word group (colour, shape, position) is \
    also dropped on its own with probability \(recipe.dropAttribute), so the network learns partial prompts \
    too. Otherwise training is chapter 3's: Adam at peak learning rate \(recipe.training.learningRate), warm-up \
    and cosine decay, EMA 0.999 (`DDPMTrainer.train` with a condition).
    """)
book.say(recipe.prediction == .velocity ? """
    One change to the loss. Where a shape goes is decided early in sampling, when x_t is mostly noise \
    (6.6 measures when). There DDPM's ε-loss hardly cares about the picture: an error δ in the implied \
    clean image costs SNR_t·δ² in ε, and SNR_t = ᾱ_t/(1 − ᾱ_t) is below 0.1 for the noisiest half of \
    the steps. So this model predicts the *velocity* v = √ᾱ_t·ε − √(1 − ᾱ_t)·x₀ instead (Salimans & Ho \
    2022), whose loss costs the same error (1 + SNR_t)·δ² — as much as ε's where the image is clear, \
    and never less than δ² where it is not. Sampling is unchanged: ε̂ = √(1 − ᾱ_t)·x_t + √ᾱ_t·v̂ \
    (`DDPM.velocityLoss`, `DDPM.epsilon(fromVelocity:)`). `--predict epsilon` trains the DDPM way.
    """ : "This model predicts ε, DDPM's target (`--predict epsilon`); the default predicts v.")
book.lossFigure(trained.losses)

// MARK: - 6.4 Prompts × guidance

book.section("6.4 Prompts × guidance scales")
let scales: [Float] = [0, 1, 3, 5]
book.figure(guidanceGrid(prompts: showcasePrompts, scales: scales, perCell: 2, scale: 4, title: "the same starting noise for every scale") { tokens, w in
                draw(model, tokens, scale: w, seed: seed &+ 64)
            },
            name: "guidance.png", caption: "Six prompts, two samples each, at guidance scales 0, 1, 3, 5 (same x_T for every scale)")
book.say("""
    Sampling combines the model's two answers (`classifierFreeGuidance`; Ho & Salimans 2022, eq. 6, write it \
    (1 + w′)·ε(x_t, t, c) − w′·ε(x_t, t, ∅), the same with our w = their w′ + 1):
    ```
    ε̃ = ε(x_t, t, ∅) + w·(ε(x_t, t, c) − ε(x_t, t, ∅))
    ```
    w = 0 ignores the prompt (the columns show whatever the unconditional model draws), w = 1 is the \
    plain conditional model, and w > 1 pushes further in the direction the prompt changes the prediction. \
    Each step costs two network evaluations (one batch of 2B), except at w = 0 and w = 1, which need one.
    """)

// MARK: - 6.5 Adherence against w

book.section("6.5 Prompt adherence against the guidance scale")
var promptRNG = RandomGenerator(seed: seed &+ 65)
let evalCombos = (0..<perScale).map { _ in ShapeCombination.all[promptRNG.int(in: 0..<162)] }
let evalTokens = evalCombos.map { tokenizer.encode(ShapePrompt($0)) }
var adherence: [(Float, Adherence, Double)] = []
var bestSamples: (Float, Tensor, [ShapeDescription])? = nil
for w in scales {
    let start = Date()
    let images = draw(model, evalTokens, scale: w, seed: seed &+ 65)
    let verdicts = ShapesChecker.describe(batch: images)
    let a = Adherence(prompts: evalCombos, verdicts: verdicts)
    adherence.append((w, a, Date().timeIntervalSince(start)))
    if bestSamples == nil || a.all > (adherence.first { $0.0 == bestSamples!.0 }?.1.all ?? 0) { bestSamples = (w, images, verdicts) }
    print("  w = \(w): all three \(percent(a.share(a.all)))")
}
book.table(headers: ["w", "valid", "colour", "shape", "position", "all three", "combinations drawn", "time"],
           rows: adherence.map { w, a, t in
               ["\(fmt(Double(w), 2))", percent(a.share(a.valid)), percent(a.share(a.color)), percent(a.share(a.kind)),
                percent(a.share(a.position)), "**\(percent(a.share(a.all)))**", "\(a.combinations.count)/162", seconds(t)]
           })
var adherencePlot = Plot(title: "Adherence against guidance", xLabel: "guidance scale w", yLabel: "share of samples",
                         width: 640, height: 400, yRange: 0...1, legend: .bottomRight)
let series: [(String, (Adherence) -> Int, Color)] = [("colour", { $0.color }, Color(200, 60, 40)), ("shape", { $0.kind }, Color(40, 140, 60)),
                                                      ("position", { $0.position }, Color(40, 80, 200)), ("all three", { $0.all }, Color(20, 20, 20)),
                                                      ("valid", { $0.valid }, Color(150, 150, 150))]
for (name, pick, color) in series {
    let ys = adherence.map { $0.1.share(pick($0.1)) }
    adherencePlot.line(name, x: scales.map(Double.init), y: ys, color: color)
    adherencePlot.scatter("", x: scales.map(Double.init), y: ys, color: color, radius: 3)
}
book.figure(adherencePlot, name: "adherence.png", caption: "Per-attribute adherence of \(perScale) samples per scale (random full prompts)")
let (bestW, bestImages, bestVerdicts) = bestSamples!
let best = adherence.first { $0.0 == bestW }!.1
book.must { try writeSamples(bestImages, verdicts: bestVerdicts, prompts: evalCombos.map(\.caption), to: book.directory) }
book.say("""
    \(perScale) random full prompts (the same list and the same starting noise at every scale), each sample \
    judged by the Shapes checker: a sample adheres to an attribute if it is a clean shape with that \
    attribute. Best here: w = \(fmt(Double(bestW), 2)), **\(percent(best.share(best.all))) all three** with \
    \(best.combinations.count) of 162 combinations drawn (the prompts asked for \(Set(evalCombos).count) distinct \
    ones)\(Double(best.combinations.count) >= 0.9 * Double(Set(evalCombos).count) ? ", so adherence is not bought with diversity"
           : ": fewer than asked for, so some prompts collapse onto others"). Its samples are in samples/, named by what the checker saw, \
    and [verdicts.csv](verdicts.csv) lists each sample's prompt and verdict.
    """)

// MARK: - 6.6 When is each attribute decided?

book.section("6.6 When, along the reverse process, is each attribute decided?")
let traceCount = min(quick ? 4 : 32, perScale)
/// Samples `traceCount` images asked for `tokens` at guidance `w` (same starting noise for every call),
/// keeping x̂₀ at every step; returns those and, per attribute (colour, shape, position), the share of
/// samples whose x̂₀ at that step already reads as the finished sample does.
func trace(_ tokens: [[Int]], scale w: Float) -> (steps: [(t: Int, x0: Tensor)], decided: [[Double]], finals: [ShapeDescription]) {
    var steps: [(t: Int, x0: Tensor)] = []
    let guided = model.guided(tokens: tokens, scale: w)
    let traced: NoisePredictor = { x, t in
        let e = guided(x, t)
        steps.append((t[0], clipped(DDPM.predictedX0(x, t: t, epsilon: e, schedule: schedule))))
        return e
    }
    var rng = RandomGenerator(seed: seed &+ 66)
    let finals = ShapesChecker.describe(batch: clipped(withoutGradients {
        let xT = Tensor.randn([tokens.count, 3, size, size], using: &rng)
        return sampler.sample(traced, from: xT, schedule: schedule, using: &rng)
    }))
    var decided: [[Double]] = [[], [], []]
    for (_, x0) in steps {
        var hits = [0, 0, 0], n = 0
        for (now, end) in zip(ShapesChecker.describe(batch: x0), finals) {
            guard let e = end.combination else { continue }
            n += 1
            guard let c = now.combination else { continue }
            if c.color == e.color { hits[0] += 1 }
            if c.kind == e.kind { hits[1] += 1 }
            if c.position == e.position { hits[2] += 1 }
        }
        for k in 0..<3 { decided[k].append(n == 0 ? 0 : Double(hits[k]) / Double(n)) }
    }
    return (steps, decided, finals)
}
let traceTokens = Array(evalTokens.prefix(traceCount))
let prompted = trace(traceTokens, scale: 3)
let unprompted = trace([[Int]](repeating: model.emptyPrompt, count: traceCount), scale: 1)
var decidePlot = Plot(title: "Decided: x0-hat already shows the final attribute", xLabel: "t (sampling runs right to left)",
                      yLabel: "share of samples", width: 640, height: 400, yRange: 0...1, legend: .bottomRight)
let attributes = [("colour", Color(200, 60, 40)), ("shape", Color(40, 140, 60)), ("position", Color(40, 80, 200))]
for (k, (name, color)) in attributes.enumerated() {
    decidePlot.line("\(name), no prompt", x: unprompted.steps.map { Double($0.t) }, y: unprompted.decided[k], color: color, thickness: 3)
}
for (k, (name, color)) in attributes.enumerated() {
    decidePlot.line("\(name), prompt w=3", x: prompted.steps.map { Double($0.t) }, y: prompted.decided[k], color: color, thickness: 1)
}
book.figure(decidePlot, name: "decided.png",
                caption: "For \(traceCount) samples: the share whose predicted x̂₀ already has the final colour, shape, position — with no prompt (thick) and with a full prompt at w = 3 (thin)")
let shownSteps = Array(stride(from: 0, to: unprompted.steps.count, by: max(1, unprompted.steps.count / 10)))
// The strip follows the first sample that ends as a clean shape without a prompt (and the same x_T with its prompt).
let shown = unprompted.finals.firstIndex { $0.combination != nil } ?? 0
book.figure(ImageGrid(rows: [unprompted, prompted].map { run in shownSteps.map { shapeImage(shown, of: run.steps[$0].x0) } },
                          scale: 5, padding: 4, rowLabels: ["no prompt", tokenizer.decode(traceTokens[shown])],
                          columnLabels: shownSteps.map { "t = \(unprompted.steps[$0].t)" },
                          title: "x0-hat along the reverse process").render(),
                name: "strip.png",
                caption: "One sample's predicted x̂₀ along the way, from the same starting noise: with no prompt (it ends as \(unprompted.finals[shown])), and asked for \"\(tokenizer.decode(traceTokens[shown]))\" at w = 3")
func firstDecided(_ decided: [[Double]], _ steps: [(t: Int, x0: Tensor)], _ k: Int) -> String {
    guard let i = decided[k].firstIndex(where: { $0 >= 0.9 }) else { return "never (< 90 %)" }
    return "t ≈ \(steps[i].t)"
}
book.say("""
    At each step the network's guess of the clean image, x̂₀ = (x_t − √(1 − ᾱ_t)·ε̃)/√ᾱ_t, can be read by the \
    checker. The curves show, for \(traceCount) samples, the share whose x̂₀ already has the colour, shape and \
    position the finished sample ends with (sampling runs from t = \(schedule.steps - 1) down to 0). \
    **With no prompt** the model must choose, and the noise decides: 90 % of samples have their final colour by \
    \(firstDecided(unprompted.decided, unprompted.steps, 0)), their position by \(firstDecided(unprompted.decided, unprompted.steps, 2)) \
    and their shape by \(firstDecided(unprompted.decided, unprompted.steps, 1)). **With a full prompt** there is nothing left to \
    choose but the small jitter: colour by \(firstDecided(prompted.decided, prompted.steps, 0)), position by \
    \(firstDecided(prompted.decided, prompted.steps, 2)), shape by \(firstDecided(prompted.decided, prompted.steps, 1)) — the \
    prompt has fixed the picture before the image has any.
    """)

// MARK: - 6.7 Your prompts

book.section("6.7 Your prompts")
if userPrompts.isEmpty {
    book.say("Run with `--prompt \"blue triangle bottom left\"` (repeatable) to draw your own; `--interactive` reads prompts from standard input.")
} else {
    let files = book.must { try drawPrompts(model, userPrompts, folder: book.path("prompts"), seed: seed &+ 67) }
    book.say("Drawn at w = \(fmt(Double(guidance), 2)): " + files.map { "[\(($0 as NSString).lastPathComponent)](prompts/\(($0 as NSString).lastPathComponent))" }.joined(separator: ", "))
}

// MARK: - 6.8 Held-out pairs (--holdout)

if options.holdout {
    book.section("6.8 Compositional generalisation: colour–shape pairs never seen")
    var h = recipe
    h.holdout = ["red triangle", "blue circle", "green square"]
    let (heldModel, heldRecord) = book.must {
        try h.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train (held-out pairs)")
    }
    let heldCombos = Array(h.excluded).sorted()
    var rows: [[String]] = []
    let perPrompt = quick ? 1 : 4
    let combos = heldCombos.flatMap { c in [ShapeCombination](repeating: c, count: perPrompt) }
    /// The held-out prompts drawn by `m`, and what the checker reads in them.
    func drawHeldOut(_ m: TextToImage) -> (images: Tensor, verdicts: [ShapeDescription]) {
        let images = draw(m, combos.map { tokenizer.encode(ShapePrompt($0)) }, scale: bestW, seed: seed &+ 68)
        return (images, ShapesChecker.describe(batch: images))
    }
    let (heldImages, heldVerdicts) = drawHeldOut(heldModel)
    for (name, verdicts) in [("trained on everything", drawHeldOut(model).verdicts), ("trained without these pairs", heldVerdicts)] {
        let a = Adherence(prompts: combos, verdicts: verdicts)
        rows.append([name, percent(a.share(a.valid)), percent(a.share(a.color)), percent(a.share(a.kind)), percent(a.share(a.position)),
                     "**\(percent(a.share(a.all)))**"])
    }
    book.table(headers: ["model (w = \(fmt(Double(bestW), 2)), prompts of the held-out pairs)", "valid", "colour", "shape", "position", "all three"], rows: rows)
    // Per held-out pair: how often the model without it drew the asked shape, and what it drew instead.
    var pairRows: [[String]] = []
    for pair in h.heldOutPairs {
        let mine = zip(combos, heldVerdicts).filter { $0.0.color == pair.color && $0.0.kind == pair.kind }.map(\.1)
        let drawn = Dictionary(grouping: mine.compactMap { $0.combination?.kind }) { $0 }.mapValues(\.count)
        pairRows.append(["\(pair.color.word) \(pair.kind.word)", "\(drawn[pair.kind] ?? 0)/\(mine.count)",
                         ShapeKind.allCases.filter { $0 != pair.kind }.map { "\($0.word) \(drawn[$0] ?? 0)" }.joined(separator: ", ")])
    }
    book.table(headers: ["held-out pair (model trained without it)", "asked shape drawn", "drawn instead"], rows: pairRows)
    book.figure(ImageGrid(rows: h.heldOutPairs.map { pair in
                                  ShapePosition.allCases.map { position -> Image? in
                                      let asked = ShapeCombination(color: pair.color, kind: pair.kind, position: position)
                                      return combos.firstIndex(of: asked).map {
                                          captioned(shapeImage($0, of: heldImages), heldVerdicts[$0].combination?.kind.word ?? "invalid")
                                      }
                                  }
                              },
                              scale: 1, padding: 4, rowLabels: h.heldOutPairs.map { "\($0.color.word) \($0.kind.word)" },
                              columnLabels: ShapePosition.allCases.map(\.words),
                              title: "never seen in training: asked at each position (caption: the shape drawn)").render(),
                    name: "heldout.png", caption: "The held-out model's first sample for each of the 27 held-out prompts, captioned with the shape the checker read")
    book.say("""
        A second model, trained the same way (\(heldRecord.fromCache ? "cached" : "in " + seconds(heldRecord.seconds))) on data that never \
        shows a red triangle, a blue circle or a green square (27 of the 162 combinations), is asked for exactly \
        those, \(quick ? 1 : 4) samples for each of the 27 prompts. It has seen red, triangles, blue and circles — only \
        never together.
        """)
}

// MARK: - 6.9 What the recipe bought (--ablate)

book.section("6.9 What v-prediction and coordinates bought\(options.run.ablate ? "" : " (run with --ablate)")")
if options.run.ablate {
    let ablateStart = Date()
    let study = SeedStudy(first: seed)
    let arms: [(name: String, prediction: PredictionTarget, coordinates: Bool)] = [
        ("v, coordinates (the default)", .velocity, true), ("ε, coordinates", .epsilon, true), ("v, no coordinates", .velocity, false),
    ]
    let data = ShapesDataset(size: size, seed: 0)
    /// Mean ‖ε − ε̂‖² per range of t with each image's full caption (w = 1), on the same images, t and
    /// noise for every model: for a v-model ε̂ = √(1 − ᾱ_t)·x_t + √ᾱ_t·v̂, so all are scored alike.
    func lossByRange(_ m: TextToImage) -> [Double] {
        var tokens: [[Int]] = []
        return DDPMTrainer.lossByTimeRange({ x, t in m.guided(tokens: tokens, scale: 1)(x, t) }, schedule: schedule,
                                           batches: quick ? 1 : 4, seed: seed &+ 70,
                                           batch: { rng in
                                               let (images, specs) = data.batch(quick ? 8 : 64, using: &rng)
                                               tokens = specs.map { tokenizer.encode(ShapePrompt($0.combination)) }
                                               return images
                                           })
    }
    var rows: [[String]] = []
    for arm in arms {
        // Per seed: colour, shape, position and all-three adherence %, then the ε-MSE in the four ranges of t.
        let results = study.run { s in
            var c = recipe
            (c.training.target, c.coordinates, c.seed) = (arm.prediction, arm.coordinates, s)
            let (m, _) = book.must {
                try c.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train (\(arm.name), seed \(s))")
            }
            let images = draw(m, evalTokens, scale: 3, seed: seed &+ 65)   // as in 6.5
            let a = Adherence(prompts: evalCombos, verdicts: ShapesChecker.describe(batch: images))
            print("  \(arm.name), seed \(s): all three \(percent(a.share(a.all)))")
            return [a.color, a.kind, a.position, a.all].map { a.share($0) * 100 } + lossByRange(m)
        }
        rows.append([arm.name] + results.row())
    }
    book.table(headers: ["training (3 seeds, mean ± sd)", "colour %", "shape %", "position %", "all three %"]
                   + DDPMTrainer.standardRanges.map { "ε-MSE t∈[\($0.lowerBound),\($0.upperBound))" }, rows: rows)
    book.say("""
        Each row: \(recipe.training.steps) steps of batch \(recipe.batch) from seeds \(study.list) \
        (weights cached in the output folder), then the same \(perScale) prompts from the same starting noise at w = 3 \
        (\(sampler)), and the noise-prediction error per range of t with each image's caption, on the same images, \
        t and noise for every model. \(study.seeds.count * arms.count) trainings and their evaluation took \
        \(seconds(Date().timeIntervalSince(ablateStart))).
        """)
} else {
    book.say("""
        `--ablate` trains the same model three more ways — predicting ε instead of v, and without the \
        coordinate channels — from 3 seeds each (weights cached), and compares their adherence at w = 3 and \
        their noise-prediction error per range of t.
        """)
}

if options.interactive { book.must { try interactive(model, folder: book.path("interactive")) } }

if let mine {
    compareMine(mine, recipe, model, prompts: evalCombos, tokens: evalTokens, seed: seed &+ 69)
    gradeMine(mine, allThreeAtW3: adherence.first { $0.0 == 3 }.map { $0.1.share($0.1.all) })
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trained.fromCache ? " (weights from the cache)" : ", training included").")
book.save()
