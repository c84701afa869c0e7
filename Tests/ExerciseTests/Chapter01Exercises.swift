// Chapter 1: grades exercises/Chapter01. `swift test --filter Chapter01` runs just these.

import ExerciseChecks
import Exercises01
import Testing

let chapter01 = Chapter01API(linearBetas: Exercises01.linearBetas, alphaBars: Exercises01.alphaBars,
                             noisyBatch: Exercises01.noisyBatch)

/// Runs chapter 1's check `id` against the learner's code and prints the verdict (in the child process).
func runChapter01(_ id: String) { print(evaluate(Chapter01Checks.all.first { $0.id == id }!, chapter01).line) }
func hint01(_ id: String) -> String { Chapter01Checks.all.first { $0.id == id }!.hint }

@Suite("Chapter01 exercises")
struct Chapter01Exercises {
    @Test("1.1 linearBetas") func linearBetas() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter01("linearBetas")
        }
        try grade(r, id: "linearBetas", hint: hint01("linearBetas"))
    }

    @Test("1.2 alphaBars") func alphaBars() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter01("alphaBars")
        }
        try grade(r, id: "alphaBars", hint: hint01("alphaBars"))
    }

    @Test("1.3 noisyBatch") func noisyBatch() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter01("noisyBatch")
        }
        try grade(r, id: "noisyBatch", hint: hint01("noisyBatch"))
    }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter01Checks.all.map(\.id) == ["linearBetas", "alphaBars", "noisyBatch"])
    }
}
