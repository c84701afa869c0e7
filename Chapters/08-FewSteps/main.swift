// Chapter 8 — From a thousand steps to a few: better solvers, and progressive distillation.
//
//   swift run -c release 08-few-steps [--dataset moons|spiral|rings] [--quick] [--seed N] [--out DIR] [--retrain]
//                                     [--samples N] [--round-steps N] [--teacher-steps N] [--chapter2 DIR] [--mine]
//
// A notebook in six sections; each prints what it shows and adds it to report.md. The lesson code is in
// Sources/Diffusion/Solvers.swift (DPM-Solver++(2M)), Sources/Diffusion/Distillation.swift (progressive
// distillation) and Sources/Diffusion/Metrics.swift (precision and recall). The models are chapter 2's
// (Sources/ChapterKit/Points2D.swift): their weights are loaded from chapter 2's output folder when they are
// there, and trained (and cached here) when not. Model.swift beside this file holds the command line and
// the distillation's recipe.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

let options = Options.parseOrExit()
let started = Date()
let quick = options.quick, seed = options.common.seed
let schedule = NoiseSchedule.named(.linear)
let T = schedule.steps
let count = options.sampleCount
let main = options.dataset
let book = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 8: From a thousand steps to a few")
let chapter2Folder = options.chapter2  // where `swift run -c release 02-mlp` caches its weights
func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
/// 50306 → "50,306".
func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0 ? [","] : []) + [d] })
}
func seconds(_ v: Double) -> String { String(format: v < 1 ? "%.2f s" : "%.1f s", v) }
let dataColor = Color(190, 205, 235), sampleColor = Color(220, 80, 30)
var trainedSomething = false
// With --mine the learner's grid, solver step and distillation target run in place of the library's (Mine.swift).
let mine = options.mine ? MineRun(chapter: Options.chapter) : nil
if let mine { installMine(mine) }

book.say("""
    Run with seed \(seed)\(quick ? ", --quick" : ""); \(count) samples per measurement against \(count) fresh data points; \
    the solvers and the distillation on **\(main.rawValue)**.
    """)

// MARK: - 8.1 What a sample costs

book.section("8.1 What a sample costs: network calls")
book.say("""
    Every sampler in this course spends its time in one place: the network. A step of any of them is a few \
    multiply-adds per number plus one call of ε_θ, and ε_θ is the whole model — so the price of a sample is the \
    number of network calls, the NFE (number of function evaluations). Chapter 2 paid 1,000 calls with DDPM's \
    Algorithm 2 and about 50 with DDIM. This chapter measures, call for call, three ways to spend a budget of n \
    calls on the same trained network, then trains the network itself to need fewer:
    ```
    DDPM (ancestral)   n steps of the trailing grid, fresh noise each step       DDIM eq. (12) with η = 1
    DDIM (η = 0)       n deterministic steps: x_t′ = α_t′·x̂₀ + σ_t′·ε̂             first order in λ
    DPM-Solver++(2M)   n steps, x̂₀ extrapolated from this step's and the last    second order in λ
    ```
    (α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), λ_t = log(α_t/σ_t); with n = \(T) the ancestral one is Algorithm 2 itself.) \
    DDIM with η = 0 is the exact solution of the probability-flow ODE over one step *if x̂₀ stayed constant* over \
    it (Lu et al. 2022, "DPM-Solver", which names it DPM-Solver-1). It does not: x̂₀ drifts as the noise falls, \
    and a long step pays for treating it as fixed. DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2) \
    keeps the x̂₀ of the previous step and extrapolates linearly in λ:
    ```
    h = λ_t′ − λ_t,   r = (λ_t − λ_prev)/h,   D = (1 + 1/(2r))·x̂₀(x_t) − 1/(2r)·x̂₀(x_prev)
    x_t′ = (σ_t′/σ_t)·x_t − α_t′·(e^(−h) − 1)·D                                 one network call a step
    ```
    (`DPMSolver.step`, Sources/Diffusion/Solvers.swift.) We chose it over Heun's method on the EDM grid \
    (Karras et al. 2022, Algorithm 1) because Heun's step calls the network twice, so at a budget of n calls it \
    takes n/2 steps, and because 2M runs on the model's own discrete time grid with nothing retrained. Its first \
    step has no previous x̂₀ and is DDIM's; so is its last, which lands on x₀.

    Which n steps? All three use chapter 2's trailing grid, evenly spaced in t from T − 1 down \
    (`DDIM.timesteps`), so they are compared call for call. DPM-Solver's authors space the steps evenly in λ \
    instead (Lu et al. 2022, "DPM-Solver": λ*_i = λ_{T−1} + i·(λ_0 − λ_{T−1})/n, each moved to the \
    nearest step and kept below the one before; `DPMSolver.logSNRTimesteps`); on the linear schedule that puts more steps near t = 0. The fourth \
    row runs DPM-Solver++(2M) on that grid.
    """)

// MARK: - 8.2 The models

book.section("8.2 The models: chapter 2's MLPs")
/// Chapter 2's model for `set` with `depth` hidden layers: from chapter 2's folder if it is cached there,
/// else from this chapter's folder, else trained (and cached here).
func chapter2Model(_ set: Toy2D, depth: Int = 4, target: PredictionTarget = .epsilon, label: String)
    -> (model: NoiseMLP, predictor: NoisePredictor, record: TrainingRecord) {
    let recipe = options.mlpRecipe(set, depth: depth, target: target)
    let (model, record) = book.must {
        try recipe.trainOrLoad(in: book.directory, alsoIn: [chapter2Folder], retrain: options.run.retrain, label: label)
    }
    if !record.fromCache { trainedSomething = true }
    return (model, recipe.predictor(model), record)
}
func provenance(_ record: TrainingRecord) -> String {
    record.fromCache ? "loaded from \(record.path.hasPrefix(chapter2Folder) ? "chapter 2's" : "this chapter's") cache (trained in \(seconds(record.seconds)))"
        : "trained now in \(seconds(record.seconds))"
}
let sets: [Toy2D] = [main] + Toy2D.allCases.filter { $0 != main }
let models = sets.map { chapter2Model($0, label: "train \($0.rawValue)") }
book.say("""
    The networks are chapter 2's: an MLP on [x, y, t/T], width 128, 4 hidden layers, \(grouped(models[0].model.parameterCount)) \
    parameters, trained on ε for \(grouped(options.mlpRecipe(main).training.steps)) steps of batch 256 on each dataset — \
    \(zip(sets, models).map { "\($0.rawValue) \(provenance($1.record))" }.joined(separator: "; ")). \
    Every sampler below draws from the same x_T ~ N(0, I) per dataset, and every sample set is compared with \
    the same \(count) fresh data points.
    """)

