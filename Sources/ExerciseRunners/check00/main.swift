// Runs chapter 0's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises00

runChecksCommandLine(Chapter00Checks.all, Chapter00API(mulBackward: mulBackward, matmulBackward: matmulBackward,
                                                       sumBackward: sumBackward, softmaxBackward: softmaxBackward))
