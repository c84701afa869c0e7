// The same checks as the learner's, run against solutions/: every solution must pass.

import ExerciseChecks
import Solutions00
import Testing

@Suite("Chapter00 solutions")
struct Chapter00Solutions {
    static let api = Chapter00API(mulBackward: Solutions00.mulBackward, matmulBackward: Solutions00.matmulBackward,
                                  sumBackward: Solutions00.sumBackward, softmaxBackward: Solutions00.softmaxBackward)

    @Test(arguments: Chapter00Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter00Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