// MARK: - 8.3 Quality against network calls

book.section("8.3 Quality against network calls")
book.say("""
    Two yardsticks. The energy distance of chapter 2 (0 when the clouds match; its noise floor is the score \
    of more data against the same data). And precision and recall (Kynkäänniemi et al. 2019, §2): put a ball \
    around every data point reaching its 5th nearest neighbour among the data; **precision** is the share of \
    samples inside some ball (are the samples where data is?), **recall** the same with the roles swapped \
    (is every part of the data covered?). A sampler that leaves points between the curves loses precision; \
    one that collapses onto part of them loses recall (`precisionRecall`, Sources/Diffusion/Metrics.swift).
    """)
let budgets = quick ? [1, 2, 4, 8] : [1, 2, 4, 8, 16, 32, 64]
enum Solver: String, CaseIterable {
    case ddpm = "DDPM (ancestral)", ddim = "DDIM (η = 0)", dpm = "DPM-Solver++(2M)", dpmLambda = "DPM-Solver++(2M), λ grid"
    /// The name in figures, whose font has no Greek.
    var short: String {
        switch self { case .ddpm: "DDPM"; case .ddim: "DDIM"; case .dpm: "DPM++2M"; case .dpmLambda: "DPM++ logSNR" }
    }
    /// The name in the measurement cache.
    var key: String {
        switch self { case .ddpm: "ddpm"; case .ddim: "ddim"; case .dpm: "dpm2m"; case .dpmLambda: "dpm2m-logsnr" }
    }
}
/// Samples from `xT` with `solver` in `n` network calls; ancestral noise from `rng`.
func draw(_ solver: Solver, _ n: Int, _ predictor: NoisePredictor, from xT: Tensor, using rng: inout RandomGenerator) -> Tensor {
    switch solver {
    case .ddpm: return (n == T ? Sampler.ddpm(steps: T) : Sampler(eta: 1, steps: n)).sample(predictor, from: xT, schedule: schedule, using: &rng)
    case .ddim: return Sampler(eta: 0, steps: n).sample(predictor, from: xT, schedule: schedule, using: &rng)
    case .dpm: return DPMSolver.sample(predictor, from: xT, schedule: schedule, steps: n)
    case .dpmLambda: return DPMSolver.sample(predictor, from: xT, schedule: schedule, times: DPMSolver.logSNRTimesteps(count: n, schedule: schedule))
    }
}
struct Quality { var energy: Double; var precision: Double; var recall: Double }
func judge(_ samples: Tensor, against data: Tensor) -> Quality {
    let pr = precisionRecall(samples: samples, data: data, k: 5)
    return Quality(energy: energyDistance(samples, toData: data), precision: pr.precision, recall: pr.recall)
}
/// One dataset's fresh data, starting noise and noise floor (mean of 3 fresh draws against the same data).
struct Yardstick { let data: Tensor; let xT: Tensor; let floor: Quality }
func yardstick(_ set: Toy2D) -> Yardstick {
    var rng = RandomGenerator(seed: seed &+ 8_000 &+ UInt64(Toy2D.allCases.firstIndex(of: set)!))
    let data = set.sample(count, using: &rng), xT = Tensor.randn([count, 2], using: &rng)
    let floors = (0..<3).map { _ in judge(set.sample(count, using: &rng), against: data) }
    func mean(_ f: (Quality) -> Double) -> Double { floors.map(f).reduce(0, +) / Double(floors.count) }
    return Yardstick(data: data, xT: xT, floor: Quality(energy: mean(\.energy), precision: mean(\.precision), recall: mean(\.recall)))
}
let yardsticks = Dictionary(uniqueKeysWithValues: sets.map { ($0, yardstick($0)) })
/// Every sampler at every budget on every dataset: each cell's samples and (energy, precision, recall).
func measureSamplers() -> [String: Tensor] {
    var values: [String: Tensor] = [:]
    for (set, m) in zip(sets, models) {
        let y = yardsticks[set]!
        var rng = RandomGenerator(seed: seed &+ 8_100)
        for solver in Solver.allCases {
            for n in budgets + (solver == .ddpm ? [T] : []) {
                let samples = draw(solver, n, m.predictor, from: y.xT, using: &rng)
                let q = judge(samples, against: y.data)
                values["\(set.rawValue)-\(solver.key)-\(n)"] = samples
                values["\(set.rawValue)-\(solver.key)-\(n)-quality"] = Tensor([q.energy, q.precision, q.recall].map(Float.init), shape: [3])
            }
        }
    }
    return values
}
// With --mine the learner's grid and step run, so nothing is cached; otherwise the measurement is cached
// under the three models' weights keys and the settings.
let clock = Date()
let sampled: MeasuredValues? = mine != nil ? nil : book.must {
    try measureOrLoad("samplers-2d", description: """
        samplers per call: \(zip(sets, models).map { "\($0.rawValue) \(options.mlpRecipe($0).key(for: $1.model))" }); \
        \(count) samples; seed \(seed); budgets \(budgets) and \(T) ancestral; solvers \(Solver.allCases.map(\.key))
        """, in: book.directory, remeasure: options.run.retrain, measureSamplers)
}
let samplerValues = sampled?.values ?? measureSamplers()
let measureSeconds = sampled?.seconds ?? Date().timeIntervalSince(clock)
var results: [Toy2D: [Solver: [Int: (quality: Quality, samples: Tensor)]]] = [:]
for set in sets {
    for solver in Solver.allCases {
        for n in budgets + (solver == .ddpm ? [T] : []) {
            let name = "\(set.rawValue)-\(solver.key)-\(n)"
            guard let samples = samplerValues[name], let q = samplerValues[name + "-quality"]?.data.map(Double.init) else {
                book.fail("cached measurement \(sampled?.path ?? "") lacks \(name); delete the file or run with --retrain")
            }
            results[set, default: [:]][solver, default: [:]][n] = (Quality(energy: q[0], precision: q[1], recall: q[2]), samples)
        }
    }
}
let ms = results[main]!, floor = yardsticks[main]!.floor
func cell(_ q: Quality?) -> String { q.map { "\(fmt($0.energy, 2)) · \(fmt($0.precision, 2)) · \(fmt($0.recall, 2))" } ?? "—" }
book.table(headers: ["\(main.rawValue): energy · precision · recall"] + budgets.map { "\($0) call\($0 == 1 ? "" : "s")" } + ["\(T) calls"],
           rows: Solver.allCases.map { s in [s.rawValue] + (budgets + [T]).map { cell(ms[s]?[$0]?.quality) } }
               + [["data against data (floor)"] + budgets.map { _ in "" } + [cell(floor)]])

