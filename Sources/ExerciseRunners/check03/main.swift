// Runs chapter 3's exercise checks for `swift run progress`.
import Diffusion
import ExerciseChecks
import Exercises03

runChecksCommandLine(Chapter03Checks.all, Chapter03API(convOutputSize: { try convOutputSize(input: $0, kernel: $1, stride: $2, padding: $3) },
                                                       downBlock: { try downBlock($0, conv: $1, norm: $2) },
                                                       skipConcat: { try skipConcat($0, skip: $1) },
                                                       hourglass: { x, l, skips in
                                                           try hourglass(x, stem: l.stem, down1: l.down1, down2: l.down2, middle: l.middle,
                                                                         up2: l.up2, up1: l.up1, head: l.head, skips: skips)
                                                       }))
