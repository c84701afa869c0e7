// The same checks as the learner's, run against solutions/: every solution must pass.

import ExerciseChecks
import Solutions07
import Testing

@Suite("Chapter07 solutions")
struct Chapter07Solutions {
    static let api = Chapter07API(
        encoderOutputSide: { try Solutions07.encoderOutputSide(input: $0, kernel: $1, stride: $2, padding: $3) },
        reparameterize: { try Solutions07.reparameterize(mean: $0, logVariance: $1, noise: $2) },
        gaussianKL: { try Solutions07.gaussianKL(mean: $0, logVariance: $1) },
        latentScaleFactor: { try Solutions07.latentScaleFactor($0) })

    @Test(arguments: Chapter07Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter07Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