var plots: [Image] = []
for set in sets {
    var plot = Plot(title: set.rawValue, xLabel: "log2(network calls)", yLabel: "energy distance (log)", width: 420, height: 340,
                    logY: true, legend: set == main ? .topRight : .hidden, textScale: 1)
    for (solver, color) in zip(Solver.allCases, [Color(120, 120, 120), Color(40, 90, 200), Color(220, 80, 30), Color(150, 60, 170)]) {
        plot.line(solver.short, x: budgets.map { log2(Double($0)) }, y: budgets.map { results[set]![solver]![$0]!.quality.energy },
                  color: color)
    }
    let f = yardsticks[set]!.floor.energy
    plot.line("data floor", x: [0, log2(Double(budgets.last!))], y: [f, f], color: Color(60, 160, 60), thickness: 1)
    plots.append(plot.render())
}
book.figure(Image.hstack(plots, gap: 8, background: .white), name: "quality-per-call.png",
            caption: "Energy distance against network calls for the three samplers on each dataset (log scales); the green line is data against data")
let shownBudgets = budgets.filter { $0 <= 16 }
var rows: [Image] = []
for solver in Solver.allCases {
    rows.append(Image.hstack(shownBudgets.map { n in
        scatter("\(solver.short), \(n)", [("", ms[solver]![n]!.samples, sampleColor)],
                size: 220, textScale: 1).render()
    }, gap: 6, background: .white))
}
book.figure(Image.vstack(rows, gap: 6, background: .white), name: "samples-per-call.png",
            caption: "\(main.rawValue): samples by DDPM, DDIM, DPM-Solver++(2M) and DPM-Solver++(2M) on the log-SNR grid (rows, top to bottom) with \(shownBudgets.map(String.init).joined(separator: ", ")) network calls, the same x_T")

func at(_ s: Solver, _ n: Int) -> Quality { ms[s]![n]!.quality }
let few = quick ? 4 : 8
let trailingLast = DDIM.timesteps(count: few, steps: T).last!
let lambdaOf = { (t: Int) in NoiseLevel(t, schedule).lambda }
let lowShare = (lambdaOf(0) - lambdaOf(trailingLast)) / (lambdaOf(0) - lambdaOf(T - 1))
let lambdaGrid = DPMSolver.logSNRTimesteps(count: few, schedule: schedule)
let lambdaBetter = budgets.filter { $0 >= 4 }.filter { at(.dpmLambda, $0).energy < at(.dpm, $0).energy }
let mid = quick ? 8 : 16
let noiseToSignal = 1 / exp(lambdaOf(T - 1))  // σ/α at the grid's first point
let ancestralWorst = budgets.filter { $0 >= 4 && at(.ddpm, $0).energy > max(at(.ddim, $0).energy, at(.dpm, $0).energy) }
let ancestralBeatsAll = [Solver.ddim, .dpm, .dpmLambda].allSatisfy { at(.ddpm, T).energy < at($0, budgets.last!).energy }
let dpmBeats = budgets.filter { $0 >= 4 }.filter { at(.dpm, $0).energy < at(.ddim, $0).energy }
book.say("""
    Measured in \(seconds(measureSeconds)) for the three datasets\(sampled?.fromCache == true ? " (by an earlier run with the same weights and settings, read back from \((sampled!.path as NSString).lastPathComponent); --retrain measures again)" : ""). On \(main.rawValue) at \(mid) calls DDIM scores \
    \(fmt(at(.ddim, mid).energy)) and DPM-Solver++(2M) \(fmt(at(.dpm, mid).energy)) \
    (\(fmt(at(.ddim, mid).energy / at(.dpm, mid).energy, 2))× lower), with precision \(fmt(at(.ddim, mid).precision, 2)) → \
    \(fmt(at(.dpm, mid).precision, 2)) and recall \(fmt(at(.ddim, mid).recall, 2)) → \(fmt(at(.dpm, mid).recall, 2)); \
    the second-order step is the better one at \(dpmBeats.count) of the \(budgets.filter { $0 >= 4 }.count) budgets from 4 calls up \
    (\(dpmBeats.map(String.init).joined(separator: ", "))). At 1 and 2 calls the two are the same sampler: the first \
    step and the last are first order (and one ancestral step, which lands on x₀, adds no noise). One call is a \
    smear, not the rings: it returns x̂₀ = (x_T − σ·ε̂)/α at the first step of the grid, where σ/α = \(fmt(noiseToSignal, 3)), \
    so the network's error is multiplied \(fmt(noiseToSignal, 3))-fold (section 8.5 comes back to this). On this grid the ancestral sampler \
    is the worst of the three at \(ancestralWorst.isEmpty ? "no budget from 4 calls up" : ancestralWorst.map(String.init).joined(separator: ", ") + " calls") \
    — fresh noise at every step takes many steps to average out — but with its full \(T) calls it scores \
    \(fmt(at(.ddpm, T).energy)) (the floor is \(fmt(floor.energy))), \(ancestralBeatsAll ? "better than" : "not better than") \
    any deterministic solver here at \(budgets.last!) calls: with many small steps its noise washes out the network's own \
    errors, which a deterministic solver carries to the end.

    The grid matters as much as the order of the step. On the log-SNR grid DPM-Solver++(2M) beats itself on the \
    trailing grid at \(lambdaBetter.isEmpty ? "none" : lambdaBetter.map(String.init).joined(separator: ", ")) of the budgets \
    from 4 calls up; at \(few) calls it scores \(cell(at(.dpmLambda, few))) against \(cell(at(.dpm, few))) (energy · \
    precision · recall). The trailing grid spaces its steps evenly in t, but λ does not move evenly with t: on the linear \
    schedule \(Int((100 * lowShare).rounded())) % of λ's range lies below t = \(trailingLast), the last step of the \
    \(few)-call trailing grid, and that grid crosses it in one jump to x₀ — the stretch where the points settle onto \
    their curve. The log-SNR grid puts \(lambdaGrid.filter { $0 < trailingLast }.count) of its \(few) steps there.
    """)

// MARK: - 8.4 The rings, before and after

