// The same checks as the learner's, run against solutions/: every solution must pass.

import ExerciseChecks
import Solutions08
import Testing

@Suite("Chapter08 solutions")
struct Chapter08Solutions {
    static let api = Chapter08API(
        halfLogSNR: { try Solutions08.halfLogSNR(alphaBar: $0) },
        logSNRTimesteps: { try Solutions08.logSNRTimesteps(count: $0, alphaBar: $1) },
        dpmSolverStep: { try Solutions08.dpmSolverStep(x: $0, x0: $1, previous: $2, from: $3, to: $4) },
        distillationTarget: { try Solutions08.distillationTarget(z: $0, twoStepsLater: $1, alpha: $2, sigma: $3, alpha2: $4, sigma2: $5) })

    @Test(arguments: Chapter08Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter08Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
