// Runs chapter 2's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises02

runChecksCommandLine(Chapter02Checks.all, Chapter02API(trainingLoss: { try trainingLoss(model: $0, x0: $1, t: $2, noise: $3, alphaBar: $4) },
                                                       posteriorMean: { try posteriorMean(xt: $0, epsilon: $1, beta: $2, alphaBar: $3) },
                                                       ddimStep: { try ddimStep(xt: $0, epsilon: $1, alphaBar: $2, alphaBarPrevious: $3) }))
