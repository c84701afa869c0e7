// Chapter 2: grades exercises/Chapter02. `swift test --filter Chapter02` runs just these.

import ExerciseChecks
import Exercises02
import Testing

let chapter02 = Chapter02API(
    trainingLoss: { try Exercises02.trainingLoss(model: $0, x0: $1, t: $2, noise: $3, alphaBar: $4) },
    posteriorMean: { try Exercises02.posteriorMean(xt: $0, epsilon: $1, beta: $2, alphaBar: $3) },
    ddimStep: { try Exercises02.ddimStep(xt: $0, epsilon: $1, alphaBar: $2, alphaBarPrevious: $3) })

/// Runs chapter 2's check `id` against the learner's code and prints the verdict (in the child process).
func runChapter02(_ id: String) { print(evaluate(Chapter02Checks.all.first { $0.id == id }!, chapter02).line) }
func hint02(_ id: String) -> String { Chapter02Checks.all.first { $0.id == id }!.hint }

@Suite("Chapter02 exercises")
struct Chapter02Exercises {
    @Test("2.1 trainingLoss") func trainingLoss() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter02("trainingLoss")
        }
        try grade(r, id: "trainingLoss", hint: hint02("trainingLoss"))
    }

    @Test("2.2 posteriorMean") func posteriorMean() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter02("posteriorMean")
        }
        try grade(r, id: "posteriorMean", hint: hint02("posteriorMean"))
    }

    @Test("2.3 ddimStep") func ddimStep() async throws {
        let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent], crashComment) {
            runChapter02("ddimStep")
        }
        try grade(r, id: "ddimStep", hint: hint02("ddimStep"))
    }

    @Test("every check has a test here")
    func allCovered() {
        #expect(Chapter02Checks.all.map(\.id) == ["trainingLoss", "posteriorMean", "ddimStep"])
    }
}
