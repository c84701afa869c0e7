// Chapter 5: grades exercises/Chapter05. `swift test --filter Chapter05` runs just these.

import ExerciseChecks
import Exercises05
import Testing

let chapter05 = Chapter05API(
    stableSoftmax: { try Exercises05.stableSoftmax($0) },
    attentionWeights: { try Exercises05.attentionWeights(q: $0, k: $1) },
    splitHeads: { try Exercises05.splitHeads($0, heads: $1) },
    mergeHeads: { try Exercises05.mergeHeads($0, heads: $1) })

/// Runs chapter 5's check `id` against the learner's code and prints the verdict (in the child process).
func runChapter05(_ id: String) { print(evaluate(Chapter05Checks.all.first { $0.id == id }!, chapter05).line) }
func hint05(_ id: String) -> String { Chapter05Checks.all.first { $0.id == id }!.hint }

@Suite("Chapter05 exercises")
struct Chapter05Exercises {
    @Test("5.1 stableSoftmax") func stableSoftmax() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter05("stableSoftmax")
        }
        try grade(r, id: "stableSoftmax", hint: hint05("stableSoftmax"))
    }

    @Test("5.2 attentionWeights") func attentionWeights() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter05("attentionWeights")
        }
        try grade(r, id: "attentionWeights", hint: hint05("attentionWeights"))
    }

    @Test("5.3a splitHeads") func splitHeads() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter05("splitHeads")
        }
        try grade(r, id: "splitHeads", hint: hint05("splitHeads"))
    }

    @Test("5.3b mergeHeads") func mergeHeads() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter05("mergeHeads")
        }
        try grade(r, id: "mergeHeads", hint: hint05("mergeHeads"))
    }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter05Checks.all.map(\.id) == ["stableSoftmax", "attentionWeights", "splitHeads", "mergeHeads"])
    }
}
