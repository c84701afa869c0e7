// Chapter 0: grades exercises/Chapter00. `swift test --filter Chapter00` runs just these.

import ExerciseChecks
import Exercises00
import Testing

let chapter00 = Chapter00API(mulBackward: Exercises00.mulBackward, matmulBackward: Exercises00.matmulBackward,
                             sumBackward: Exercises00.sumBackward, softmaxBackward: Exercises00.softmaxBackward)

/// Runs chapter 0's check `id` against the learner's code and prints the verdict (in the child process).
func runChapter00(_ id: String) { print(evaluate(Chapter00Checks.all.first { $0.id == id }!, chapter00).line) }
func hint00(_ id: String) -> String { Chapter00Checks.all.first { $0.id == id }!.hint }

@Suite("Chapter00 exercises")
struct Chapter00Exercises {
    @Test("0.1 mulBackward") func mulBackward() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter00("mulBackward")
        }
        try grade(r, id: "mulBackward", hint: hint00("mulBackward"))
    }

    @Test("0.2 matmulBackward") func matmulBackward() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter00("matmulBackward")
        }
        try grade(r, id: "matmulBackward", hint: hint00("matmulBackward"))
    }

    @Test("0.3 sumBackward") func sumBackward() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter00("sumBackward")
        }
        try grade(r, id: "sumBackward", hint: hint00("sumBackward"))
    }

    @Test("0.4 softmaxBackward") func softmaxBackward() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter00("softmaxBackward")
        }
        try grade(r, id: "softmaxBackward", hint: hint00("softmaxBackward"))
    }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter00Checks.all.map(\.id) == ["mulBackward", "matmulBackward", "sumBackward", "softmaxBackward"])
    }
}
