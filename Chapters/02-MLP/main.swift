// Chapter 2 — A noise-prediction MLP, with DDPM and DDIM sampling.
//
//   swift run -c release 02-mlp [--dataset moons|spiral|rings] [--quick] [--seed N] [--out DIR] [--retrain] [--ablate]
//
// A notebook in six sections; each prints what it shows and adds it to report.md. The lesson code
// is in Sources/Diffusion/DDPM.swift (Algorithm 1's loss, eq. 11's reverse step, Algorithm 2),
// Sources/Diffusion/DDIM.swift (eq. 12 with η = 0) and Sources/Diffusion/Metrics.swift (energy
// distance), the network in Sources/Diffusion/NoiseMLP.swift, trained by Sources/Diffusion/Training.swift;
// the data in Sources/Datasets/Toy2D.swift. Model.swift beside this file holds the command line and
// the recipe of the trained MLP.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

let options = Options.parseOrExit()
let started = Date()
let recipe = options.recipe
let dataset = recipe.dataset, scheduleKind = recipe.schedule
let seed = options.common.seed, quick = options.common.quick
let schedule = NoiseSchedule.named(scheduleKind)
let T = schedule.steps
let count = quick ? 500 : 2000  // samples drawn and fresh data points they are compared with
let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 2: A noise-prediction MLP, with DDPM and DDIM sampling")
func fmt(_ v: Double, _ digits: Int = 4) -> String { Report.format(v, digits: digits) }
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }
let dataColor = Color(40, 90, 200), sampleColor = Color(220, 80, 30)

book.say("""
    Run with seed \(seed)\(quick ? ", --quick" : ""), dataset **\(dataset.rawValue)**, \
    \(scheduleKind.rawValue) schedule, T = \(T). Recipe: \(recipe.summary).
    """)

// MARK: - 2.1 The data

book.section("2.1 The data: three 2-D distributions")
var rng = RandomGenerator(seed: seed &+ 1_000_003)  // evaluation draws, apart from training's stream
let previews = Toy2D.allCases.map { set -> Image in
    var r = RandomGenerator(seed: seed)
    return scatter(set.rawValue + (set == dataset ? " (this run)" : ""), [(set.rawValue, set.sample(1500, using: &r), dataColor)],
                   size: 300, textScale: 1).render()
}
book.figure(Image.hstack(previews, gap: 8, background: .white), name: "datasets.png",
                caption: "The three toy distributions, 1,500 points each, standardised")
let data = dataset.sample(count, using: &rng)  // fresh points, never seen in training: the yardstick
book.must { try writeCSV(book.path("data.csv"), header: ["x", "y"], rows: (0..<count).map { [Double(data.data[2 * $0]), Double(data.data[2 * $0 + 1])] }) }
book.say("""
    Each is a curve in the plane blurred by a little Gaussian jitter: two interleaved half circles \
    (moons), one arm of a spiral over two turns, two concentric rings. They are standardised — each \
    coordinate has mean 0 and variance 1 — so the data are the same size as the N(0, I) noise the \
    forward process ends in. A model that has learnt one of them must put its points on a thin curve, \
    and with the right density along it: easy to see, hard to fake. Training draws fresh points every \
    step (`Toy2D.sample`, Sources/Datasets/Toy2D.swift); the \(count) points of [data.csv](data.csv) \
    are drawn apart and only used to judge the samples.
    """)

// MARK: - 2.2 Training: Algorithm 1

book.section("2.2 The model and its training (DDPM Algorithm 1)")
book.say("""
    The network ε_θ(x_t, t) is told a noisy point and the step, and must say which noise was added. \
    An MLP: [x, y, t/T] → Linear(3, \(recipe.width)) → SiLU → (Linear(\(recipe.width), \(recipe.width)) → SiLU) \
    × \(recipe.depth - 1) → Linear(\(recipe.width), 2). The step enters as a single number t/T in [0, 1); \
    chapter 4 will give the network a richer view of it. Training is Algorithm 1 of Ho et al. (2020), \
    one line of which is the whole loss:
    ```
    x₀ ~ data,  t ~ Uniform{0, …, T−1},  ε ~ N(0, I)
    L = ‖ε − ε_θ(√ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, t)‖²                      DDPM eq. (14)
    ```
    (`DDPM.trainingLoss`). Adam, peak learning rate \(recipe.training.learningRate) with a 5 % warm-up and a \
    cosine decay to 0, batch \(recipe.batch), gradients clipped to norm 1, \(recipe.training.steps) steps; \
    the weights sampled from are an exponential moving average (EMA, decay \
    \(recipe.training.emaDecay > 0 ? "min(\(recipe.training.emaDecay), (1 + n)/(10 + n))" : "off")) of the trained ones.
    """)
