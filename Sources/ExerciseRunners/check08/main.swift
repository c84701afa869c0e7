// Runs chapter 8's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises08

runChecksCommandLine(Chapter08Checks.all, Chapter08API(
    halfLogSNR: { try halfLogSNR(alphaBar: $0) },
    logSNRTimesteps: { try logSNRTimesteps(count: $0, alphaBar: $1) },
    dpmSolverStep: { try dpmSolverStep(x: $0, x0: $1, previous: $2, from: $3, to: $4) },
    distillationTarget: { try distillationTarget(z: $0, twoStepsLater: $1, alpha: $2, sigma: $3, alpha2: $4, sigma2: $5) }))
