// Runs chapter 1's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises01

runChecksCommandLine(Chapter01Checks.all, Chapter01API(linearBetas: linearBetas, alphaBars: alphaBars, noisyBatch: noisyBatch, cosineBetas: cosineBetas))
