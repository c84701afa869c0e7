// Chapter 1 — Noise addition: the forward process.
//
//   swift run -c release 01-noise [--quick] [--seed N] [--out DIR] [--image PATH]
//
// A notebook in five sections; each prints what it shows and adds it to report.md. The lesson code
// is in Sources/Diffusion/NoiseSchedule.swift (schedules, `step` = DDPM eq. 2, `addNoise` = eq. 4);
// Agreement.swift beside this file loads the image and runs the measurement of section 1.3.

import ArgumentParser
import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "01-noise",
        abstract: "Chapter 1: the forward process. Adds noise to an image with the linear (DDPM) and cosine "
            + "(Nichol & Dhariwal) schedules, step by step and in closed form, and measures that both agree.")
    @OptionGroup var common: CommonOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("Noise your own PNG instead of a Shapes image (shrunk to ≤ 64 px).", valueName: "path"))
    var image: String?
    @Flag(help: "Run the chapter on your build exercises (exercises/Chapter01: cosineBetas, noisyBatch) and grade what they produce.")
    var mine = false
}
let options = Options.parseOrExit()
let seed = options.common.seed, quick = options.common.quick
let started = Date()
var rng = RandomGenerator(seed: seed)
let x0 = options.image.map { learnerImage(path: $0) } ?? shapesImage(using: &rng)  // a bad file stops here
let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 1: Noise addition, the forward process")
func fmt(_ v: Double, _ digits: Int = 4) -> String { Report.format(v, digits: digits) }

// With --mine the cosine schedule and the closed-form jump of 1.3 are the learner's (exercises/Chapter01).
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
let cosine = mine.map(learnersCosineSchedule) ?? NoiseSchedule.cosine()
let schedules = [NoiseSchedule.linear(), cosine]
let T = schedules[0].steps
let shown = [0, 50, 100, 250, 500, 750, 999]
book.say("""
    Run with seed \(seed)\(quick ? ", --quick" : ""). The clean image x₀ is \(x0.description), \
    as RGB values in −1…1. T = \(T) steps.
    """)

// MARK: - 1.1 The schedules

book.section("1.1 Two variance schedules")
book.say("""
    The forward process destroys an image in T small steps. Step t keeps √(1 − β_t) of the image and \
    adds Gaussian noise of variance β_t; the schedule is the list β_0 … β_{T−1}. With α_t = 1 − β_t, \
    what survives after step t is ᾱ_t = α_0·α_1⋯α_t of the signal's power, and the signal-to-noise \
    ratio is SNR = ᾱ_t/(1 − ᾱ_t).

    *Linear* (DDPM, Ho et al. 2020): β rises evenly from 1e-4 to 0.02. *Cosine* (Nichol & Dhariwal \
    2021, eq. 17): ᾱ is set directly, ᾱ(τ) = f(τ)/f(0) with f(τ) = cos²((τ/T + s)/(1 + s)·π/2), \
    s = 0.008, and β_τ = 1 − ᾱ(τ)/ᾱ(τ−1), clipped at 0.999 (the offset s keeps the first β from \
    being vanishingly small; the clip avoids β = 1 at the very end, where α = 0 and the reverse \
    process, which divides by √α_t, would break down).
    """)
book.table(
    headers: ["t", "linear β", "linear ᾱ", "linear log-SNR", "cosine β", "cosine ᾱ", "cosine log-SNR"],
    rows: shown.map { t in
        [String(t)] + schedules.flatMap { s in
            [fmt(Double(s.beta[t]), 3), fmt(Double(s.alphaBar[t]), 5), fmt(Double(s.logSNR(t)), 3)]
        }
    })
for s in schedules {
    let line = "\(fmt(Double(s.alphaBar[T - 1]), 3)) (so x₀ is scaled by √ᾱ = \(fmt(Double(s.alphaBar[T - 1].squareRoot()), 3)))"
    print("\(s.kind) ᾱ at t = T−1: \(line)")
    book.report.keyValue("\(s.kind) ᾱ at t = T−1", line)
}
book.say("""
    Both end with ᾱ_{T−1} close to 0, so after the last step what is left of x₀ is far below the \
    noise, whose variance 1 − ᾱ is then 1: x_{T−1} is, for all practical purposes, a draw of N(0, I), \
    whatever the image was. That is where sampling starts in chapter 2. log-SNR is in nats (natural \
    log). Every step of both schedules is in [schedules.csv](schedules.csv).
    """)