// With --mine the learner's training step trains a fresh model (never cached), and their samplers draw 2.3 and 2.5.
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
let (model, trained) = mine.map { trainMine(recipe, $0) }
    ?? book.must { try recipe.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train \(dataset.rawValue)") }
let predictor = model.predictor
let cacheName = trained.fileName
if trained.fromCache {
    let line = "Loaded cached weights from \(cacheName) (trained earlier in \(seconds(trained.seconds))); --retrain trains again."
    book.say(line)
} else if mine != nil {
    book.say("""
        Trained by your `trainingStep` (or the library's, where not attempted): \(recipe.training.steps) steps in \
        \(seconds(trained.seconds)) (\(fmt(trained.millisecondsPerStep, 3)) ms per step), \(model.parameterCount) parameters. \
        `--mine` trains afresh every run and caches nothing.
        """)
} else {
    book.say("""
        Trained \(recipe.training.steps) steps in \(seconds(trained.seconds)) \
        (\(fmt(trained.millisecondsPerStep, 3)) ms per step), \(model.parameterCount) parameters; \
        weights saved to \(cacheName), so a rerun with the same recipe samples at once.
        """)
}
let window = max(1, min(500, trained.losses.count / 20))
let smoothed = runningMean(trained.losses, window: window)
var lossPlot = Plot(title: "Training loss (Algorithm 1)", xLabel: "step", yLabel: "loss (log scale)",
                    width: 640, height: 400, logY: true, legend: .topRight)
let stride_ = max(1, trained.losses.count / 4000)  // at most 4,000 raw points drawn
lossPlot.line("per step", x: Array(stride(from: 0, to: trained.losses.count, by: stride_)).map(Double.init),
              y: Array(stride(from: 0, to: trained.losses.count, by: stride_)).map { Double(trained.losses[$0]) },
              color: Color(180, 190, 215), thickness: 1)
lossPlot.line("mean of last \(window)", y: smoothed, color: Color(30, 60, 160))
book.figure(lossPlot, name: "loss.png", caption: "The loss of every step (light) and its running mean over \(window) steps (dark)")
let curve = LossCurve(smoothed: smoothed, window: window)
let first = curve.first, last = curve.last
book.say("""
    The running mean falls from \(fmt(Double(first), 3)) to \(fmt(Double(last), 3)). It cannot reach 0: at large t \
    the point x_t is nearly pure noise and says little about which ε made it, so even the best \
    predictor is wrong by almost the whole noise there. Each step's loss is one random batch at random \
    t, hence the spread of the light line.
    """)

// MARK: - 2.3 Sampling: Algorithm 2

book.section("2.3 Sampling by running the chain backwards (DDPM Algorithm 2)")
book.say("""
    Sampling starts from x_T ~ N(0, I) and takes T = \(T) reverse steps. Each uses the predicted noise \
    to make the mean of the step before, then adds fresh noise of variance σ_t² = β_t:
    ```
    μ_θ(x_t, t) = 1/√α_t · ( x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t) )         DDPM eq. (11)
    x_{t−1} = μ_θ(x_t, t) + σ_t·z,   z ~ N(0, I),   σ_t² = β_t,   no noise at the last step
    ```
    (`DDPM.posteriorMean`, `DDPM.reverseStep`, `Sampler.ddpm`; sampling runs inside `withoutGradients`).
    """)
let shownT = [T, 750, 500, 250, 100, 25, 0]
var snapshots: [Int: Tensor] = [:]
var clock = Date()
let xT = Tensor.randn([count, 2], using: &rng)
func snapshot(_ t: Int, _ x: Tensor) { if shownT.contains(t) { snapshots[t] = x } }
let samples = mine.map { sampleMine($0, predictor, from: xT, schedule: schedule, using: &rng, observe: snapshot) }
    ?? Sampler.ddpm(steps: T).sample(predictor, from: xT, schedule: schedule, using: &rng, observe: snapshot)
let ancestralSeconds = Date().timeIntervalSince(clock)
book.must {
    try writeCSV(book.path("samples.csv"), header: ["x", "y"],
                 rows: (0..<count).map { [Double(samples.data[2 * $0]), Double(samples.data[2 * $0 + 1])] })
}
let side = Image.hstack([scatter("data (\(count) fresh points)", [("data", data, dataColor)]).render(),
                         scatter("samples (\(T) ancestral steps)", [("samples", samples, sampleColor)]).render()],
                        gap: 8, background: .white)
book.figure(side, name: "samples.png", caption: "Fresh data (left) and \(count) samples of the trained model (right), same axes")
let stripImages = shownT.map { t -> Image in
    let label = t == T ? "x_T: noise" : (t == 0 ? "x_0: samples" : "t = \(t)")
    return scatter(label, snapshots[t].map { [("x", $0, sampleColor)] } ?? [], size: 220, textScale: 1).render()  // empty if not observed
}
book.figure(Image.hstack(stripImages, gap: 6, background: .white), name: "reverse.png",
                caption: "The reverse process: the same \(count) points from x_T (pure noise) to x_0, after the step from t")
book.say("""
    \(count) samples in \(seconds(ancestralSeconds)): \(T) network evaluations on a batch of \(count). \
    In the strip the cloud of noise keeps its shape for most of the way and gathers onto the \
    curve only in the last hundred or so steps, where ᾱ is large and the noise small: most of the picture is \
    drawn late. The samples are in [samples.csv](samples.csv).
    """)

// What the network learnt, drawn: at a few t, the direction it would move a point, −ε̂ (towards its x̂₀).
let fieldT = [600, 250, 50]
let grid = stride(from: -2.5, through: 2.5001, by: 0.3125).flatMap { y in stride(from: -2.5, through: 2.5001, by: 0.3125).map { x in (x, y) } }
let gridPoints = Tensor(grid.flatMap { [Float($0.0), Float($0.1)] }, shape: [grid.count, 2])   // [N, 2]
let fieldPanels = fieldT.map { t -> Image in
    let epsilon = withoutGradients { predictor(gridPoints, [Int](repeating: t, count: grid.count)) }  // [N, 2]
    var plot = scatter("t = \(t): arrows along -eps-hat", [("data", data, Color(190, 205, 235))], size: 360, textScale: 1)
    for (i, p) in grid.enumerated() {
        let dx = -Double(epsilon.data[2 * i]) * 0.18, dy = -Double(epsilon.data[2 * i + 1]) * 0.18
        plot.line("", x: [p.0, p.0 + dx], y: [p.1, p.1 + dy], color: Color(200, 70, 30), thickness: 1)
    }
    plot.scatter("", points: grid, color: Color(200, 70, 30), radius: 1)
    return plot.render()
}
book.figure(Image.hstack(fieldPanels, gap: 8, background: .white), name: "field.png",
            caption: "The learnt ε̂ as a field: at each grid point, an arrow along −ε̂ (towards the x̂₀ it implies), at t = 600, 250 and 50, over the data (light)")
book.say("""
    The network itself, drawn as a field: at every point of a grid (the dots), an arrow along \
    −ε̂(x, t), the way a reverse step moves a point. At t = 600 and still at t = 250 the arrows point \
    towards the middle of the data, longer the further out they start: at those noise levels the data's \
    rough location is most of what x_t tells. At t = 50 they turn towards the nearest part of the \
    moons and shrink to almost nothing on them: near t = 0 the network has learnt where the curve is.
    """)

// MARK: - 2.4 How good: energy distance

book.section("2.4 How close are the samples? Energy distance against its noise floor")
func floor(_ n: Int, resamples: Int, using rng: inout RandomGenerator) -> (mean: Double, sd: Double) {
    let values = (0..<resamples).map { _ in energyDistance(dataset.sample(n, using: &rng), toData: data) }
    let mean = values.reduce(0, +) / Double(values.count)
    return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot())
}
let edAncestral = energyDistance(samples, toData: data)
let noiseFloor = floor(count, resamples: 5, using: &rng)
let edNoise = energyDistance(Tensor.randn([count, 2], using: &rng), toData: data)
book.say("""
    The energy distance (Székely & Rizzo) compares two clouds of points by their distances:
    ```
    D² = 2·E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖
    ```
    with X the samples and Y fresh data, each mean taken over all pairs (a V-statistic; both clouds \
    standardised by the data's mean and sd; `energyDistance` in Sources/Diffusion/Metrics.swift). It is \
    0 only when the distributions match, and any difference — a missing part, wrong density along \
    the curve, points off it — raises it. Two samples of the *same* distribution do not score 0 but \
    a small positive number, the noise floor; we measure it with 5 fresh draws of \(count) data points \
    against the same \(count).
    """)
