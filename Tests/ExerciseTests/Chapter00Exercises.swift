// Chapter 0: grades exercises/Chapter00. `swift test --filter Chapter00` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter00 exercises")
struct Chapter00Exercises {
    @Test("0.1 mulBackward") func mulBackward() throws { try grade(chapter: "00", id: "mulBackward", hint: Chapter00Checks.all.first { $0.id == "mulBackward" }!.hint) }

    @Test("0.2 matmulBackward") func matmulBackward() throws { try grade(chapter: "00", id: "matmulBackward", hint: Chapter00Checks.all.first { $0.id == "matmulBackward" }!.hint) }

    @Test("0.3 sumBackward") func sumBackward() throws { try grade(chapter: "00", id: "sumBackward", hint: Chapter00Checks.all.first { $0.id == "sumBackward" }!.hint) }

    @Test("0.4 softmaxBackward") func softmaxBackward() throws { try grade(chapter: "00", id: "softmaxBackward", hint: Chapter00Checks.all.first { $0.id == "softmaxBackward" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter00Checks.all.map(\.id) == ["mulBackward", "matmulBackward", "sumBackward", "softmaxBackward"])
    }
}
