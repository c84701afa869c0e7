// Chapter 6: grades exercises/Chapter06. `swift test --filter Chapter06` runs just these.

import ExerciseChecks
import Exercises06
import Testing

let chapter06 = Chapter06API(
    tokenize: { prompt, vocabulary, length in
        do { return .tokens(try Exercises06.tokenize(prompt, vocabulary: vocabulary, length: length)) } catch let e as Exercises06.UnknownWord {
            return .unknown(e.word)
        }
    },
    crossAttention: { try Exercises06.crossAttention(pixels: $0, words: $1, wq: $2, wk: $3, wv: $4) },
    guidedNoise: { try Exercises06.guidedNoise(conditional: $0, unconditional: $1, scale: $2) })

/// Runs chapter 6's check `id` against the learner's code and prints the verdict (in the child process).
func runChapter06(_ id: String) { print(evaluate(Chapter06Checks.all.first { $0.id == id }!, chapter06).line) }
func hint06(_ id: String) -> String { Chapter06Checks.all.first { $0.id == id }!.hint }

@Suite("Chapter06 exercises")
struct Chapter06Exercises {
    @Test("6.1 tokenize") func tokenize() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter06("tokenize")
        }
        try grade(r, id: "tokenize", hint: hint06("tokenize"))
    }

    @Test("6.2 crossAttention") func crossAttention() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter06("crossAttention")
        }
        try grade(r, id: "crossAttention", hint: hint06("crossAttention"))
    }

    @Test("6.3 guidedNoise") func guidedNoise() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter06("guidedNoise")
        }
        try grade(r, id: "guidedNoise", hint: hint06("guidedNoise"))
    }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter06Checks.all.map(\.id) == ["tokenize", "crossAttention", "guidedNoise"])
    }
}
