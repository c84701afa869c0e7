// Runs chapter 6's exercise checks for `swift run progress`.
import ExerciseChecks
import Exercises06

runChecksCommandLine(Chapter06Checks.all, Chapter06API(
    tokenize: { prompt, vocabulary, length in
        do { return .tokens(try tokenize(prompt, vocabulary: vocabulary, length: length)) }
        catch let e as UnknownWord { return .unknown(e.word) }
        catch let e as TooManyWords { return .tooMany(e.count) }
    },
    crossAttention: { try crossAttention(pixels: $0, words: $1, wq: $2, wk: $3, wv: $4) },
    guidedNoise: { try guidedNoise(conditional: $0, unconditional: $1, scale: $2) }))