book.must { try writeCSV(book.path("schedules.csv"),
             header: ["t", "linear_beta", "linear_alphaBar", "linear_logSNR", "cosine_beta", "cosine_alphaBar", "cosine_logSNR"],
             rows: (0..<T).map { (t: Int) -> [String] in
                 let numbers: [Float] = schedules.flatMap { s in [s.beta[t], s.alphaBar[t], s.logSNR(t)] }
                 return [String(t)] + numbers.map { "\(Double($0))" }
             }) }
var betaPlot = Plot(title: "Noise added per step, beta_t", xLabel: "t", yLabel: "beta_t (log scale)",
                    width: 640, height: 400, logY: true, legend: .topLeft)
for s in schedules { betaPlot.line(s.kind.rawValue, y: s.beta) }
book.figure(betaPlot, name: "beta.png",
                caption: "β_t against t. The cosine schedule adds less noise early, more late, and its last β is clipped at 0.999.")

// MARK: - 1.2 The time index convention

book.section("1.2 The time index: code t = paper t − 1")
book.say("""
    Papers count steps 1…T; arrays count 0…T−1. This course uses one convention everywhere \
    (written in NoiseSchedule's doc comment and tested): in code t runs 0…T−1, and code step t is the \
    paper's step t + 1. So `beta[0]` is the paper's β₁, `alphaBar[T−1]` its ᾱ_T, and `alphaBar[t]` \
    already includes step t: x_t is the image *after* step t. The clean image x₀ sits before the first \
    step, where ᾱ = 1 (`alphaBar(before: 0)`). A network is told t as t/T, a number in [0, 1).
    """)
let linear = schedules[0]
book.table(headers: ["code t", "paper t", "β (code beta[t])", "ᾱ (code alphaBar[t])", "what x_t is"], rows: [
    ["before 0", "0", "—", fmt(Double(linear.alphaBar(before: 0))), "x₀, the clean image"],
    ["0", "1", fmt(Double(linear.beta[0])), fmt(Double(linear.alphaBar[0]), 6), "after the first step"],
    ["1", "2", fmt(Double(linear.beta[1])), fmt(Double(linear.alphaBar[1]), 6), "after two steps"],
    ["\(T - 1)", "\(T)", fmt(Double(linear.beta[T - 1])), fmt(Double(linear.alphaBar[T - 1]), 3), "after all T steps (the paper's x_T): noise"],
])
book.say("""
    Values of the linear schedule. An off-by-one between the training code and the sampler raises no \
    error: the model still trains, and the mismatch only shows as worse samples. Hence one convention, \
    one place.
    """)

// MARK: - 1.3 One step at a time vs the closed form

book.section("1.3 One step at a time, or straight to step t")
book.say("""
    The forward process is a chain: each step is a Gaussian around a shrunken copy of the previous image,
    ```
    q(x_t | x_{t−1}) = N(√(1 − β_t)·x_{t−1}, β_t·I)          DDPM eq. (2)
    ```
    Scaling a Gaussian and adding an independent one gives a Gaussian again, with the means scaled and \
    the variances added. After step t the image has been scaled by √(α_0⋯α_t) = √ᾱ_t and the noise \
    variances have added up to 1 − ᾱ_t, so x_t can be drawn in one jump:
    ```
    q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I),   i.e.   x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε,  ε ~ N(0, I)     DDPM eq. (4)
    ```
    Training (chapter 2) relies on the jump: it needs x_t at a random t, thousands of times. Here we \
    check it. For each schedule we push the same image through the chain with `step`, in many \
    independent copies at once, and at each shown t also draw the same number of fresh x_t with \
    `addNoise`. For every pixel value i we then measure, over the draws, its mean and its variance, and \
    compare them with eq. (4)'s √ᾱ_t·x0_i and 1 − ᾱ_t.
    """)
