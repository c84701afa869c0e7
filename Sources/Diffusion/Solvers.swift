// Chapter 8 — a second-order solver: DPM-Solver++(2M).
//
// Original paper:
//   Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
//   Probabilistic Models", Algorithm 2 (the multistep second-order solver, "2M"), in the data-prediction
//   form: the network's ε̂ is turned into x̂₀ = (x_t − σ_t·ε̂)/α_t, with α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t).
//
// DDIM with η = 0 is the first-order solver of the same ODE ("DPM-Solver-1" of Lu et al. 2022, "DPM-Solver:
// A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps"): in the half-log-SNR
// λ_t = log(α_t/σ_t), a step from s to t with h = λ_t − λ_s is
// ```
// x_t = (σ_t/σ_s)·x_s − α_t·(e^(−h) − 1)·x̂₀(x_s, s)                  first order (= DDIM, η = 0)
// ```
// The 2M solver keeps the previous step's x̂₀ and replaces x̂₀ by a linear extrapolation in λ:
// ```
// r = h_prev / h
// D = (1 + 1/(2r))·x̂₀(x_s, s) − 1/(2r)·x̂₀(x_prev, prev)
// x_t = (σ_t/σ_s)·x_s − α_t·(e^(−h) − 1)·D                            second order, one network call a step
// ```
// The first step has no previous x̂₀ and is first order; so is the last, which lands on x₀ (σ = 0, λ = ∞,
// where the first-order formula gives x₀ = x̂₀, as DDIM's last step does).
// Deviation: the time grid is the course's trailing DDIM grid (`DDIM.timesteps`), not the paper's
// uniform-in-λ grid; the same grid for both solvers makes them comparable call for call.

import Foundation
import Tensor

/// Where a step of a deterministic solver stands: α = √ᾱ and σ = √(1 − ᾱ) at the step's time
/// (α = 1, σ = 0 for x₀ itself), in Double.
public struct NoiseLevel: Equatable, Sendable {
    public var alpha: Double
    public var sigma: Double
    public init(alpha: Double, sigma: Double) { self.alpha = alpha; self.sigma = sigma }
    /// Step t of `schedule`, or x₀ (the clean data) for t = −1.
    public init(_ t: Int, _ schedule: NoiseSchedule) {
        guard t >= 0 else { self.init(alpha: 1, sigma: 0); return }
        let a = Double(schedule.alphaBar[t])
        self.init(alpha: a.squareRoot(), sigma: (1 - a).squareRoot())
    }
    /// The half-log signal-to-noise ratio λ = log(α/σ) (+∞ at x₀).
    public var lambda: Double { log(alpha / sigma) }
}

public enum DPMSolver {
    /// Samples by DPM-Solver++(2M) from x_T on `steps` steps of the trailing grid, one network call per
    /// step; deterministic (no noise drawn). No gradients.
    public static func sample(_ model: NoisePredictor, from xT: Tensor, schedule: NoiseSchedule, steps: Int) -> Tensor {
        sample(model, from: xT, schedule: schedule, times: DDIM.timesteps(count: steps, steps: schedule.steps))
    }

    /// The same on any decreasing list of times `times` (the last step lands on x₀).
    public static func sample(_ model: NoisePredictor, from xT: Tensor, schedule: NoiseSchedule, times: [Int]) -> Tensor {
        withoutGradients {
            var x = xT
            var previous: (x0: Tensor, level: NoiseLevel)? = nil
            for (i, t) in times.enumerated() {
                let level = NoiseLevel(t, schedule), next = NoiseLevel(i + 1 < times.count ? times[i + 1] : -1, schedule)
                let epsilon = model(x, [Int](repeating: t, count: x.shape[0]))
                let x0 = (x - epsilon * Float(level.sigma)) / Float(level.alpha)   // data prediction x̂₀
                x = (stepReplacement ?? libraryStep)(x, x0, previous, level, next)
                previous = (x0, level)
            }
            return x
        }
    }

