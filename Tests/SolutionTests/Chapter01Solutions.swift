// The same checks as the learner's, run against solutions/: every solution must pass.

import ExerciseChecks
import Solutions01
import Testing

@Suite("Chapter01 solutions")
struct Chapter01Solutions {
    static let api = Chapter01API(linearBetas: Solutions01.linearBetas, alphaBars: Solutions01.alphaBars,
                                  noisyBatch: Solutions01.noisyBatch, cosineBetas: Solutions01.cosineBetas)

    @Test(arguments: Chapter01Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter01Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