book.section("8.4 The rings: why samples fell between them")
let rings = Toy2D.rings
let before = chapter2Model(rings, depth: 3, label: "train rings, 3 layers")
let after = models[sets.firstIndex(of: rings)!]  // `sets` holds all three datasets
let ringsYard = yardsticks[rings]!
var ringsRows: [[String]] = []
var ringsQuality: [String: (ancestral: Quality, deterministic: Quality, loss: [Double])] = [:]
let fine = quick ? 50 : 200
var ringsSamples: [Tensor] = []
for (name, m) in [("3 hidden layers", before), ("4 hidden layers", after)] {
    var rng = RandomGenerator(seed: seed &+ 8_200)
    // The 4-layer model's ancestral samples and their judgement are 8.3's (same x_T, same data).
    let (a, ancestral) = name == "4 hidden layers" ? results[rings]![.ddpm]![T]!
        : { let s = draw(.ddpm, T, m.predictor, from: ringsYard.xT, using: &rng); return (judge(s, against: ringsYard.data), s) }()
    let d = judge(draw(.dpm, fine, m.predictor, from: ringsYard.xT, using: &rng), against: ringsYard.data)  // the ODE solved finely
    let d50 = judge(draw(.ddim, 50, m.predictor, from: ringsYard.xT, using: &rng), against: ringsYard.data)
    ringsSamples.append(ancestral)
    let loss = DDPMTrainer.lossByTimeRange(m.predictor, schedule: schedule, batches: quick ? 2 : 8, seed: seed &+ 8_300) { rng in
        rings.sample(512, using: &rng)
    }
    ringsQuality[name] = (a, d, loss)
    ringsRows.append([name, grouped(m.model.parameterCount), cell(a), cell(d), cell(d50)] + loss.map { fmt($0, 3) })
}
book.table(headers: ["rings", "parameters", "DDPM \(T): E · P · R", "DPM-Solver++(2M) \(fine)", "DDIM 50"]
           + DDPMTrainer.standardRanges.map { "loss, t in \($0.lowerBound)…\($0.upperBound - 1)" }, rows: ringsRows)
book.figure(Image.hstack(zip(["3 hidden layers", "4 hidden layers"], ringsSamples).map { name, s in
    scatter("rings, \(name), DDPM \(T)", [("data", ringsYard.data, Color(60, 90, 200)), ("samples", s, sampleColor)], size: 420).render()
}, gap: 8, background: .white), name: "rings-before-after.png",
            caption: "Rings: \(T) ancestral steps of chapter 2's MLP with 3 hidden layers (left) and with 4 (right), over fresh data (blue)")
let (b, a) = (ringsQuality["3 hidden layers"]!.ancestral, ringsQuality["4 hidden layers"]!.ancestral)
let bd = ringsQuality["3 hidden layers"]!.deterministic
let lossGap = zip(ringsQuality["3 hidden layers"]!.loss, ringsQuality["4 hidden layers"]!.loss).map { $0 - $1 }
let widest = DDPMTrainer.standardRanges[lossGap.indices.max { lossGap[$0] < lossGap[$1] }!]
let allAfter = sets.map { set -> (Toy2D, Quality) in (set, results[set]![.ddpm]![T]!.quality) }
book.say("""
    With 3 hidden layers, chapter 2's MLP leaves about \(Int((100 * (1 - b.precision)).rounded())) % of its rings samples outside the data's balls \
    (precision \(fmt(b.precision, 2)) at \(T) ancestral steps; data against data scores \
    \(fmt(ringsYard.floor.precision, 2))). Which part is at fault? Not the solver: the same ODE solved finely, by \
    DPM-Solver++(2M) with \(fine) steps, scores precision \(fmt(bd.precision, 2)) against the ancestral \(fmt(b.precision, 2)) (table). Not the end of the \
    schedule: ᾱ at the last step is \(fmt(Double(schedule.alphaBar[T - 1]), 2)), so x_T is noise as the network \
    was trained to see it. Not a range to clip x̂₀ to: the stray points lie between the rings, well inside the data's \
    range. What is left is the network: with 3 layers its loss is higher in \(lossGap.filter { $0 > 0 }.count) of the \
    \(lossGap.count) ranges of t, by the most for t in \(widest.lowerBound)…\(widest.upperBound - 1) \
    (\(fmt(lossGap.max()!, 2)) higher), and the small-noise steps are where a point settles on one ring or the other. \
    One more hidden layer (chapter 2's default) \
    brings precision to \(fmt(a.precision, 2)) and recall to \(fmt(a.recall, 2)); on the three datasets, \
    \(T) ancestral steps give \(allAfter.map { "\($0.0.rawValue) \(fmt($0.1.precision, 2)) / \(fmt($0.1.recall, 2))" }.joined(separator: ", ")) \
    (precision / recall).
    """)

// MARK: - 8.5 Progressive distillation

book.section("8.5 Progressive distillation: one step where the teacher took two")
let distillation = options.distillation
let teacherRun = chapter2Model(main, target: .velocity, label: "train \(main.rawValue) on v")
book.say("""
    Solvers take better steps on the same network; distillation changes the network. Salimans & Ho (2022, \
    Algorithm 2) train a *student* that starts as a copy of its teacher and learns, at each of its N steps, the \
    one DDIM step that lands where two of the teacher's land:
    ```
    x ~ data,  i ~ Uniform{0…N−1},  t, t′, t″ = three consecutive points of the teacher's 2N-step grid
    z_t = α_t·x + σ_t·ε
    z_t′ = DDIM step of the teacher from z_t;   z_t″ = DDIM step of the teacher from z_t′      (no gradients)
    x̃ = (z_t″ − (σ_t″/σ_t)·z_t) / (α_t″ − (σ_t″/σ_t)·α_t)      the x̂₀ with which one step from z_t lands on z_t″
    L = max(α_t²/σ_t², 1)·‖x̃ − x̂₀_student(z_t)‖²               "truncated SNR" weighting (their §4)
    ```
    (`ProgressiveDistillation.target`, `.loss`, Sources/Diffusion/Distillation.swift.) Then the student becomes the \
    teacher and N halves. The student must be trained on v, not ε (their §4): at the grid's first point \
    ᾱ = \(fmt(Double(schedule.alphaBar[T - 1]), 2)), and a one-step sampler reading x̂₀ = (z − σ·ε̂)/α would multiply \
    every error of ε̂ by σ/α = \(fmt(noiseToSignal, 3)). \
    So the first teacher is chapter 2's recipe trained on v instead of ε (as chapters 6 and 7 do): \
    \(provenance(teacherRun.record)). It starts at \(distillation.teacherSteps) DDIM steps; each round trains \
    \(distillation.training.steps) steps of batch \(distillation.batch), Adam at \(distillation.training.learningRate) \
    with a \(Int(distillation.training.warmupFraction * 100)) % warm-up and a cosine decay, no EMA.
    """)
