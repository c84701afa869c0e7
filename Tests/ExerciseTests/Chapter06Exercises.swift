// Chapter 6: grades exercises/Chapter06. `swift test --filter Chapter06` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter06 exercises")
struct Chapter06Exercises {
    @Test("6.1 tokenize") func tokenize() throws { try grade(chapter: "06", id: "tokenize", hint: Chapter06Checks.all.first { $0.id == "tokenize" }!.hint) }

    @Test("6.2 crossAttention") func crossAttention() throws { try grade(chapter: "06", id: "crossAttention", hint: Chapter06Checks.all.first { $0.id == "crossAttention" }!.hint) }

    @Test("6.3 guidedNoise") func guidedNoise() throws { try grade(chapter: "06", id: "guidedNoise", hint: Chapter06Checks.all.first { $0.id == "guidedNoise" }!.hint) }

    @Test("6.4 promptDropout") func promptDropout() throws { try grade(chapter: "06", id: "promptDropout", hint: Chapter06Checks.all.first { $0.id == "promptDropout" }!.hint) }

    @Test("6.5 guidedOutput") func guidedOutput() throws { try grade(chapter: "06", id: "guidedOutput", hint: Chapter06Checks.all.first { $0.id == "guidedOutput" }!.hint) }

    @Test("6.6 velocityTarget") func velocityTarget() throws { try grade(chapter: "06", id: "velocityTarget", hint: Chapter06Checks.all.first { $0.id == "velocityTarget" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter06Checks.all.map(\.id) == ["tokenize", "crossAttention", "guidedNoise", "promptDropout", "guidedOutput", "velocityTarget"])
    }
}
