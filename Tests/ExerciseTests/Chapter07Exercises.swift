// Chapter 7: grades exercises/Chapter07. `swift test --filter Chapter07` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter07 exercises")
struct Chapter07Exercises {
    @Test("7.1 encoderOutputSide") func encoderOutputSide() throws { try grade(chapter: "07", id: "encoderOutputSide", hint: Chapter07Checks.all.first { $0.id == "encoderOutputSide" }!.hint) }

    @Test("7.2 reparameterize") func reparameterize() throws { try grade(chapter: "07", id: "reparameterize", hint: Chapter07Checks.all.first { $0.id == "reparameterize" }!.hint) }

    @Test("7.3 gaussianKL") func gaussianKL() throws { try grade(chapter: "07", id: "gaussianKL", hint: Chapter07Checks.all.first { $0.id == "gaussianKL" }!.hint) }

    @Test("7.4 latentScaleFactor") func latentScaleFactor() throws { try grade(chapter: "07", id: "latentScaleFactor", hint: Chapter07Checks.all.first { $0.id == "latentScaleFactor" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter07Checks.all.map(\.id) == ["encoderOutputSide", "reparameterize", "gaussianKL", "latentScaleFactor"])
    }
}
