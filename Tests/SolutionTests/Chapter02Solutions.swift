// The same checks as the learner's, run against solutions/: every solution must pass.

import ExerciseChecks
import Solutions02
import Testing

@Suite("Chapter02 solutions")
struct Chapter02Solutions {
    static let api = Chapter02API(
        trainingLoss: { try Solutions02.trainingLoss(model: $0, x0: $1, t: $2, noise: $3, alphaBar: $4) },
        posteriorMean: { try Solutions02.posteriorMean(xt: $0, epsilon: $1, beta: $2, alphaBar: $3) },
        ddimStep: { try Solutions02.ddimStep(xt: $0, epsilon: $1, alphaBar: $2, alphaBarPrevious: $3) },
        trainingStep: { try Solutions02.trainingStep(predict: $0, x0: $1, parameters: $2, optimizer: $3, ema: $4, alphaBar: $5,
                                                     clipNorm: $6, using: &$7) },
        sampleDDPM: { try Solutions02.sampleDDPM(predict: $0, xT: $1, beta: $2, alphaBar: $3, observe: $4, using: &$5) },
        ddimTimesteps: { try Solutions02.ddimTimesteps(count: $0, steps: $1) },
        ddimSigma: { try Solutions02.ddimSigma(eta: $0, alphaBar: $1, alphaBarPrevious: $2) })

    @Test(arguments: Chapter02Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter02Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
