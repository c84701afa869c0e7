// Runs chapter 4's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises04

runChecksCommandLine(Chapter04Checks.all, Chapter04API(sinusoidalEmbedding: { try sinusoidalEmbedding($0, dimension: $1) },
                                                       injectTime: { try injectTime($0, scaleShift: $1) },
                                                       meanLossByRange: { try meanLossByRange(losses: $0, t: $1, ranges: $2) },
                                                       noiseVariance: { try noiseVariance($0, cleanRoughness: $1) }))