book.table(headers: ["compared with \(count) fresh data points", "energy distance", "in floors"], rows: [
    ["\(count) samples, \(T) ancestral steps", fmt(edAncestral, 3), fmt(edAncestral / noiseFloor.mean, 2) + "×"],
    ["noise floor: \(count) more data points (mean ± sd of 5)", "\(fmt(noiseFloor.mean, 3)) ± \(fmt(noiseFloor.sd, 2))", "1×"],
    ["\(count) points of pure noise N(0, I)", fmt(edNoise, 3), fmt(edNoise / noiseFloor.mean, 2) + "×"],
])
let verdict = edAncestral <= noiseFloor.mean + noiseFloor.sd ? "within the floor's spread: at this sample size, the samples cannot be told from data"
    : edAncestral <= 2 * noiseFloor.mean ? "within 2× the floor's mean: close, but not yet indistinguishable from data"
    : "above 2× the floor's mean: visibly off; train longer (--train-steps) or try the recipes in the README"
book.say("""
    The samples score \(fmt(edAncestral, 3)) against a floor of \(fmt(noiseFloor.mean, 3)) ± \(fmt(noiseFloor.sd, 2)): \
    \(verdict). Pure noise, which has the right mean and variance but none of the shape, scores \
    \(fmt(edNoise, 3)) — the yardstick's other end.
    """)