var rngT = RandomGenerator(seed: seed &+ 8_400)
let y = yardsticks[main]!
var teacherAt: [Int: Quality] = [:]
var teacherSamples: [Int: Tensor] = [:]
var n = distillation.teacherSteps
while n >= 1 {
    let s = draw(.ddim, n, teacherRun.predictor, from: y.xT, using: &rngT)
    teacherAt[n] = judge(s, against: y.data); teacherSamples[n] = s
    n /= 2
}
let teacherAncestral = judge(draw(.ddpm, T, teacherRun.predictor, from: y.xT, using: &rngT), against: y.data)
var teacher = teacherRun.model
var studentAt: [Int: (quality: Quality, seconds: Double, fromCache: Bool)] = [:]
var studentSamples: [Int: Tensor] = [:]
var distilSeconds = 0.0
n = distillation.teacherSteps / 2
while n >= 1 {
    let round = distillation.round(n)
    let currentTeacher = teacher
    let (student, record) = book.must {
        if mine != nil {  // the learner's target: trained afresh, never cached
            return try round.trainUncached(label: "distil \(2 * n) → \(n) (your target)") { student, progress in
                try round.distil(student, from: currentTeacher, progress: progress)
            }
        }
        return try round.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "distil \(2 * n) → \(n)") { student, progress in
            try round.distil(student, from: currentTeacher, progress: progress)
        }
    }
    if !record.fromCache { trainedSomething = true }
    distilSeconds += record.seconds
    let predictor = ProgressiveDistillation.noisePrediction(velocity: student.predictor, schedule: schedule)
    let s = draw(.ddim, n, predictor, from: y.xT, using: &rngT)
    studentAt[n] = (judge(s, against: y.data), record.seconds, record.fromCache)
    studentSamples[n] = s
    teacher = student
    n /= 2
}
let steps = Array(studentAt.keys).sorted(by: >)
book.table(headers: ["steps (= calls)", "student: E · P · R", "teacher's DDIM, same steps", "round's training"],
           rows: [["\(distillation.teacherSteps) (teacher)", "", cell(teacherAt[distillation.teacherSteps]), ""]]
               + steps.map { k in ["\(k)", cell(studentAt[k]!.quality), cell(teacherAt[k]),
                                   seconds(studentAt[k]!.seconds) + (studentAt[k]!.fromCache ? " (cached)" : "")] }
               + [["\(T), ancestral (teacher)", "", cell(teacherAncestral), ""]])
let shown = steps.filter { $0 <= 8 }.sorted()
book.figure(Image.vstack([
    Image.hstack(shown.map { k in scatter("teacher DDIM, \(k)", [("", teacherSamples[k]!, Color(40, 90, 200))], size: 220, textScale: 1).render() },
                 gap: 6, background: .white),
    Image.hstack(shown.map { k in scatter("student, \(k)", [("", studentSamples[k]!, sampleColor)], size: 220, textScale: 1).render() },
                 gap: 6, background: .white),
], gap: 6, background: .white), name: "distilled.png",
            caption: "\(main.rawValue): the v-trained teacher sampled by DDIM (top) and its distilled students (bottom), with \(shown.map(String.init).joined(separator: ", ")) steps, the same x_T")
let best = teacherAt[distillation.teacherSteps]!
let four = studentAt[min(4, distillation.teacherSteps / 2)]!.quality, one = studentAt[1]!.quality
book.say("""
    \(steps.count) rounds in \(seconds(distilSeconds)) of training. The 1-step student scores \(fmt(one.energy)) \
    (precision \(fmt(one.precision, 2)), recall \(fmt(one.recall, 2))) where the teacher's own single DDIM step \
    scores \(fmt(teacherAt[1]!.energy)): one step of the teacher returns its x̂₀ at the first point of the grid, the \
    *mean* of the x₀ that could have led to x_T, and x_T says almost nothing, so every sample lands near the data's \
    mean (the figure's first panel). The student has learnt instead where the teacher's whole chain ends. The \(min(4, distillation.teacherSteps / 2))-step student scores \(fmt(four.energy)), \
    \(fmt(four.energy / best.energy, 2))× the teacher's \(distillation.teacherSteps)-step DDIM (\(fmt(best.energy))) that the chain \
    started from, and \(fmt(four.energy / teacherAncestral.energy, 2))× the teacher's best, \(T) ancestral steps \
    (\(fmt(teacherAncestral.energy))). A student learns the teacher's *deterministic* map from x_T to x₀, so it \
    inherits what that map gets wrong (the gap between DDIM's \(distillation.teacherSteps) steps and the ancestral \
    \(T)) and adds its own error per round.
    """)

// MARK: - 8.6 The image model

