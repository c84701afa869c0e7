// Chapter 4: grades exercises/Chapter04. `swift test --filter Chapter04` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter04 exercises")
struct Chapter04Exercises {
    @Test("4.1 sinusoidalEmbedding") func sinusoidalEmbedding() throws { try grade(chapter: "04", id: "sinusoidalEmbedding", hint: Chapter04Checks.all.first { $0.id == "sinusoidalEmbedding" }!.hint) }

    @Test("4.2 injectTime") func injectTime() throws { try grade(chapter: "04", id: "injectTime", hint: Chapter04Checks.all.first { $0.id == "injectTime" }!.hint) }

    @Test("4.3 meanLossByRange") func meanLossByRange() throws { try grade(chapter: "04", id: "meanLossByRange", hint: Chapter04Checks.all.first { $0.id == "meanLossByRange" }!.hint) }

    @Test("4.4 noiseVariance") func noiseVariance() throws { try grade(chapter: "04", id: "noiseVariance", hint: Chapter04Checks.all.first { $0.id == "noiseVariance" }!.hint) }

    @Test("4.5 resBlock") func resBlock() throws { try grade(chapter: "04", id: "resBlock", hint: Chapter04Checks.all.first { $0.id == "resBlock" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter04Checks.all.map(\.id) == ["sinusoidalEmbedding", "injectTime", "meanLossByRange", "noiseVariance", "resBlock"])
    }
}
