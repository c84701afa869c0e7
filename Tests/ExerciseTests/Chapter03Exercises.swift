// Chapter 3: grades exercises/Chapter03. `swift test --filter Chapter03` runs just these.

import ExerciseChecks
import Exercises03
import Testing

let chapter03 = Chapter03API(
    convOutputSize: { try Exercises03.convOutputSize(input: $0, kernel: $1, stride: $2, padding: $3) },
    downBlock: { try Exercises03.downBlock($0, conv: $1, norm: $2) },
    skipConcat: { try Exercises03.skipConcat($0, skip: $1) })

/// Runs chapter 3's check `id` against the learner's code and prints the verdict (in the child process).
func runChapter03(_ id: String) { print(evaluate(Chapter03Checks.all.first { $0.id == id }!, chapter03).line) }
func hint03(_ id: String) -> String { Chapter03Checks.all.first { $0.id == id }!.hint }

@Suite("Chapter03 exercises")
struct Chapter03Exercises {
    @Test("3.1 convOutputSize") func convOutputSize() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter03("convOutputSize")
        }
        try grade(r, id: "convOutputSize", hint: hint03("convOutputSize"))
    }

    @Test("3.2 downBlock") func downBlock() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter03("downBlock")
        }
        try grade(r, id: "downBlock", hint: hint03("downBlock"))
    }

    @Test("3.3 skipConcat") func skipConcat() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter03("skipConcat")
        }
        try grade(r, id: "skipConcat", hint: hint03("skipConcat"))
    }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter03Checks.all.map(\.id) == ["convOutputSize", "downBlock", "skipConcat"])
    }
}
