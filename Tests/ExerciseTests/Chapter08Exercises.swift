// Chapter 8: grades exercises/Chapter08. `swift test --filter Chapter08` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter08 exercises")
struct Chapter08Exercises {
    @Test("8.1 halfLogSNR") func halfLogSNR() throws { try grade(chapter: "08", id: "halfLogSNR", hint: Chapter08Checks.all.first { $0.id == "halfLogSNR" }!.hint) }

    @Test("8.2 logSNRTimesteps") func logSNRTimesteps() throws { try grade(chapter: "08", id: "logSNRTimesteps", hint: Chapter08Checks.all.first { $0.id == "logSNRTimesteps" }!.hint) }

    @Test("8.3 dpmSolverStep") func dpmSolverStep() throws { try grade(chapter: "08", id: "dpmSolverStep", hint: Chapter08Checks.all.first { $0.id == "dpmSolverStep" }!.hint) }

    @Test("8.4 distillationTarget") func distillationTarget() throws { try grade(chapter: "08", id: "distillationTarget", hint: Chapter08Checks.all.first { $0.id == "distillationTarget" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter08Checks.all.map(\.id) == ["halfLogSNR", "logSNRTimesteps", "dpmSolverStep", "distillationTarget"])
    }
}