// One chain step costs `draws` × (values of x₀) normal draws, so bigger images get fewer draws.
let drawBudget = quick ? 32 * 768 : 256 * 768
let draws = max(quick ? 8 : 32, drawBudget / x0.chw.count)
var agreement: [Agreement] = []
var chains: [NoiseSchedule.Kind: [Int: [Float]]] = [:]
for s in schedules {
    let measured = measureAgreement(x0: x0, schedule: s, checkpoints: shown, draws: draws,
                                    jump: mine.map { learnersJump($0, schedule: s) }
                                        ?? { x0, t, noise in s.addNoise(x0, t: [Int](repeating: t, count: x0.shape[0]), noise: noise) },
                                    rng: &rng)
    agreement += measured.rows
    chains[s.kind] = measured.firstChain
}
let values = x0.chw.count
book.say("""
    \(draws) draws per route and t, \(values) values each (\(x0.height)×\(x0.width) pixels × 3 channels), \
    \(T) chain steps per schedule. Two numbers per row, each with its value if the route follows eq. (4):
    - **mean z**, **RMS z**: z_i = (measured mean − √ᾱ_t·x0_i) / (standard error √((1 − ᾱ_t)/\(draws))). \
    If the mean is right each z_i is a standard normal: average ≈ 0 (± \(fmt(1 / Double(values).squareRoot(), 2))), \
    RMS ≈ 1 (± \(fmt(1 / (2 * Double(values)).squareRoot(), 2))).
    - **variance ratio**: the measured variance, averaged over values, divided by 1 − ᾱ_t: ≈ 1 \
    (± \(fmt(agreement[0].varianceRatioSD, 2))).
    """)
book.table(headers: ["schedule", "t", "ᾱ_t", "1 − ᾱ_t", "route", "mean z", "RMS z", "variance ratio"],
           rows: agreement.map { a in
               [a.schedule.rawValue, String(a.t), fmt(a.alphaBar, 5), fmt(1 - a.alphaBar, 4), a.route,
                String(format: "%+.3f", a.meanZ), String(format: "%.3f", a.rmsZ), String(format: "%.4f", a.varianceRatio)]
           })
let worstRatio = agreement.map { abs($0.varianceRatio - 1) / $0.varianceRatioSD }.max()!
let worstRMS = agreement.map { abs($0.rmsZ - 1) * (2 * Double(values)).squareRoot() }.max()!
book.say("""
    Both routes land on eq. (4)'s prediction at every t, from t = 0 (variance 1e-4 or less: almost the clean \
    image) to t = 999 (variance 1: noise), to within the sampling error: the largest deviation \
    from 1 is \(fmt(worstRatio, 2)) standard deviations for a variance ratio and \(fmt(worstRMS, 2)) for \
    an RMS z (with \(agreement.count) rows, up to about 3 is chance). Mean and variance pin a \
    Gaussian down completely, and both routes give Gaussians, with every value independent of the \
    others, so they give the same distribution.

    The same comparison in numbers you can follow by eye: the \(agreement[0].brightCount) values where \
    x₀ is brightest (x0 = \(fmt(Double(x0.chw.max()!), 3))), pooled — their mean fades towards 0 while \
    their spread grows towards 1:
    """)
book.table(headers: ["schedule", "t", "predicted mean √ᾱ·x0", "step-by-step mean", "closed-form mean",
                     "predicted sd √(1−ᾱ)", "step-by-step sd", "closed-form sd"],
           rows: stride(from: 0, to: agreement.count, by: 2).map { i in
               let a = agreement[i], b = agreement[i + 1]
               return [a.schedule.rawValue, String(a.t), fmt(a.brightPredictedMean, 3), fmt(a.brightMean, 3), fmt(b.brightMean, 3),
                       fmt((1 - a.alphaBar).squareRoot(), 3), fmt(a.brightSD, 3), fmt(b.brightSD, 3)]
           })
let brightDraws = draws * agreement[0].brightCount
book.say("""
    (These pool \(agreement[0].brightCount) values × \(draws) draws = \(brightDraws) numbers per cell, so a \
    measured mean wanders from the prediction by about sd/√\(brightDraws) = \
    \(fmt(1 / Double(brightDraws).squareRoot(), 2))·sd; two or three times that is still chance.) \
    All rows are in [agreement.csv](agreement.csv).
    """)
book.must { try writeCSV(book.path("agreement.csv"),
             header: ["schedule", "t", "alphaBar", "route", "draws", "values", "predicted_variance",
                      "mean_z", "rms_z", "variance_ratio", "bright_values", "bright_predicted_mean", "bright_mean", "bright_sd"],
             rows: agreement.map { a in
                 [a.schedule.rawValue, String(a.t), "\(a.alphaBar)", a.route, String(a.draws), String(a.values),
                  "\(1 - a.alphaBar)", "\(a.meanZ)", "\(a.rmsZ)", "\(a.varianceRatio)",
                  String(a.brightCount), "\(a.brightPredictedMean)", "\(a.brightMean)", "\(a.brightSD)"]
             }) }

// MARK: - 1.4 An image dissolving

