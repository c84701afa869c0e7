// Chapter 5: grades exercises/Chapter05. `swift test --filter Chapter05` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter05 exercises")
struct Chapter05Exercises {
    @Test("5.1 stableSoftmax") func stableSoftmax() throws { try grade(chapter: "05", id: "stableSoftmax", hint: Chapter05Checks.all.first { $0.id == "stableSoftmax" }!.hint) }

    @Test("5.2 attentionWeights") func attentionWeights() throws { try grade(chapter: "05", id: "attentionWeights", hint: Chapter05Checks.all.first { $0.id == "attentionWeights" }!.hint) }

    @Test("5.3a splitHeads") func splitHeads() throws { try grade(chapter: "05", id: "splitHeads", hint: Chapter05Checks.all.first { $0.id == "splitHeads" }!.hint) }

    @Test("5.3b mergeHeads") func mergeHeads() throws { try grade(chapter: "05", id: "mergeHeads", hint: Chapter05Checks.all.first { $0.id == "mergeHeads" }!.hint) }

    @Test("5.4 selfAttentionBlock") func selfAttentionBlock() throws { try grade(chapter: "05", id: "selfAttentionBlock", hint: Chapter05Checks.all.first { $0.id == "selfAttentionBlock" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter05Checks.all.map(\.id) == ["stableSoftmax", "attentionWeights", "splitHeads", "mergeHeads", "selfAttentionBlock"])
    }
}
