// Chapter 1: grades exercises/Chapter01. `swift test --filter Chapter01` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter01 exercises")
struct Chapter01Exercises {
    @Test("1.1 linearBetas") func linearBetas() throws { try grade(chapter: "01", id: "linearBetas", hint: Chapter01Checks.all.first { $0.id == "linearBetas" }!.hint) }

    @Test("1.2 alphaBars") func alphaBars() throws { try grade(chapter: "01", id: "alphaBars", hint: Chapter01Checks.all.first { $0.id == "alphaBars" }!.hint) }

    @Test("1.3 noisyBatch") func noisyBatch() throws { try grade(chapter: "01", id: "noisyBatch", hint: Chapter01Checks.all.first { $0.id == "noisyBatch" }!.hint) }

    @Test("1.4 cosineBetas") func cosineBetas() throws { try grade(chapter: "01", id: "cosineBetas", hint: Chapter01Checks.all.first { $0.id == "cosineBetas" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter01Checks.all.map(\.id) == ["linearBetas", "alphaBars", "noisyBatch", "cosineBetas"])
    }
}
