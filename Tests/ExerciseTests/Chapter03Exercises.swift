// Chapter 3: grades exercises/Chapter03. `swift test --filter Chapter03` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter03 exercises")
struct Chapter03Exercises {
    @Test("3.1 convOutputSize") func convOutputSize() throws { try grade(chapter: "03", id: "convOutputSize", hint: Chapter03Checks.all.first { $0.id == "convOutputSize" }!.hint) }

    @Test("3.2 downBlock") func downBlock() throws { try grade(chapter: "03", id: "downBlock", hint: Chapter03Checks.all.first { $0.id == "downBlock" }!.hint) }

    @Test("3.3 skipConcat") func skipConcat() throws { try grade(chapter: "03", id: "skipConcat", hint: Chapter03Checks.all.first { $0.id == "skipConcat" }!.hint) }

    @Test("3.4 hourglass") func hourglass() throws { try grade(chapter: "03", id: "hourglass", hint: Chapter03Checks.all.first { $0.id == "hourglass" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter03Checks.all.map(\.id) == ["convOutputSize", "downBlock", "skipConcat", "hourglass"])
    }
}
