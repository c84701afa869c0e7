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

public enum DPMSolver {
    /// Samples by DPM-Solver++(2M) from x_T on `steps` steps of the trailing grid, one network call per
    /// step; deterministic (no noise drawn). No gradients.
    public static func sample(_ model: NoisePredictor, from xT: Tensor, schedule: NoiseSchedule, steps: Int) -> Tensor {
        let taus = DDIM.timesteps(count: steps, steps: schedule.steps)
        return withoutGradients {
            var x = xT
            var previous: (x0: Tensor, lambda: Double)? = nil
            for (i, t) in taus.enumerated() {
                let next = i + 1 < taus.count ? taus[i + 1] : -1            // −1: land on x₀
                let (alpha, sigma) = coefficients(t, schedule)
                let epsilon = model(x, [Int](repeating: t, count: x.shape[0]))
                let x0 = (x - epsilon * Float(sigma)) / Float(alpha)          // data prediction x̂₀
                let lambda = log(alpha / sigma)
                if next < 0 { return x0 }                                      // σ = 0: the step lands on x̂₀
                let (alphaNext, sigmaNext) = coefficients(next, schedule)
                let h = log(alphaNext / sigmaNext) - lambda
                var d = x0
                if let previous {
                    let r = (lambda - previous.lambda) / h
                    d = x0 * Float(1 + 1 / (2 * r)) - previous.x0 * Float(1 / (2 * r))
                }
                x = x * Float(sigmaNext / sigma) - d * Float(alphaNext * (exp(-h) - 1))
                previous = (x0, lambda)
            }
            return x
        }
    }

    /// α_t = √ᾱ_t and σ_t = √(1 − ᾱ_t), in Double.
    static func coefficients(_ t: Int, _ schedule: NoiseSchedule) -> (alpha: Double, sigma: Double) {
        let a = Double(schedule.alphaBar[t])
        return (a.squareRoot(), (1 - a).squareRoot())
    }
}
