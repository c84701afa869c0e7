// Checks for chapter 8's exercises: the half-log SNR, the uniform-in-λ grid, one step of
// DPM-Solver++(2M) and the progressive-distillation target (the library's versions are in
// Sources/Diffusion/Solvers.swift and Sources/Diffusion/Distillation.swift). Every expected value is
// worked out here from its formula, number by number in Double — not taken from the library, which is
// used only for the linear schedule's ᾱ as an input:
// ```
// λ = ½·log(ᾱ/(1 − ᾱ)) = log(α/σ)                                   Lu et al. 2022, "DPM-Solver", §3.1
// h = λ_to − λ_from,  r = (λ_from − λ_prev)/h,  D = (1 + 1/(2r))·x̂₀ − 1/(2r)·x̂₀_prev
// x_to = (σ_to/σ_from)·x − α_to·(e^(−h) − 1)·D                       "DPM-Solver++", Algorithm 2
// x̃ = (z₂ − (σ₂/σ)·z) / (α₂ − (σ₂/σ)·α)                              Salimans & Ho 2022, Algorithm 2
// ```

import Diffusion
import Foundation
import Tensor

public struct Chapter08API {
    /// ᾱ -> λ = ½·log(ᾱ/(1 − ᾱ))
    public var halfLogSNR: (Double) throws -> Double
    /// count, ᾱ_0…ᾱ_{T−1} -> count steps, from T − 1 down
    public var logSNRTimesteps: (Int, [Float]) throws -> [Int]
    /// x, x̂₀, previous (x̂₀, α, σ) or nil, from (α, σ), to (α, σ) -> x at `to`
    public var dpmSolverStep: (Tensor, Tensor, (x0: Tensor, alpha: Double, sigma: Double)?,
                               (alpha: Double, sigma: Double), (alpha: Double, sigma: Double)) throws -> Tensor
    /// z, z₂, α, σ, α₂, σ₂ (the last four [B, 1]) -> x̃
    public var distillationTarget: (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) throws -> Tensor

    public init(halfLogSNR: @escaping (Double) throws -> Double,
                logSNRTimesteps: @escaping (Int, [Float]) throws -> [Int],
                dpmSolverStep: @escaping (Tensor, Tensor, (x0: Tensor, alpha: Double, sigma: Double)?,
                                          (alpha: Double, sigma: Double), (alpha: Double, sigma: Double)) throws -> Tensor,
                distillationTarget: @escaping (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) throws -> Tensor) {
        self.halfLogSNR = halfLogSNR; self.logSNRTimesteps = logSNRTimesteps
        self.dpmSolverStep = dpmSolverStep; self.distillationTarget = distillationTarget
    }
}

/// The uniform-in-λ grid of exercise 8.2, worked out here from its definition: λ_t in Double, targets
/// λ*_i = λ_{T−1} + i·(λ_0 − λ_{T−1})/count, the nearest t by a scan that keeps the first (smaller) t of a
/// tie, then t_i = min(max(t_i, count − 1 − i), t_{i−1} − 1).
private func uniformLogSNRGrid(count: Int, alphaBar: [Float]) -> [Int] {
    let T = alphaBar.count
    var lambda: [Double] = []
    for a in alphaBar { lambda.append(0.5 * Foundation.log(Double(a) / (1 - Double(a)))) }
    var grid: [Int] = []
    for i in 0..<count {
        let target = lambda[T - 1] + Double(i) * (lambda[0] - lambda[T - 1]) / Double(count)
        var best = 0
        for t in 1..<Swift.max(T, 1) where Swift.abs(lambda[t] - target) < Swift.abs(lambda[best] - target) { best = t }
        best = Swift.max(best, count - 1 - i)
        if i > 0 { best = Swift.min(best, grid[i - 1] - 1) }
        grid.append(best)
    }
    return grid
}

/// A grid for a message: all of it when short, else the values around index `i`.
private func show(_ grid: [Int], around i: Int) -> String {
    guard grid.count > 12 else { return "\(grid)" }
    let lo = Swift.max(0, i - 3), hi = Swift.min(grid.count, i + 4)
    let shown = (lo..<hi).map { j in (j == i ? ">" : "") + "\(grid[j])" }.joined(separator: ", ")
    return "[\(lo > 0 ? "…, " : "")\(shown)\(hi < grid.count ? ", …" : "")] (\(grid.count) steps)"
}

