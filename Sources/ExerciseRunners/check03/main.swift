// Runs chapter 3's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises03

runChecksCommandLine(Chapter03Checks.all, Chapter03API(convOutputSize: { try convOutputSize(input: $0, kernel: $1, stride: $2, padding: $3) },
                                                       downBlock: { try downBlock($0, conv: $1, norm: $2) },
                                                       skipConcat: { try skipConcat($0, skip: $1) }))