book.section("1.4 An image dissolving")
let scale = max(1, 128 / max(x0.height, x0.width))  // ×8 for 16×16, ×4 for 32×32, ×2 for 64×64
let strip = ImageGrid(
    rows: schedules.map { s in shown.map { t in Image(chw: chains[s.kind]![t]!, channels: 3, height: x0.height, width: x0.width) } },
    scale: scale, padding: 4, rowLabels: schedules.map(\.kind.rawValue), columnLabels: shown.map { "t=\($0)" },
    title: "x_t along one run of the forward process", textScale: 2)
book.figure(strip.render(), name: "dissolve.png",
                caption: "One chain of the forward process per schedule (x_t after step t), shown ×\(scale)")
book.say("""
    Each row is one real path of the chain of 1.3 (its first draw), so the noise at t = 500 is the \
    noise of t = 250 carried on plus fresh noise. Values are clipped to −1…1 for display; noise \
    pushes many outside. Under the linear schedule the image is fading at t = 250 \
    (ᾱ = \(fmt(Double(linear.alphaBar[250]), 2))) and gone by t = 500 (ᾱ = \(fmt(Double(linear.alphaBar[500]), 2))); \
    under the cosine schedule it is still clear at t = 250 (ᾱ = \(fmt(Double(schedules[1].alphaBar[250]), 2))) \
    and faintly there at t = 500 (ᾱ = \(fmt(Double(schedules[1].alphaBar[500]), 2))).
    """)

// MARK: - 1.5 Signal vs noise

book.section("1.5 Signal against noise: what the cosine schedule changes")
var alphaPlot = Plot(title: "Signal kept, alpha-bar_t", xLabel: "t", yLabel: "alpha-bar_t",
                     width: 640, height: 400, yRange: 0...1, legend: .topRight)
var snrPlot = Plot(title: "Signal-to-noise, log-SNR_t", xLabel: "t", yLabel: "ln(alpha-bar / (1 - alpha-bar))",
                   width: 640, height: 400, legend: .topRight)
for s in schedules {
    alphaPlot.line(s.kind.rawValue, y: s.alphaBar)
    snrPlot.line(s.kind.rawValue, y: (0..<T).map { s.logSNR($0) })
}
book.figure(alphaPlot, name: "alpha-bar.png", caption: "ᾱ_t: the fraction of the signal's power left after step t")
book.figure(snrPlot, name: "log-snr.png", caption: "log-SNR_t = ln(ᾱ_t/(1 − ᾱ_t)) against t, in nats")
book.table(headers: ["schedule", "ᾱ_t falls below 0.5 at t", "steps with ᾱ_t < 0.01 (log-SNR < −4.6)", "steps with ᾱ_t > 0.99"],
           rows: schedules.map { s in
               [s.kind.rawValue, String(s.alphaBar.firstIndex { $0 < 0.5 }!),
                String(s.alphaBar.filter { $0 < 0.01 }.count), String(s.alphaBar.filter { $0 > 0.99 }.count)]
           })
let nearlyNoise = schedules.map { s in s.alphaBar.filter { $0 < 0.01 }.count }
book.say("""
    The linear schedule spends its signal fast: ᾱ is halved by t = \(linear.alphaBar.firstIndex { $0 < 0.5 }!), \
    and \(nearlyNoise[0]) of its \(T) steps — its last third — have less than 1 % of the signal's power \
    left: steps where a denoiser sees almost nothing of the image, yet training visits them as often \
    as any other. The cosine schedule keeps ᾱ near 1 for longer (\(schedules[1].alphaBar.filter { $0 > 0.99 }.count) \
    steps above 0.99, against \(linear.alphaBar.filter { $0 > 0.99 }.count)), passes 0.5 in the middle \
    (t = \(schedules[1].alphaBar.firstIndex { $0 < 0.5 }!)) and has only \(nearlyNoise[1]) steps below 1 %. \
    Its log-SNR lies above the linear one at every t, falls along a nearly straight line through the \
    middle, and plunges only in the last few dozen steps, where β climbs to its clip at 0.999. Nichol \
    & Dhariwal introduced it for small images like ours (32×32 and 64×64), where the linear schedule \
    turns the image into noise too early.
    """)

if let mine {
    compareMine(mine, cosine: cosine, image: x0, seed: seed &+ 19)
    gradeMine(mine, cosine: cosine, agreement: agreement)
}

let seconds = Date().timeIntervalSince(started)
book.say("Run time: \(String(format: "%.1f", seconds)) s.")
book.save()