book.section("8.6 The image model: quality against network calls")
let imageRecipe = options.latentRecipe
let imageDistillation = options.imageDistillation
let w = imageDistillation.guidance
let imagePrompts = options.imageSampleCount
var imageResults: [Solver: [Int: AdherenceSummary]] = [:]
var imageStudents: [(steps: Int, summary: AdherenceSummary, seconds: Double, fromCache: Bool)] = []
if mine != nil {
    book.say("With --mine the chapter grades your code on the 2-D models; run it without --mine for the image model.")
} else {
    let (autoencoder, aeRecord) = book.must {
        try imageRecipe.autoencoder.trainOrLoad(in: book.directory, alsoIn: [options.chapter7], retrain: options.run.retrain,
                                                label: "train chapter 7's autoencoder")
    }
    var latentSet: LatentSet? = nil  // encoded only if something trains on it
    func trainingSet() -> LatentSet {
        if latentSet == nil { latentSet = LatentSet(autoencoder: autoencoder, count: imageRecipe.latents) }
        return latentSet!
    }
    let (imageModel, imageRecord) = book.must {
        try imageRecipe.trainOrLoad(in: book.directory, alsoIn: [options.chapter7], retrain: options.run.retrain,
                                    label: "train chapter 7's latent model") { try imageRecipe.train($0, on: trainingSet(), progress: $1) }
    }
    if !aeRecord.fromCache || !imageRecord.fromCache { trainedSomething = true }
    guard imageModel.schedule.steps == T else { book.fail("chapter 7's model has \(imageModel.schedule.steps) steps, this chapter \(T)") }
    // The prompts, one sample each, and their starting latents: the same for every sampler and budget.
    var promptRNG = RandomGenerator(seed: seed &+ 8_600)
    let imageCombos = (0..<imagePrompts).map { _ in ShapeCombination.all[promptRNG.int(in: 0..<ShapeCombination.all.count)] }
    let imageTokens = imageCombos.map { Tokenizer.shapes.encode(ShapePrompt($0)) }
    let zT = Tensor.randn(Autoencoder.latentShape(count: imagePrompts, side: Shapes64.side), using: &promptRNG)
    let shownCount = min(4, imagePrompts)
    let imageBudgets = budgets
    let imageWeights = "latent model \(imageRecipe.key(for: imageModel)), autoencoder \(imageRecipe.autoencoder.key(for: autoencoder))"
    /// Decodes `latents`, judges them, and keeps the first `shownCount` images for the figures.
    func judgeImages(_ latents: Tensor, scale: Float, into values: inout [String: Tensor], as name: String) -> Adherence {
        let images = clipped(LatentDiffusion(autoencoder: autoencoder, model: imageModel, scale: scale).decode(latents))
        let adherence = Adherence(prompts: imageCombos, verdicts: ShapesChecker.describe(batch: images))
        values[name] = adherence.tensor
        values[name + "-edges"] = Tensor([Float(edgeEnergy(images))], shape: [1])
        values[name + "-images"] = images.split([shownCount, imagePrompts - shownCount], axis: 0)[0]
        return adherence
    }
    let quality = book.must {
        try measureOrLoad("image-quality", description: """
            image quality per call: \(imageWeights); guidance \(w); \(imagePrompts) prompts; seed \(seed); \
            budgets \(imageBudgets) and \(T) ancestral; solvers \(Solver.allCases.map(\.key)); \
            measures: adherence, edge energy against \(imagePrompts) training images
            """, in: book.directory, remeasure: options.run.retrain) {
            var values: [String: Tensor] = [:]
            let scale = LatentSet.scale(of: autoencoder)
            values["scale"] = Tensor([scale], shape: [1])
            var rng = RandomGenerator(seed: seed &+ 8_601)
            let predictor = imageModel.guided(tokens: imageTokens, scale: w)
            for solver in Solver.allCases {
                let clock = Date()
                for n in imageBudgets + (solver == .ddpm ? [T] : []) {
                    let a = judgeImages(draw(solver, n, predictor, from: zT, using: &rng), scale: scale, into: &values, as: "\(solver.key)-\(n)")
                    print("  \(solver.rawValue), \(n) step\(n == 1 ? "" : "s"): all three \(fmt(100 * a.share(a.all), 3)) %")
                }
                print("  \(solver.rawValue): \(seconds(Date().timeIntervalSince(clock)))")
            }
            return values
        }
    }
    // The yardstick of sharpness: as many training images as there are prompts, encoded and decoded by the
    // autoencoder, as sharp as anything its decoder draws (a second or so; not cached).
    var edgeRNG = RandomGenerator(seed: seed &+ 8_602)
    let edgeImages = Shapes64.data().batch(imagePrompts, using: &edgeRNG).images
    let referenceEdges = edgeEnergy(clipped(withoutGradients { autoencoder.decode(autoencoder.encode(edgeImages).mean) }))
    let rawEdges = edgeEnergy(edgeImages)
    func summary(_ name: String, in m: MeasuredValues) -> AdherenceSummary {
        Adherence.summary(book.must { try m(name) }, edges: Double(book.must { try m(name + "-edges") }.data[0]) / referenceEdges)
    }
    func shown(_ name: String, in m: MeasuredValues) -> Tensor { book.must { try m(name + "-images") } }
    for solver in Solver.allCases {
        for n in imageBudgets + (solver == .ddpm ? [T] : []) { imageResults[solver, default: [:]][n] = summary("\(solver.key)-\(n)", in: quality) }
    }
    func pct(_ v: Double) -> String { "\(Int((100 * v).rounded()))" }
    func imageCell(_ a: AdherenceSummary?) -> String { a.map { "\(pct($0.all)) · \(pct($0.valid)) · \($0.combinations)" } ?? "—" }
    book.say("""
        Now chapter 7's model: text to 64×64 images through the 8×8×4 latent, v-prediction, sampled with guidance \
        w = \(fmt(Double(w), 2)) (\(imageRecord.fromCache ? "weights loaded from \(imageRecord.path.hasPrefix(options.chapter7) ? "chapter 7's" : "this chapter's") cache" : "trained now in \(seconds(imageRecord.seconds))")). \
        Guidance makes each step one call on a doubled batch — the prompt and the empty prompt — so a step costs \
        two passes of the network where a 2-D step cost one; the table counts steps. \(imagePrompts) random full \
        prompts, one sample each from the same z_T for every sampler and budget, decoded and read by the Shapes \
        checker: each cell gives the share of samples whose colour, shape and position all match the prompt (%), \
        the share the checker reads as a shape at all (valid, %), and the number of the 162 combinations drawn \
        (coverage; the prompts ask for \(Set(imageCombos).count)). \(quality.fromCache ? "Measured in \(seconds(quality.seconds)) by an earlier run with the same weights and settings (read back from \((quality.path as NSString).lastPathComponent); --retrain measures again)." : "Measured in \(seconds(quality.seconds)).")
        """)
    book.table(headers: ["all three · valid · coverage"] + imageBudgets.map { "\($0) step\($0 == 1 ? "" : "s")" } + ["\(T) steps"],
               rows: Solver.allCases.map { s in [s.rawValue] + (imageBudgets + [T]).map { imageCell(imageResults[s]?[$0]) } })
    book.table(headers: ["edge energy ÷ reconstructions'"] + imageBudgets.map { "\($0) step\($0 == 1 ? "" : "s")" } + ["\(T) steps"],
               rows: Solver.allCases.map { s in [s.rawValue] + (imageBudgets + [T]).map { n in imageResults[s]?[n].map { fmt($0.edges, 2) } ?? "—" } })
    let colors = [Color(120, 120, 120), Color(40, 90, 200), Color(220, 80, 30), Color(150, 60, 170)]
    func panel(_ title: String, _ yLabel: String, legend: Bool, _ value: (AdherenceSummary) -> Double) -> Image {
        var plot = Plot(title: title, xLabel: "log2(steps)", yLabel: yLabel, width: 420, height: 340,
                        legend: legend ? .bottomRight : .hidden, textScale: 1)
        for (solver, color) in zip(Solver.allCases, colors) {
            plot.line(solver.short, x: imageBudgets.map { log2(Double($0)) }, y: imageBudgets.map { value(imageResults[solver]![$0]!) }, color: color)
        }
        let full = value(imageResults[.ddpm]![T]!)
        plot.line("DDPM, \(T) steps", x: [0, log2(Double(imageBudgets.last!))], y: [full, full], color: Color(60, 160, 60), thickness: 1)
        return plot.render()
    }
    book.figure(Image.hstack([panel("all three attributes", "share of samples (%)", legend: true) { 100 * $0.all },
                              panel("edges", "edge energy / reconstructions'", legend: false) { $0.edges }], gap: 8, background: .white),
                name: "image-quality-per-call.png",
                caption: "Chapter 7's model at w = \(fmt(Double(w), 2)): the share of samples matching all three attributes (left) and their edge energy as a multiple of the autoencoder's reconstructions of training images (right) against the number of steps (two network passes each); the green line is DDPM's full \(T)-step chain")
    let figureBudgets = imageBudgets.filter { $0 <= 16 }
    func mosaic(_ images: Tensor) -> Image {
        ImageGrid(images: (0..<images.shape[0]).map { shapeImage($0, of: images) }, columns: 2, scale: 1, padding: 1).render()
    }
    book.figure(ImageGrid(rows: Solver.allCases.map { s in figureBudgets.map { mosaic(shown("\(s.key)-\($0)", in: quality)) } },
                          scale: 1, padding: 4, rowLabels: Solver.allCases.map(\.short),
                          columnLabels: figureBudgets.map { "\($0) step\($0 == 1 ? "" : "s")" }).render(),
                name: "image-samples-per-call.png",
                caption: "The first \(shownCount) prompts (\(imageCombos.prefix(shownCount).map(\.caption).joined(separator: "; "))), the same z_T in every cell, by each sampler (rows) with \(figureBudgets.map(String.init).joined(separator: ", ")) steps")
    func imageAt(_ s: Solver, _ n: Int) -> AdherenceSummary { imageResults[s]![n]! }
    let saturated = Solver.allCases.filter { s in imageBudgets.filter { $0 >= 4 }.allSatisfy { imageAt(s, $0).all >= 0.98 } }
    func edgeList(_ n: Int) -> String { Solver.allCases.map { "\($0.short) \(fmt(imageAt($0, n).edges, 2))" }.joined(separator: ", ") }
    book.say("""
        At 1 step every sampler is the same single x̂₀ and scores \(pct(imageAt(.ddim, 1).all)) % all three; at 4 steps \
        \(Solver.allCases.map { "\($0.short) \(pct(imageAt($0, 4).all)) %" }.joined(separator: ", ")); at \(mid) steps \
        (\(2 * mid) passes) \(Solver.allCases.map { "\($0.short) \(pct(imageAt($0, mid).all)) %" }.joined(separator: ", ")); \
        DDPM's full \(T)-step chain, \(2 * T) passes, \(pct(imageAt(.ddpm, T).all)) %. \
        \(saturated.isEmpty ? "" : "The checker's verdict saturates: from 4 steps up \(saturated.map(\.short).joined(separator: ", ")) stay at 98 % or more. ")\
        With guidance even one step's x̂₀ has the prompt's colour, shape and position — this task is easy for the \
        model, and the checker reads attributes, not finish. What it cannot see is how clean the picture is: a \
        sample may carry haze or noise around a shape the checker reads correctly (the figure's first column). The \
        second table measures that: the samples' **edge energy**, the mean squared difference between neighbouring pixels \
        (`edgeEnergy`, Sources/Diffusion/Metrics.swift), as a multiple of the same for \(imagePrompts) training images \
        encoded and decoded by the autoencoder — the sharpest the decoder draws them (the raw images have \
        \(fmt(rawEdges / referenceEdges, 2))× as much: the decoder softens edges, chapter 7). 1 is \
        the reconstructions' finish; haze and noise raise it, blur lowers it. At 1 step it is \(fmt(imageAt(.ddim, 1).edges, 2)); \
        at 2 steps \(edgeList(2)); at 8 steps \(edgeList(8)); DDPM's \(T) steps \(fmt(imageAt(.ddpm, T).edges, 2)).
        """)

    // MARK: - 8.7 Distilling the image model

    book.section("8.7 Distilling the image model, guidance included")
    book.say("""
        The same recipe on chapter 7's model, with one change for guidance. A guided teacher's step is two passes \
        (prompt and empty prompt, combined with w = \(fmt(Double(w), 2))); the first round's student — a copy of the \
        conditional network — is taught to land where two *guided* teacher steps land, in one *unguided* pass \
        (Meng et al. 2023, "On distillation of guided diffusion models", §3.1, who also give the student w as an \
        input; here w is fixed). So the student's n steps cost n passes where the teacher's cost 2n. The student \
        trains on the latents of chapter 7's training images with their full captions (`ImageDistillationRecipe`, \
        Chapters/08-FewSteps/Images.swift). The teacher starts at \(imageDistillation.teacherSteps) DDIM steps; each \
        round trains \(imageDistillation.training.steps) steps of batch \(imageDistillation.batch), Adam at \
        \(imageDistillation.training.learningRate), no EMA.
        """)
    var teacherModel = imageModel
    var students: [(steps: Int, model: TextToImage, record: TrainingRecord, key: String)] = []
    var k = imageDistillation.teacherSteps / 2
    while k >= 1 {
        let round = imageDistillation.round(k)
        let currentTeacher = teacherModel
        let (student, record) = book.must {
            try round.trainOrLoad(in: book.directory, retrain: options.run.retrain, label: "distil images \(2 * k) → \(k)") { student, progress in
                try round.distil(student, from: currentTeacher, on: trainingSet(), progress: progress)
            }
        }
        if !record.fromCache { trainedSomething = true }
        students.append((k, student, record, round.key(for: student)))
        teacherModel = student
        k /= 2
    }
    let studentQuality = book.must {
        try measureOrLoad("image-students", description: """
            image students: \(students.map(\.key)); \(imageWeights); \(imagePrompts) prompts; seed \(seed); measures: adherence, edge energy
            """, in: book.directory, remeasure: options.run.retrain) {
            var values: [String: Tensor] = [:]
            let scale = book.must { try quality("scale") }.data[0]
            for s in students {
                let latents = Sampler(eta: 0, steps: s.steps).sample(s.model.guided(tokens: imageTokens, scale: 1), from: zT, schedule: schedule,
                                                                       using: &promptRNG)
                _ = judgeImages(latents, scale: scale, into: &values, as: "student-\(s.steps)")
            }
            return values
        }
    }
    imageStudents = students.map { s in (s.steps, summary("student-\(s.steps)", in: studentQuality), s.record.seconds, s.record.fromCache) }
    func withEdges(_ a: AdherenceSummary?) -> String { a.map { imageCell($0) + " · " + fmt($0.edges, 2) } ?? "—" }
    book.table(headers: ["steps", "student (n passes)", "teacher's DDIM, same steps (2n passes)", "round's training"],
               rows: [["\(imageDistillation.teacherSteps) (teacher)", "", withEdges(imageResults[.ddim]![imageDistillation.teacherSteps]), ""]]
                   + imageStudents.map { s in [String(s.steps), withEdges(s.summary), withEdges(imageResults[.ddim]![s.steps]),
                                              seconds(s.seconds) + (s.fromCache ? " (cached)" : "")] }
                   + [["\(T), ancestral (teacher)", "", withEdges(imageResults[.ddpm]![T]), ""]])
    let shownSteps = students.map(\.steps).filter { $0 <= 8 }.sorted()
    book.figure(ImageGrid(rows: [shownSteps.map { mosaic(shown("ddim-\($0)", in: quality)) },
                                 shownSteps.map { mosaic(shown("student-\($0)", in: studentQuality)) }],
                          scale: 1, padding: 4, rowLabels: ["teacher DDIM", "student"],
                          columnLabels: shownSteps.map { "\($0) step\($0 == 1 ? "" : "s")" }).render(),
                name: "image-distilled.png",
                caption: "The guided teacher by DDIM (top) and its distilled students (bottom) with \(shownSteps.map(String.init).joined(separator: ", ")) steps, the same prompts and z_T")
    let teacherBest = (imageBudgets + [T]).flatMap { n in Solver.allCases.compactMap { s in imageResults[s]![n].map { (s, n, $0) } } }
        .max { $0.2.all < $1.2.all }!
    let start = imageResults[.ddim]![imageDistillation.teacherSteps]!
    if let four = imageStudents.first(where: { $0.steps == 4 }), let oneStudent = imageStudents.first(where: { $0.steps == 1 }) {
        book.say("""
            Cells: all three (%) · valid (%) · coverage · edge energy ÷ the reconstructions'. \(students.count) rounds in \
            \(seconds(students.map(\.record.seconds).reduce(0, +))) of training. The 4-step student draws \
            \(pct(four.summary.all)) % all three with 4 passes, against \(pct(start.all)) % for the teacher's \
            \(imageDistillation.teacherSteps) DDIM steps it was distilled from (\(2 * imageDistillation.teacherSteps) passes) \
            and \(pct(teacherBest.2.all)) % for the teacher at its best in the table (\(teacherBest.0.rawValue), \(teacherBest.1) steps): \
            \(Int((100 * (teacherBest.2.all - four.summary.all)).rounded())) points below it, with edge energy \
            \(fmt(four.summary.edges, 2)) against the 64-step chain's \(fmt(start.edges, 2)). The distillation shows most \
            where the teacher is worst: the 1-step student scores \(pct(oneStudent.summary.all)) % with edge energy \
            \(fmt(oneStudent.summary.edges, 2)), where one DDIM step of the teacher scores \(pct(imageAt(.ddim, 1).all)) % with \
            \(fmt(imageAt(.ddim, 1).edges, 2)) — the haze is gone (figure) — and it costs one pass where the teacher's \
            \(imageDistillation.teacherSteps)-step chain cost \(2 * imageDistillation.teacherSteps).
            """)
    }
}