/// A level (α, σ) with α/σ = p/q exactly in the mathematics: α = p/√(p² + q²), σ = q/√(p² + q²).
private func level(_ p: Double, _ q: Double) -> (alpha: Double, sigma: Double) {
    let norm = (p * p + q * q).squareRoot()
    return (p / norm, q / norm)
}

/// α = √ᾱ_t and σ = √(1 − ᾱ_t) of step t, in Double; x₀ itself (α = 1, σ = 0) for t = −1.
private func level(_ t: Int, _ alphaBar: [Float]) -> (alpha: Double, sigma: Double) {
    guard t >= 0 else { return (1, 0) }
    let a = Double(alphaBar[t])
    return (a.squareRoot(), (1 - a).squareRoot())
}

public enum Chapter08Checks {
    static let file = "exercises/Chapter08/FewStepsExercises.swift"

    public static let all: [Check<Chapter08API>] = [
        Check("halfLogSNR", file: file, hint: "λ = ½·log(ᾱ/(1 − ᾱ)): the ½ (from the square roots α = √ᾱ, σ = √(1 − ᾱ)) and the 1 − ᾱ both matter") { api in
            let alphaBar = NoiseSchedule.linear().alphaBar
            // (ᾱ, λ), each λ worked by hand from ½·log(ᾱ/(1 − ᾱ)).
            let cases: [(Double, Double, String)] = [
                (0.5, 0, "signal and noise equal: ½·log 1 = 0"),
                (0.8, 0.6931472, "½·log(0.8/0.2) = ½·log 4 = log 2"),
                (0.2, -0.6931472, "½·log(0.2/0.8) = −log 2: λ(1 − ᾱ) = −λ(ᾱ)"),
                (0.9, 1.0986123, "½·log 9 = log 3"),
                (0.1, -1.0986123, "½·log(1/9) = −log 3"),
                (0.99, 2.2975599, "½·log 99"),
            ] + [0, 999].map { t in
                // The linear schedule's ends, worked out here in Double: about 4.6 and −5.1.
                let a = Double(alphaBar[t])
                return (a, 0.5 * Foundation.log(a / (1 - a)), "ᾱ_\(t) of the linear schedule")
            }
            for (a, expected, why) in cases {
                let actual = try api.halfLogSNR(a)
                try expectClose([Float(actual)], [Float(expected)], tolerance: 1e-6, "halfLogSNR(alphaBar: \(a)) (\(why))",
                                hint: "½·log(ᾱ/(1 − ᾱ)), not log(ᾱ/(1 − ᾱ)) (the ½ is the square roots) nor ½·log ᾱ (the noise's 1 − ᾱ counts)")
            }
        },
        Check("logSNRTimesteps", kind: .build, file: file, hint: "targets λ_{T−1} + i·(λ_0 − λ_{T−1})/count, each snapped to the nearest λ_t, then t_i = min(max(t_i, count − 1 − i), t_{i−1} − 1)") { api in
            func grade(_ count: Int, _ alphaBar: [Float], expected: [Int], _ what: String, hint: String) throws {
                let actual = try api.logSNRTimesteps(count, alphaBar)
                guard actual.count == count else {
                    throw WrongAnswer("logSNRTimesteps(count: \(count), …) for \(what) (count)", expected: "\(count) steps",
                                      actual: "\(actual.count) steps: \(show(actual, around: 0))",
                                      hint: "one step per i = 0…count−1; the landing on x₀ after them is not part of the grid")
                }
                if let i = (0..<count).first(where: { actual[$0] != expected[$0] }) {
                    throw WrongAnswer("logSNRTimesteps(count: \(count), …) for \(what) (first difference at index \(i))",
                                      expected: show(expected, around: i), actual: show(actual, around: i), hint: hint)
                }
            }
            // Worked by hand: ᾱ = 16/17, 4/5, 1/2, 1/5, 1/17 have odds ᾱ/(1 − ᾱ) = 16, 4, 1, 1/4, 1/16, so
            // λ = (2, 1, 0, −1, −2)·log 2 for t = 0…4 (T = 5). In units of log 2, λ_0 − λ_4 = 4 and:
            //   count 1: targets −2                          -> [4]
            //   count 2: targets −2, 0                       -> [4, 2]
            //   count 3: targets −2, −2/3, 2/3               -> nearest 4, 3 (⅓ from −1), 1 (⅓ from 1): [4, 3, 1]
            //   count 4: targets −2, −1, 0, 1                -> [4, 3, 2, 1]
            //   count 5: targets −2, −1.2, −0.4, 0.4, 1.2    -> nearest 4, 3, 2, 2, 1; the second 2 must fall below
            //            the first: min(2, 2 − 1) = 1, and then min(1, 1 − 1) = 0: [4, 3, 2, 1, 0]
            // (Uniform in t, the trailing grid, would give [4, 2, 1] for count 3.)
            let odds: [Float] = [16.0 / 17, 4.0 / 5, 1.0 / 2, 1.0 / 5, 1.0 / 17]
            let byHand = [[4], [4, 2], [4, 3, 1], [4, 3, 2, 1], [4, 3, 2, 1, 0]]
            for count in 1...5 {
                try grade(count, odds, expected: byHand[count - 1], "ᾱ = 16/17, 4/5, 1/2, 1/5, 1/17 (λ = 2, 1, 0, −1, −2 times log 2; worked by hand)",
                          hint: count == 5 ? "two targets fall nearest t = 2: keep the grid strictly decreasing, t_i = min(t_i, t_{i−1} − 1)"
                                           : "space the targets evenly in λ, not in t: λ*_i = λ_{T−1} + i·(λ_0 − λ_{T−1})/count, i from 0")
            }
            // Worked by hand, an exact tie: ᾱ = 15/16, 7/8, 3/4, 1/4, 1/16 (odds 15, 7, 3, 1/3, 1/15) give
            // λ_3 = −λ_2 and λ_4 = −λ_0, so for count 2 the second target is λ_4 + (λ_0 − λ_4)/2 = 0, exactly
            // midway between λ_2 = ½·log 3 and λ_3 = −½·log 3: the smaller t, 2, wins: [4, 2].
            try grade(2, [0.9375, 0.875, 0.75, 0.25, 0.0625], expected: [4, 2],
                      "ᾱ = 15/16, 7/8, 3/4, 1/4, 1/16 (the target 0 is exactly midway between t = 2 and t = 3; worked by hand)",
                      hint: "on an exact tie take the smaller t: scan t upward and replace the best only on a strictly smaller distance")

            // The linear schedule (T = 1000), against the grid worked out here from the definition.
            let alphaBar = NoiseSchedule.linear().alphaBar
            for count in [1, 2, 5, 16, 64, 200] {
                let actual = try api.logSNRTimesteps(count, alphaBar)
                let what = "logSNRTimesteps(count: \(count), alphaBar: the linear schedule's, T = 1000)"
                guard actual.count == count, actual.first == 999 else {
                    throw WrongAnswer(what, expected: "\(count) steps starting at 999 (T − 1)", actual: show(actual, around: 0),
                                      hint: "i runs from 0, and target 0 is λ_{T−1} itself: the grid starts at t = T − 1 = 999")
                }
                if let i = (0..<count).first(where: { actual[$0] < 0 }) {
                    throw WrongAnswer(what + " (a step below 0 at index \(i))", expected: "every t_i ≥ 0", actual: show(actual, around: i),
                                      hint: "with many steps the clamp t_{i−1} − 1 runs below 0: first raise t_i to count − 1 − i, then clamp")
                }
                if let i = (1..<count).first(where: { actual[$0] >= actual[$0 - 1] }) {
                    throw WrongAnswer(what + " (not strictly decreasing at index \(i))", expected: "t_\(i) < t_\(i - 1)",
                                      actual: show(actual, around: i),
                                      hint: "near t = 0 several targets are nearest the same step: t_i = min(t_i, t_{i−1} − 1)")
                }
                try grade(count, alphaBar, expected: uniformLogSNRGrid(count: count, alphaBar: alphaBar), "the linear schedule (T = 1000)",
                          hint: "λ_t = ½·log(ᾱ_t/(1 − ᾱ_t)) in Double; targets evenly spaced from λ_999 up to (not reaching) λ_0; the nearest λ_t")
            }
        },
        Check("dpmSolverStep", kind: .build, file: file, hint: "h = λ_to − λ_from, r = (λ_from − λ_prev)/h, D = (1 + 1/(2r))·x̂₀ − 1/(2r)·x̂₀_prev; (σ_to/σ_from)·x − α_to·(e^(−h) − 1)·D") { api in
            // Worked by hand on two numbers, x = (1, −0.5), x̂₀ = (0.5, 0.2), the previous x̂₀ = (−0.3, 0.4):
            // from (α, σ) = (0.6, 0.8) to (0.8, 0.6): λ_from = log(3/4), λ_to = log(4/3), h = log(16/9),
            // e^(−h) − 1 = 9/16 − 1 = −7/16, so x_to = (0.6/0.8)·x − 0.8·(−7/16)·D = 0.75·x + 0.35·D.
            let x = Tensor([1, -0.5], shape: [2]), x0 = Tensor([0.5, 0.2], shape: [2]), previousX0 = Tensor([-0.3, 0.4], shape: [2])
            let from = (alpha: 0.6, sigma: 0.8), to = (alpha: 0.8, sigma: 0.6)
            func fresh(_ t: Tensor) -> Tensor { Tensor(t.data, shape: t.shape) }
            // First order (no previous step, = DDIM): D = x̂₀: (0.75 + 0.175, −0.375 + 0.07) = (0.925, −0.305).
            // (DDIM says the same: ε̂ = (x − α·x̂₀)/σ = 0.875 for the first number, and 0.8·0.5 + 0.6·0.875 = 0.925.)
            try expectClose(try api.dpmSolverStep(fresh(x), fresh(x0), nil, from, to), Tensor([0.925, -0.305], shape: [2]),
                            "dpmSolverStep, first order (previous nil), from (α, σ) = (0.6, 0.8) to (0.8, 0.6), worked by hand",
                            hint: "h = log(16/9) > 0; e^(−h) − 1 = −7/16 (not e^h − 1); σ_to/σ_from = 0.75 (not σ_from/σ_to)")
            // Second order, with the previous level chosen so that r is 1, 2 and ½ (α/σ = p/q exactly):
            //   r = 1: α/σ = 27/64,     λ_from − λ_prev = log((3/4)/(27/64)) = log(16/9) = h
            //          D = 1.5·x̂₀ − 0.5·x̂₀_prev = (0.9, 0.1)        x_to = (0.75 + 0.315, −0.375 + 0.035) = (1.065, −0.34)
            //   r = 2: α/σ = 243/1024,  λ_from − λ_prev = log(256/81) = 2h
            //          D = 1.25·x̂₀ − 0.25·x̂₀_prev = (0.7, 0.15)     x_to = (0.75 + 0.245, −0.375 + 0.0525) = (0.995, −0.3225)
            //   r = ½: α/σ = 9/16,      λ_from − λ_prev = log(4/3) = h/2
            //          D = 2·x̂₀ − x̂₀_prev = (1.3, 0)                x_to = (0.75 + 0.455, −0.375) = (1.205, −0.375)
            let secondOrder: [(Double, Double, String, [Float])] = [
                (27, 64, "r = 1", [1.065, -0.34]), (243, 1024, "r = 2", [0.995, -0.3225]), (9, 16, "r = ½", [1.205, -0.375]),
            ]
            for (p, q, r, expected) in secondOrder {
                let previous = level(p, q)
                let actual = try api.dpmSolverStep(fresh(x), fresh(x0), (fresh(previousX0), previous.alpha, previous.sigma), from, to)
                try expectClose(actual, Tensor(expected, shape: [2]),
                                "dpmSolverStep, second order (\(r): the previous level has α/σ = \(Int(p))/\(Int(q))), worked by hand",
                                hint: "use `previous`: r = (λ_from − λ_prev)/h, the previous step over this one (not h/h_prev); D = (1 + 1/(2r))·x̂₀ − 1/(2r)·x̂₀_prev")
            }
            // The last step lands on x₀ (α = 1, σ = 0, λ = +∞): the step returns x̂₀ — with a previous step too,
            // where the formula would give r = 0 and 1/(2r) = ∞ (NaN).
            let previous = level(27, 64)
            try expectClose(try api.dpmSolverStep(fresh(x), fresh(x0), nil, from, (1, 0)), x0,
                            "dpmSolverStep to x₀ (α = 1, σ = 0), first order: should return x̂₀ = (0.5, 0.2)",
                            hint: "when to.sigma == 0 return x0: the last step lands on x̂₀")
            try expectClose(try api.dpmSolverStep(fresh(x), fresh(x0), (fresh(previousX0), previous.alpha, previous.sigma), from, (1, 0)), x0,
                            "dpmSolverStep to x₀ (α = 1, σ = 0), with a previous step: should return x̂₀ = (0.5, 0.2)",
                            hint: "when to.sigma == 0 return x0 before computing λ_to = log(1/0) = ∞ (r = 0 then gives NaN)")

            // Steps of the linear schedule on a batch [2, 3, 4, 4], worked out here number by number in Double.
            var rng = RandomGenerator(seed: 803)
            let shape = [2, 3, 4, 4]
            let xs = Tensor.randn(shape, using: &rng), x0s = Tensor.randn(shape, using: &rng), previousX0s = Tensor.randn(shape, using: &rng)
            let alphaBar = NoiseSchedule.linear().alphaBar
            for (tPrevious, tFrom, tTo) in [(800, 600, 400), (999, 749, 499), (60, 20, 5), (nil, 999, 666)] as [(Int?, Int, Int)] {
                let a = level(tFrom, alphaBar), b = level(tTo, alphaBar)
                let lambdaFrom = Foundation.log(a.alpha / a.sigma), lambdaTo = Foundation.log(b.alpha / b.sigma)
                let h = lambdaTo - lambdaFrom
                var weight = 1.0, previousWeight = 0.0   // D = weight·x̂₀ − previousWeight·x̂₀_prev
                var previous: (x0: Tensor, alpha: Double, sigma: Double)? = nil
                if let tPrevious {
                    let c = level(tPrevious, alphaBar)
                    let r = (lambdaFrom - Foundation.log(c.alpha / c.sigma)) / h
                    weight = 1 + 1 / (2 * r); previousWeight = 1 / (2 * r)
                    previous = (fresh(previousX0s), c.alpha, c.sigma)
                }
                let expected = (0..<xs.count).map { i in
                    let d = weight * Double(x0s.data[i]) - previousWeight * Double(previousX0s.data[i])
                    return Float(b.sigma / a.sigma * Double(xs.data[i]) - b.alpha * (Foundation.exp(-h) - 1) * d)
                }
                let steps = tPrevious.map { "t = \($0) -> \(tFrom) -> \(tTo)" } ?? "t = \(tFrom) -> \(tTo) (first order)"
                try expectClose(try api.dpmSolverStep(fresh(xs), fresh(x0s), previous, a, b), Tensor(expected, shape: shape),
                                "dpmSolverStep on the linear schedule, \(steps), tensors [2, 3, 4, 4]",
                                hint: "λ = log(α/σ) at each level, in Double; every number of the tensors gets the same scalars")
            }
        },
        Check("distillationTarget", kind: .build, file: file, hint: "x̃ = (z₂ − (σ₂/σ)·z) / (α₂ − (σ₂/σ)·α): the x̂₀ with which one DDIM step from z lands on z₂") { api in
            func column(_ values: [Double]) -> Tensor { Tensor(values.map { Float($0) }, shape: [values.count, 1]) }
            // Worked by hand, two examples of two numbers:
            //   example 0: (α, σ) = (0.6, 0.8) -> (α₂, σ₂) = (0.8, 0.6): σ₂/σ = 0.75, α₂ − 0.75·α = 0.35;
            //     z = (1, −0.4), z₂ = (0.925, 0.05): x̃ = ((0.925 − 0.75)/0.35, (0.05 + 0.3)/0.35) = (0.5, 1)
            //   example 1: (α, σ) = (0.28, 0.96) -> (α₂, σ₂) = (0.6, 0.8): σ₂/σ = 5/6, α₂ − (5/6)·0.28 = 11/30;
            //     z = (0.74, 0.92), z₂ = (0.8, 0.4): x̃ = ((0.8 − 0.61667)/(11/30), (0.4 − 0.76667)/(11/30)) = (0.5, −1)
            // Check by one DDIM step: 0.6·0.5 + (5/6)·(0.74 − 0.28·0.5) = 0.3 + 0.5 = 0.8. (Returning z₂ would give
            // 0.925 for 0.5; σ/σ₂ for σ₂/σ divides by 0.8 − (4/3)·0.6 = 0.)
            let z = Tensor([1, -0.4, 0.74, 0.92], shape: [2, 2]), z2 = Tensor([0.925, 0.05, 0.8, 0.4], shape: [2, 2])
            let golden = try api.distillationTarget(z, z2, column([0.6, 0.28]), column([0.8, 0.96]), column([0.8, 0.6]), column([0.6, 0.8]))
            try expectClose(golden, Tensor([0.5, 1, 0.5, -1], shape: [2, 2]), "distillationTarget for two examples worked by hand",
                            hint: "the ratio is σ₂/σ (the later noise over the earlier), the same in the numerator and the denominator")

            // The last step (z₂ is x₀: α₂ = 1, σ₂ = 0): the target is z₂ itself.
            let last = try api.distillationTarget(z, z2, column([0.6, 0.28]), column([0.8, 0.96]), column([1, 1]), column([0, 0]))
            try expectClose(last, z2, "distillationTarget when z₂ is x₀ (α₂ = 1, σ₂ = 0): should be z₂ itself",
                            hint: "with σ₂ = 0 the ratio σ₂/σ is 0 and x̃ = z₂/α₂ = z₂")

            // A batch of four at steps of the linear schedule (the last landing on x₀), z and z₂ drawn at random:
            // x̃ worked out here in Double, then its defining property — one DDIM step with x̃ lands on z₂.
            var rng = RandomGenerator(seed: 804)
            let alphaBar = NoiseSchedule.linear().alphaBar
            let pairs = [(999, 499), (600, 200), (250, 50), (40, -1)]
            let b = pairs.count, d = 6
            let from = pairs.map { level($0.0, alphaBar) }, to = pairs.map { level($0.1, alphaBar) }
            let zs = Tensor.randn([b, d], using: &rng), z2s = Tensor.randn([b, d], using: &rng)
            let expected = (0..<b * d).map { i in
                let (a, c) = (from[i / d], to[i / d])
                let ratio = c.sigma / a.sigma
                return Float((Double(z2s.data[i]) - ratio * Double(zs.data[i])) / (c.alpha - ratio * a.alpha))
            }
            let actual = try api.distillationTarget(Tensor(zs.data, shape: [b, d]), Tensor(z2s.data, shape: [b, d]),
                                                    column(from.map(\.alpha)), column(from.map(\.sigma)),
                                                    column(to.map(\.alpha)), column(to.map(\.sigma)))
            try expectClose(actual, Tensor(expected, shape: [b, d]),
                            "distillationTarget for a batch [4, 6] at t = 999 -> 499, 600 -> 200, 250 -> 50, 40 -> x₀",
                            hint: "α, σ, α₂, σ₂ are per-example columns [B, 1]: broadcast them against z and z₂ [B, D]")
            let landed = (0..<b * d).map { i in
                let (a, c) = (from[i / d], to[i / d])
                let x = Double(actual.data[i])
                return Float(c.alpha * x + c.sigma / a.sigma * (Double(zs.data[i]) - a.alpha * x))
            }
            try expectClose(landed, z2s.data, "one DDIM step z₂ = α₂·x̃ + (σ₂/σ)·(z − α·x̃) from z with your x̃ (should land on z₂)",
                            hint: "solve z₂ = α₂·x̃ + (σ₂/σ)·(z − α·x̃) for x̃: (z₂ − (σ₂/σ)·z)/(α₂ − (σ₂/σ)·α)")
        },
    ]
}
