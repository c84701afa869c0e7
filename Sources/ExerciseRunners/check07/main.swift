// Runs chapter 7's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises07

runChecksCommandLine(Chapter07Checks.all, Chapter07API(
    encoderOutputSide: { try encoderOutputSide(input: $0, kernel: $1, stride: $2, padding: $3) },
    reparameterize: { try reparameterize(mean: $0, logVariance: $1, noise: $2) },
    gaussianKL: { try gaussianKL(mean: $0, logVariance: $1) },
    latentScaleFactor: { try latentScaleFactor($0) }))
