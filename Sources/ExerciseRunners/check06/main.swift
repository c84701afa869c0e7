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
    guidedNoise: { try guidedNoise(conditional: $0, unconditional: $1, scale: $2) },
    promptDropout: { try promptDropout(color: $0, shape: $1, position: $2, dropCaption: $3, dropAttribute: $4, using: &$5) },
    guidedOutput: { try guidedOutput(network: $0, x: $1, t: $2, tokens: $3, emptyPrompt: $4, scale: $5) },
    velocityTarget: { try velocityTarget(x0: $0, noise: $1, alphaBar: $2) }))
