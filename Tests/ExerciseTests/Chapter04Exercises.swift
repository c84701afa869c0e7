// Chapter 4: grades exercises/Chapter04. `swift test --filter Chapter04` runs just these.

import ExerciseChecks
import Exercises04
import Testing

let chapter04 = Chapter04API(
    sinusoidalEmbedding: { try Exercises04.sinusoidalEmbedding($0, dimension: $1) },
    injectTime: { try Exercises04.injectTime($0, scaleShift: $1) },
    meanLossByRange: { try Exercises04.meanLossByRange(losses: $0, t: $1, ranges: $2) },
    noiseVariance: { try Exercises04.noiseVariance($0, cleanRoughness: $1) })

/// Runs chapter 4's check `id` against the learner's code and prints the verdict (in the child process).
func runChapter04(_ id: String) { print(evaluate(Chapter04Checks.all.first { $0.id == id }!, chapter04).line) }
func hint04(_ id: String) -> String { Chapter04Checks.all.first { $0.id == id }!.hint }

@Suite("Chapter04 exercises")
struct Chapter04Exercises {
    @Test("4.1 sinusoidalEmbedding") func sinusoidalEmbedding() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter04("sinusoidalEmbedding")
        }
        try grade(r, id: "sinusoidalEmbedding", hint: hint04("sinusoidalEmbedding"))
    }

    @Test("4.2 injectTime") func injectTime() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter04("injectTime")
        }
        try grade(r, id: "injectTime", hint: hint04("injectTime"))
    }

    @Test("4.3 meanLossByRange") func meanLossByRange() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter04("meanLossByRange")
        }
        try grade(r, id: "meanLossByRange", hint: hint04("meanLossByRange"))
    }

    @Test("4.4 noiseVariance") func noiseVariance() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter04("noiseVariance")
        }
        try grade(r, id: "noiseVariance", hint: hint04("noiseVariance"))
    }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter04Checks.all.map(\.id) == ["sinusoidalEmbedding", "injectTime", "meanLossByRange", "noiseVariance"])
    }
}