    /// `count` steps evenly spaced in λ = ½·log(ᾱ/(1 − ᾱ)) (Lu et al. 2022, "DPM-Solver": their step-size schedule,
    /// uniform in log-SNR), from T − 1 down; the sampler then lands on x₀:
    /// ```
    /// λ*_i = λ_{T−1} + i·(λ_0 − λ_{T−1})/count,   i = 0…count−1
    /// t_i = the step whose λ_t is nearest λ*_i (the smaller on a tie)
    /// t_i = min(max(t_i, count − 1 − i), t_{i−1} − 1)     strictly below the step before, and room left for the rest
    /// ```
    /// (Near t = 0 λ changes fast and several targets can fall nearest the same step; the two clamps keep the grid
    /// strictly decreasing and never below 0.)
    /// The trailing grid spaces steps evenly in t; this one spends them where λ changes, which on the linear
    /// schedule means more of them near t = 0.
    public static func logSNRTimesteps(count: Int, schedule: NoiseSchedule) -> [Int] {
        if let gridReplacement { return gridReplacement(count, schedule.alphaBar) }
        let T = schedule.steps
        guard count >= 1, count <= T else { fatalError("DPMSolver.logSNRTimesteps: count \(count) must be in 1…\(T)") }
        let lambda = schedule.alphaBar.map { a in 0.5 * log(Double(a) / (1 - Double(a))) }
        var grid: [Int] = []
        for i in 0..<count {
            let target = lambda[T - 1] + Double(i) * (lambda[0] - lambda[T - 1]) / Double(count)
            var nearest = (0..<T).min { abs(lambda[$0] - target) < abs(lambda[$1] - target) }!   // the smaller t on a tie
            nearest = max(nearest, count - 1 - i)                    // leave a step for each i still to come
            if let last = grid.last { nearest = min(nearest, last - 1) }
            grid.append(nearest)
        }
        return grid
    }

    /// A replacement for `logSNRTimesteps` taking (count, ᾱ), set once at the start of a run: chapter 8's
    /// `--mine` puts the learner's grid here.
    nonisolated(unsafe) public static var gridReplacement: ((Int, [Float]) -> [Int])?

    /// One step of DPM-Solver++(2M) from `level` to `next`, given this step's x̂₀ and, after the first
    /// step, the previous step's x̂₀ and level (second order); first order (= DDIM) without it, and at the
    /// last step, which lands on x₀ (σ = 0: the step returns x̂₀).
    /// ```
    /// h = λ_next − λ,  r = (λ − λ_prev)/h,  D = (1 + 1/(2r))·x̂₀ − 1/(2r)·x̂₀_prev
    /// x_next = (σ_next/σ)·x − α_next·(e^(−h) − 1)·D
    /// ```
    public static func step(_ x: Tensor, _ x0: Tensor, previous: (x0: Tensor, level: NoiseLevel)?,
                            from level: NoiseLevel, to next: NoiseLevel) -> Tensor {
        guard next.sigma > 0 else { return x0 }
        let h = next.lambda - level.lambda
        var d = x0
        if let previous {
            let r = (level.lambda - previous.level.lambda) / h
            d = x0 * Float(1 + 1 / (2 * r)) - previous.x0 * Float(1 / (2 * r))
        }
        return x * Float(next.sigma / level.sigma) - d * Float(next.alpha * (exp(-h) - 1))
    }

    /// A replacement for `step`, set once at the start of a run: chapter 8's `--mine` puts the learner's
    /// step here, so `sample` runs it.
    nonisolated(unsafe) public static var stepReplacement: ((Tensor, Tensor, (x0: Tensor, level: NoiseLevel)?, NoiseLevel, NoiseLevel) -> Tensor)?
    static let libraryStep: (Tensor, Tensor, (x0: Tensor, level: NoiseLevel)?, NoiseLevel, NoiseLevel) -> Tensor = {
        step($0, $1, previous: $2, from: $3, to: $4)
    }
}
