// Progressive distillation (chapter 8): the target by its defining property, the x̂₀ form of DDIM's step
// against the ε form chapter 2 built, and one round on Gaussian data, where the ideal teacher is known in
// closed form and a one-step student must learn the exact ODE map.

import Foundation
import NN
import Testing
@testable import Diffusion
import Tensor

@Suite("Progressive distillation (chapter 8)")
struct DistillationTests {
    let schedule = NoiseSchedule.linear()

    @Test("one DDIM step from z with the target x̃ lands exactly on z₂, at a middle step and at the last")
    func targetReproducesTwoSteps() throws {
        var rng = RandomGenerator(seed: 3)
        let z = Tensor.randn([3, 2], using: &rng), z2 = Tensor.randn([3, 2], using: &rng)
        for (from, to) in [([700, 400, 999], [600, 300, 979]), ([19, 9, 0], [-1, -1, -1])] {
            let a = from.map { NoiseLevel($0, schedule) }, b = to.map { NoiseLevel($0, schedule) }
            let target = ProgressiveDistillation.target(z, twoStepsLater: z2, from: a, to: b)
            let landed = ProgressiveDistillation.ddimStep(z, x0: target, from: a, to: b)
            for (x, y) in zip(landed.data, z2.data) { #expect(abs(x - y) < 2e-4 * max(1, abs(y)), "\(from)→\(to): \(x) vs \(y)") }
        }
        // Landing on x₀ (α = 1, σ = 0) the target is z₂ itself, whatever z is.
        let last = ProgressiveDistillation.target(z, twoStepsLater: z2, from: [NoiseLevel(5, schedule)] + [NoiseLevel](repeating: NoiseLevel(9, schedule), count: 2),
                                                  to: [NoiseLevel](repeating: NoiseLevel(-1, schedule), count: 3))
        #expect(last.data == z2.data)
    }

    @Test("the x̂₀ form of a DDIM step equals chapter 2's ε form with ε̂ = (z − α·x̂₀)/σ")
    func ddimStepForms() throws {
        var rng = RandomGenerator(seed: 4)
        let z = Tensor.randn([1, 5], using: &rng), x0 = Tensor.randn([1, 5], using: &rng)
        let (t, next) = (640, 410)
        let (a, b) = (NoiseLevel(t, schedule), NoiseLevel(next, schedule))
        let epsilon = (z - x0 * Float(a.alpha)) / Float(a.sigma)
        let byX0 = ProgressiveDistillation.ddimStep(z, x0: x0, from: [a], to: [b])
        let byEpsilon = DDIM.step(z, epsilon: epsilon, alphaBar: schedule.alphaBar[t], alphaBarPrevious: schedule.alphaBar[next])
        for (x, y) in zip(byX0.data, byEpsilon.data) { #expect(abs(x - y) < 1e-4, "\(x) vs \(y)") }
    }

    @Test("the teacher's grid of 2N steps holds the student's N-step grid at its even points")
    func grids() throws {
        for n in [1, 2, 4, 16, 128] {
            let grid = ProgressiveDistillation.teacherGrid(studentSteps: n, steps: 1000)
            #expect(grid.count == 2 * n + 1 && grid.last == -1)
            #expect(stride(from: 0, to: 2 * n, by: 2).map { grid[$0] } == DDIM.timesteps(count: n, steps: 1000), "n = \(n)")
        }
    }

    @Test("a student of one step, distilled from the ideal two-step teacher on Gaussian data, learns the exact map x_T → x₀")
    func oneRoundOnGaussianData() throws {
        // Data x₀ ~ N(0, s²) in 2-D. The ideal x̂₀(z, t) = α·s²·z/(α²s² + σ²), so two DDIM steps of this teacher from
        // x_T land at x_T·c for a known c, and the one-step student must learn x̂₀(x_T, T−1) = x_T·c. (With one student
        // step every example of a batch is at the same t, which the closed form reads from t[0].)
        let s: Float = 0.5
        let ideal: DataPredictor = { [schedule] z, t in
            let a = Double(schedule.alphaBar[t[0]])
            return z * Float(a.squareRoot() * Double(s * s) / (a * Double(s * s) + 1 - a))
        }
        let grid = ProgressiveDistillation.teacherGrid(studentSteps: 1, steps: 1000)
        let levels = grid.map { NoiseLevel($0, schedule) }
        let probe = Tensor([1.0, -2.0, 0.5, 1.5], shape: [2, 2])
        let z1 = ProgressiveDistillation.ddimStep(probe, x0: ideal(probe, [grid[0]]), from: [levels[0], levels[0]], to: [levels[1], levels[1]])
        let wanted = ProgressiveDistillation.ddimStep(z1, x0: ideal(z1, [grid[1]]), from: [levels[1], levels[1]], to: [levels[2], levels[2]])

        var rng = RandomGenerator(seed: 5)
        let student = NoiseMLP(width: 32, depth: 2, steps: 1000, using: &rng)
        let prediction = ProgressiveDistillation.dataPrediction(velocity: student.predictor, schedule: schedule)
        func error() -> Double {
            withoutGradients { zip(prediction(probe, [999, 999]).data, wanted.data).map { Double(abs($0 - $1)) }.max()! }
        }
        let before = error()
        let losses = try ProgressiveDistillation.round(
            student: student, studentPrediction: prediction, teacher: ideal, studentSteps: 1, schedule: schedule,
            options: TrainingOptions(steps: 300, learningRate: 3e-3, warmupFraction: 0.02, emaDecay: 0), seed: 6,
            batch: { rng in Tensor.randn([64, 2], using: &rng) * s })
        let after = error()
        #expect(losses.count == 300 && losses.allSatisfy(\.isFinite))
        #expect(after < 0.05 && after < before / 5, "max error of the one-step student at the probe: \(before) → \(after)")
    }

    @Test("the conditional round: each batch's predictors see its own labels, and a one-step student learns each class's exact map")
    func conditionalRound() throws {
        // Two classes of 2-D Gaussian data, x₀ ~ N(0, s_c²) with s = 0.5 and 1.5, and the ideal teacher of each
        // class in closed form, x̂₀ = α·s_c²·z/(α²s_c² + σ²). The student reads its class one-hot through a
        // Linear layer that gives its scale: x̂₀ = z·(W·onehot + b). The two-step map of each class is z·k_c for a
        // known k_c, so after the round the student's scales must be k_0 and k_1 — different, as a student that
        // saw one fixed teacher for every batch could not learn.
        let scales: [Float] = [0.5, 1.5]
        func ideal(_ z: Tensor, _ t: [Int], _ labels: [Int]) -> Tensor {
            let factors = zip(t, labels).map { step, c -> Float in
                let a = Double(schedule.alphaBar[step]), s2 = Double(scales[c] * scales[c])
                return Float(a.squareRoot() * s2 / (a * s2 + 1 - a))
            }
            return z * Tensor(factors, shape: [factors.count, 1])
        }
        let grid = ProgressiveDistillation.teacherGrid(studentSteps: 1, steps: 1000)
        let levels = grid.map { NoiseLevel($0, schedule) }
        func wanted(_ c: Int) -> Float {  // the two-step map's factor for class c, from z = 1
            let z = Tensor([1, 1], shape: [1, 2])
            let z1 = ProgressiveDistillation.ddimStep(z, x0: ideal(z, [grid[0]], [c]), from: [levels[0]], to: [levels[1]])
            let z2 = ProgressiveDistillation.ddimStep(z1, x0: ideal(z1, [grid[1]], [c]), from: [levels[1]], to: [levels[2]])
            return z2.data[0]
        }
        var rng = RandomGenerator(seed: 7)
        let head = Linear(2, 1, using: &rng)
        func oneHot(_ labels: [Int]) -> Tensor { Tensor(labels.flatMap { $0 == 0 ? [Float(1), 0] : [0, 1] }, shape: [labels.count, 2]) }
        let losses = try ProgressiveDistillation.round(
            student: head, studentSteps: 1, schedule: schedule,
            options: TrainingOptions(steps: 400, learningRate: 2e-2, warmupFraction: 0.02, emaDecay: 0), seed: 8,
            batch: { rng in
                let labels = (0..<64).map { _ in rng.int(in: 0..<2) }
                let x0 = Tensor.randn([64, 2], using: &rng) * Tensor(labels.map { scales[$0] }, shape: [64, 1])
                return (x0, { z, _ in z * head(oneHot(labels)) }, { z, t in ideal(z, t, labels) })
            })
        let learnt = withoutGradients { head(oneHot([0, 1])).data }
        #expect(losses.count == 400 && losses.allSatisfy(\.isFinite))
        for c in 0..<2 {
            #expect(abs(learnt[c] - wanted(c)) < 0.02 * wanted(c), "class \(c): learnt \(learnt[c]), exact \(wanted(c))")
        }
        #expect(wanted(1) > 1.5 * wanted(0), "the two classes' maps differ: \(wanted(0)), \(wanted(1))")
    }

    @Test("copyParameters makes a student compute what its teacher computes")
    func copy() throws {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 8)
        let teacher = NoiseMLP(width: 8, depth: 2, steps: 1000, using: &a), student = NoiseMLP(width: 8, depth: 2, steps: 1000, using: &b)
        let x = Tensor.randn([4, 2], using: &a), t = [0, 10, 500, 999]
        #expect(student(x, t).data != teacher(x, t).data)
        student.copyParameters(from: teacher)
        #expect(student(x, t).data == teacher(x, t).data)
    }
}
