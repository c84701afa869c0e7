// Solutions to chapter 8's exercises (exercises/Chapter08/FewStepsExercises.swift).

import ExerciseSupport
import Foundation
import Tensor

/// Solution 8.1 — λ = ½·log(ᾱ/(1 − ᾱ)).
public func halfLogSNR(alphaBar: Double) throws -> Double {
    0.5 * log(alphaBar / (1 - alphaBar))
}

/// Solution 8.2 — targets evenly spaced in λ from λ_{T−1} up, each snapped to its nearest step (the
/// smaller t on a tie) and kept strictly below the previous one.
public func logSNRTimesteps(count: Int, alphaBar: [Float]) throws -> [Int] {
    let T = alphaBar.count
    let lambda = alphaBar.map { a in 0.5 * log(Double(a) / (1 - Double(a))) }   // falls as t grows
    var grid: [Int] = []
    for i in 0..<count {
        let target = lambda[T - 1] + Double(i) * (lambda[0] - lambda[T - 1]) / Double(count)
        var nearest = (0..<T).min { abs(lambda[$0] - target) < abs(lambda[$1] - target) }!   // the first, smaller t on a tie
        nearest = max(nearest, count - 1 - i)        // room for the steps still to come, so none falls below 0
        if let last = grid.last { nearest = min(nearest, last - 1) }
        grid.append(nearest)
    }
    return grid
}

/// Solution 8.3 — DPM-Solver++(2M), in the same order of operations as `DPMSolver.step`.
public func dpmSolverStep(x: Tensor, x0: Tensor, previous: (x0: Tensor, alpha: Double, sigma: Double)?,
                          from: (alpha: Double, sigma: Double), to: (alpha: Double, sigma: Double)) throws -> Tensor {
    guard to.sigma > 0 else { return x0 }   // the last step lands on x̂₀
    let lambdaFrom = log(from.alpha / from.sigma), lambdaTo = log(to.alpha / to.sigma)
    let h = lambdaTo - lambdaFrom
    var d = x0
    if let previous {
        let r = (lambdaFrom - log(previous.alpha / previous.sigma)) / h
        d = x0 * Float(1 + 1 / (2 * r)) - previous.x0 * Float(1 / (2 * r))
    }
    return x * Float(to.sigma / from.sigma) - d * Float(to.alpha * (exp(-h) - 1))
}

/// Solution 8.4 — x̃ = (z₂ − (σ₂/σ)·z) / (α₂ − (σ₂/σ)·α), per example.
public func distillationTarget(z: Tensor, twoStepsLater z2: Tensor, alpha: Tensor, sigma: Tensor,
                               alpha2: Tensor, sigma2: Tensor) throws -> Tensor {
    let ratio = sigma2 / sigma                          // σ₂/σ, [B, 1]
    return (z2 - ratio * z) / (alpha2 - ratio * alpha)  // [B, D]
}