// MARK: - 8.8 The timeline

book.section("8.8 How the step count fell")
func e(_ q: Quality) -> String { "energy \(fmt(q.energy)), precision \(fmt(q.precision, 2))" }
/// The image model's figure for a row of the timeline ("—" when the image half did not run, as with --mine).
func img(_ a: AdherenceSummary?) -> String { a.map { "\(Int((100 * $0.all).rounded())) % all three, edges \(fmt($0.edges, 2))" } ?? "—" }
func student(_ n: Int) -> AdherenceSummary? { imageStudents.first { $0.steps == n }?.summary }
book.table(headers: ["year", "work", "network calls per sample", "the idea", "here (\(main.rawValue))", "here (images, w = \(fmt(Double(w), 2)))"], rows: [
    ["2015", "Sohl-Dickstein et al., nonequilibrium thermodynamics", "thousands", "learn to reverse a slow diffusion, step by step", "—", "—"],
    ["2020", "DDPM (Ho et al.)", "1,000", "predict the noise; the simple loss", "\(T) ancestral: \(e(at(.ddpm, T)))",
     "\(T) ancestral steps: \(img(imageResults[.ddpm]?[T]))"],
    ["2021", "DDIM (Song et al.)", "10–100", "a deterministic step that may skip", "\(mid) steps: \(e(at(.ddim, mid)))",
     "\(mid) steps: \(img(imageResults[.ddim]?[mid]))"],
    ["2022", "DPM-Solver (Lu et al.); EDM (Karras et al.)", "10–35", "higher-order ODE solvers, better time grids",
     "DPM-Solver++(2M), \(mid) steps: \(e(at(.dpm, mid))); on the log-SNR grid, \(few) steps: \(e(at(.dpmLambda, few)))",
     "DPM-Solver++(2M), \(mid) steps: \(img(imageResults[.dpm]?[mid]))"],
    ["2022", "Progressive distillation (Salimans & Ho)", "4–8", "a student takes one step for two of its teacher's",
     "student, \(min(4, distillation.teacherSteps / 2)) steps: \(e(four)); 1 step: \(e(one))",
     "student (guidance distilled in), 4 steps: \(img(student(4))); 1 step: \(img(student(1)))"],
    ["2023", "Consistency models (Song et al.)", "1–2", "map any point of the ODE's path straight to its end", "not built here", "not built here"],
])

if let mine {
    compareMine(mine, yours: ms[.dpm]![mid]!.samples, predictor: models[0].predictor, from: yardsticks[main]!.xT, calls: mid)
    gradeMine(mine, calls: mid, solverRatio: at(.dpm, mid).energy / at(.ddim, mid).energy, studentSteps: min(4, distillation.teacherSteps / 2),
              studentRatio: four.energy / best.energy)
}

let total = Date().timeIntervalSince(started)
book.say("Run time: \(seconds(total))\(trainedSomething ? ", training included" : " (all weights from the caches)").")
book.save()
