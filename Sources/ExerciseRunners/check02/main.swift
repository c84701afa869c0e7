// Runs chapter 2's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises02

runChecksCommandLine(Chapter02Checks.all, Chapter02API(trainingLoss: { try trainingLoss(model: $0, x0: $1, t: $2, noise: $3, alphaBar: $4) },
                                                       posteriorMean: { try posteriorMean(xt: $0, epsilon: $1, beta: $2, alphaBar: $3) },
                                                       ddimStep: { try ddimStep(xt: $0, epsilon: $1, alphaBar: $2, alphaBarPrevious: $3) },
                                                       trainingStep: { try trainingStep(predict: $0, x0: $1, parameters: $2, optimizer: $3, ema: $4,
                                                                                        alphaBar: $5, clipNorm: $6, using: &$7) },
                                                       sampleDDPM: { try sampleDDPM(predict: $0, xT: $1, beta: $2, alphaBar: $3, observe: $4, using: &$5) },
                                                       ddimTimesteps: { try ddimTimesteps(count: $0, steps: $1) },
                                                       ddimSigma: { try ddimSigma(eta: $0, alphaBar: $1, alphaBarPrevious: $2) }))