// MARK: - 2.5 DDIM

book.section("2.5 Fifty steps instead of a thousand: DDIM")
book.say("""
    Song et al. (2021) noticed that the training loss only ever looks at q(x_t | x₀), never at the \
    chain between steps, so the same trained ε_θ serves other reverse processes too. With η = 0 the \
    step is deterministic: estimate x₀ from the predicted noise, then put it back at an earlier noise \
    level with *the same* noise:
    ```
    x̂₀ = (x_t − √(1 − ᾱ_t)·ε_θ(x_t, t)) / √ᾱ_t
    x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′)·ε_θ(x_t, t)                           DDIM eq. (12), σ = 0
    ```
    and t′ may be many steps earlier than t. We take S evenly spaced steps from T − 1 down \
    (for S = 50: 999, 979, …, 19, then x₀; `DDIM.timesteps`, `DDIM.step`, `Sampler(eta: 0, steps: S)`). The same x_T \
    always gives the same sample.
    """)
let ddimCounts = quick ? [10, 50] : [10, 20, 50, 100, 200]
var ddimRows: [[String]] = []
var ddim50: Tensor? = nil
var ddim50Seconds = 0.0
for s in ddimCounts {
    var r = RandomGenerator(seed: seed &+ 77)  // the same x_T for every step count
    clock = Date()
    let start = Tensor.randn([count, 2], using: &r)
    let x = mine.map { ddimMine($0, predictor, from: start, count: s, schedule: schedule) }
        ?? Sampler(eta: 0, steps: s).sample(predictor, from: start, schedule: schedule, using: &r)
    let elapsed = Date().timeIntervalSince(clock)
    if s == 50 { ddim50 = x; ddim50Seconds = elapsed }
    let ed = energyDistance(x, toData: data)
    ddimRows.append(["DDIM, \(s) steps", String(s), seconds(elapsed), fmt(ed, 3), fmt(ed / noiseFloor.mean, 2) + "×"])
}
ddimRows.append(["DDPM ancestral", String(T), seconds(ancestralSeconds), fmt(edAncestral, 3), fmt(edAncestral / noiseFloor.mean, 2) + "×"])
book.table(headers: ["sampler", "network evaluations", "time for \(count) points", "energy distance", "in floors"], rows: ddimRows)
let edDDIM50 = energyDistance(ddim50!, toData: data)
book.figure(Image.hstack([scatter("DDIM, 50 steps", [("DDIM", ddim50!, sampleColor)]).render(),
                              scatter("DDPM, \(T) steps", [("DDPM", samples, sampleColor)]).render()], gap: 8, background: .white),
                name: "ddim.png", caption: "\(count) samples by DDIM with 50 steps (left) and by DDPM's \(T) ancestral steps (right)")
