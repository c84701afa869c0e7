// Chapter 2: grades exercises/Chapter02. `swift test --filter Chapter02` runs just these.

import ExerciseChecks
import Testing

@Suite("Chapter02 exercises")
struct Chapter02Exercises {
    @Test("2.1 trainingLoss") func trainingLoss() throws { try grade(chapter: "02", id: "trainingLoss", hint: Chapter02Checks.all.first { $0.id == "trainingLoss" }!.hint) }

    @Test("2.2 posteriorMean") func posteriorMean() throws { try grade(chapter: "02", id: "posteriorMean", hint: Chapter02Checks.all.first { $0.id == "posteriorMean" }!.hint) }

    @Test("2.3 ddimStep") func ddimStep() throws { try grade(chapter: "02", id: "ddimStep", hint: Chapter02Checks.all.first { $0.id == "ddimStep" }!.hint) }

    @Test("2.4 trainingStep") func trainingStep() throws { try grade(chapter: "02", id: "trainingStep", hint: Chapter02Checks.all.first { $0.id == "trainingStep" }!.hint) }

    @Test("2.5 sampleDDPM") func sampleDDPM() throws { try grade(chapter: "02", id: "sampleDDPM", hint: Chapter02Checks.all.first { $0.id == "sampleDDPM" }!.hint) }

    @Test("2.6 ddimTimesteps") func ddimTimesteps() throws { try grade(chapter: "02", id: "ddimTimesteps", hint: Chapter02Checks.all.first { $0.id == "ddimTimesteps" }!.hint) }

    @Test("2.7 ddimSigma") func ddimSigma() throws { try grade(chapter: "02", id: "ddimSigma", hint: Chapter02Checks.all.first { $0.id == "ddimSigma" }!.hint) }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter02Checks.all.map(\.id) == ["trainingLoss", "posteriorMean", "ddimStep", "trainingStep", "sampleDDPM", "ddimTimesteps", "ddimSigma"])
    }
}
