// Chapter 8's first pieces: DPM-Solver++(2M) against the exact solution of the probability-flow ODE for
// Gaussian data (where the ideal ε-predictor is known in closed form), and precision/recall worked by hand.

import Foundation
import Testing
@testable import Diffusion
import Tensor

@Suite("DPM-Solver++(2M) and precision/recall (chapter 8)")
struct SolverTests {
    /// For data x₀ ~ N(0, s²), x_t = α_t·x₀ + σ_t·ε is N(0, α_t²s² + σ_t²) and E[ε | x_t] = σ_t·x_t/(α_t²s² + σ_t²):
    /// the ideal noise predictor. Its probability-flow ODE keeps x_t/√(α_t²s² + σ_t²) constant, so the exact
    /// sample from x_T is x_T·s/√(α_T²s² + σ_T²).
    let s: Float = 0.5
    let schedule = NoiseSchedule.linear()
    var ideal: NoisePredictor {
        { [s, schedule] x, t in
            let a = Double(schedule.alphaBar[t[0]])
            return x * Float((1 - a).squareRoot() / (a * Double(s * s) + 1 - a))
        }
    }
    let xT = Tensor([1.0, -2.0, 0.3, 2.5], shape: [4, 1])
    var exact: [Double] {
        let a = Double(schedule.alphaBar[schedule.steps - 1])
        return xT.data.map { Double($0) * Double(s) / (a * Double(s * s) + 1 - a).squareRoot() }
    }
    func error(_ x: Tensor) -> Double { zip(x.data, exact).map { abs(Double($0) - $1) }.max()! }

    @Test("on Gaussian data the 2M solver is closer to the exact ODE solution than DDIM at every step count, and converges faster")
    func secondOrder() throws {
        var rng = RandomGenerator(seed: 1)
        var ddim: [Double] = [], dpm: [Double] = []
        for steps in [5, 10, 20, 40] {
            ddim.append(error(Sampler(eta: 0, steps: steps).sample(ideal, from: xT, schedule: schedule, using: &rng)))
            dpm.append(error(DPMSolver.sample(ideal, from: xT, schedule: schedule, steps: steps)))
        }
        for i in ddim.indices { #expect(dpm[i] < ddim[i], "steps \([5, 10, 20, 40][i]): DPM-Solver++ \(dpm[i]) vs DDIM \(ddim[i])") }
        // Doubling the steps: a first-order method's error roughly halves; the second-order one shrinks faster.
        #expect(dpm[1] / dpm[2] > ddim[1] / ddim[2], "DPM \(dpm), DDIM \(ddim)")
        #expect(dpm[3] < 0.01, "40 steps: \(dpm[3])")
    }

    @Test("with one step (no previous x̂₀) the solver is DDIM's first-order step, to the bit")
    func firstStepIsDDIM() throws {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor.randn([3, 2], using: &rng)
        let model: NoisePredictor = { x, _ in x * 0.7 + 0.1 }
        let ddim = Sampler(eta: 0, steps: 1).sample(model, from: x, schedule: schedule, using: &rng)
        let dpm = DPMSolver.sample(model, from: x, schedule: schedule, steps: 1)
        #expect(dpm.data == ddim.data)
    }

    @Test("the log-SNR grid: starts at T − 1, strictly decreasing, each step nearest its target λ, more steps near t = 0 than the trailing grid")
    func logSNRGrid() throws {
        let lambda = schedule.alphaBar.map { 0.5 * log(Double($0) / (1 - Double($0))) }
        for count in [1, 2, 5, 16, 64] {
            let grid = DPMSolver.logSNRTimesteps(count: count, schedule: schedule)
            #expect(grid.count == count && grid.first == 999 && zip(grid, grid.dropFirst()).allSatisfy { $0 > $1 }, "\(count): \(grid)")
            // Each step is the one nearest its target λ (λ is monotonic in t, so the nearer neighbour decides), unless it
            // had to be put one below the step before.
            for (i, t) in grid.enumerated() {
                let target = lambda[999] + Double(i) * (lambda[0] - lambda[999]) / Double(count)
                let nearest = (t == 0 || abs(lambda[t] - target) <= abs(lambda[t - 1] - target))
                    && (t == 999 || abs(lambda[t] - target) <= abs(lambda[t + 1] - target))
                #expect(nearest || (i > 0 && t == grid[i - 1] - 1), "count \(count), i = \(i): t = \(t)")
            }
        }
        // With 2 steps the second is where λ is halfway between λ_999 ≈ −5.06 and λ_0 ≈ 4.6: ᾱ ≈ 0.39, at t = 302 on the
        // linear schedule, not at 499 as on the trailing grid.
        let two = DPMSolver.logSNRTimesteps(count: 2, schedule: schedule)
        #expect(two[1] > 250 && two[1] < 420 && DDIM.timesteps(count: 2, steps: 1000) == [999, 499], "\(two)")
        // 16 steps: the last lies closer to t = 0 than the trailing grid's 61.
        #expect(DPMSolver.logSNRTimesteps(count: 16, schedule: schedule).last! < DDIM.timesteps(count: 16, steps: 1000).last!)
    }

    @Test("precision and recall worked by hand in 1-D")
    func precisionAndRecall() throws {
        // Data 0…5 with k = 1: every ball has radius 1. Samples 0.5 (in the ball of 0 and of 1) and 10 (in none):
        // precision 1/2. The samples' balls (k = 1) have radius 9.5 and reach every data point: recall 1.
        let data = Tensor([0, 1, 2, 3, 4, 5], shape: [6, 1])
        let pr = precisionRecall(samples: Tensor([0.5, 10], shape: [2, 1]), data: data, k: 1)
        #expect(pr.precision == 0.5 && pr.recall == 1)
        // k = 2 with samples 0, 0.2, 9: radii 0.2→… the ball of 0 reaches its 2nd neighbour 9 (radius 9), the ball
        // of 0.2 reaches 9 (8.8), the ball of 9 reaches 0 (9): every data point 0…5 lies in the ball of 0.
        // Precision with data radii at k = 2 (2 for the ends 0 and 5, 1 inside): 0 and 0.2 inside, 9 not.
        let pr2 = precisionRecall(samples: Tensor([0, 0.2, 9], shape: [3, 1]), data: data, k: 2)
        #expect(abs(pr2.precision - 2.0 / 3) < 1e-12 && pr2.recall == 1)
        // Recall drops when a mode is missed: samples all near 0 with tiny balls cover only the data point 0.
        let pr3 = precisionRecall(samples: Tensor([0, 0.01, 0.02, 0.03], shape: [4, 1]), data: data, k: 1)
        #expect(pr3.precision == 1 && abs(pr3.recall - 1.0 / 6) < 1e-12)
    }
}