book.say("""
    DDIM with 50 steps scores \(fmt(edDDIM50, 3)) against DDPM's \(fmt(edAncestral, 3)) with \(T), \
    in \(seconds(ddim50Seconds)) instead of \(seconds(ancestralSeconds)) \
    (\(fmt(ancestralSeconds / max(ddim50Seconds, 1e-9), 3))× faster); the noise floor is \
    \(fmt(noiseFloor.mean, 3)) ± \(fmt(noiseFloor.sd, 2)). Too few steps (10) leave the curve blurred: each \
    jump trusts one prediction of x̂₀ over a long stretch of the schedule.
    """)

// MARK: - 2.6 The three datasets (--ablate)

book.section("2.6 All three datasets\(options.run.ablate ? "" : " (run with --ablate)")")
if options.run.ablate {
    book.say("""
        The same recipe on each dataset (weights cached like the main run's), each judged against \
        \(count) fresh points of its own data and its own noise floor.
        """)
    var rows: [[String]] = []
    var panels: [Image] = []
    for set in Toy2D.allCases {
        var c = recipe
        c.dataset = set
        let (m2, t) = book.must { try c.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "train \(set.rawValue)") }
        let p = m2.predictor
        var r = RandomGenerator(seed: seed &+ 1_000_003)
        let fresh = set.sample(count, using: &r)
        let anc = Sampler.ddpm(steps: T).sample(p, from: Tensor.randn([count, 2], using: &r), schedule: schedule, using: &r)
        let dd = Sampler(eta: 0, steps: 50).sample(p, from: Tensor.randn([count, 2], using: &r), schedule: schedule, using: &r)
        let values = (0..<5).map { _ in energyDistance(set.sample(count, using: &r), toData: fresh) }
        let m = values.reduce(0, +) / 5
        let sd = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 4).squareRoot()
        let noise = energyDistance(Tensor.randn([count, 2], using: &r), toData: fresh)
        rows.append([set.rawValue, fmt(energyDistance(anc, toData: fresh), 3), fmt(energyDistance(dd, toData: fresh), 3),
                     "\(fmt(m, 3)) ± \(fmt(sd, 2))", fmt(noise, 3),
                     t.fromCache ? "cached" : seconds(t.seconds)])
        panels.append(scatter("\(set.rawValue): DDPM samples", [("data", fresh, dataColor), ("samples", anc, sampleColor)],
                              size: 360, textScale: 1).render())
    }
    book.table(headers: ["dataset", "DDPM 1000 steps", "DDIM 50 steps", "noise floor (mean ± sd of 5)", "pure noise", "training"],
               rows: rows)
    book.figure(Image.hstack(panels, gap: 8, background: .white), name: "datasets-samples.png",
                    caption: "Samples (orange) over fresh data (blue) for each dataset, \(T) ancestral steps")
} else {
    book.say("""
        `--ablate` trains the same recipe on all three datasets (cached by recipe) and tables \
        DDPM's and DDIM's energy distance beside each dataset's noise floor. Or run one at a time with \
        `--dataset spiral`, `--dataset rings`.
        """)
}

if let mine {
    // The library's DDIM-50 on the same network from the same x_T, the yardstick for the learner's loop.
    var r = RandomGenerator(seed: seed &+ 77)
    let reference = Sampler(eta: 0, steps: 50).sample(predictor, from: Tensor.randn([count, 2], using: &r), schedule: schedule, using: &r)
    compareMine(mine, predictor, seed: seed &+ 39)
    gradeMine(mine, ancestral: edAncestral, ddim50: edDDIM50, libraryDDIM50: energyDistance(reference, toData: data), floor: noiseFloor.mean)
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trained.fromCache ? " (weights from the cache)" : ", training included").")
book.save()
