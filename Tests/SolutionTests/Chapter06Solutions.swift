// The same checks as the learner's, run against solutions/: every solution must pass.

import ExerciseChecks
import Solutions06
import Testing

@Suite("Chapter06 solutions")
struct Chapter06Solutions {
    static let api = Chapter06API(
        tokenize: { prompt, vocabulary, length in
            do { return .tokens(try Solutions06.tokenize(prompt, vocabulary: vocabulary, length: length)) }
            catch let e as Solutions06.UnknownWord { return .unknown(e.word) }
            catch let e as Solutions06.TooManyWords { return .tooMany(e.count) }
        },
        crossAttention: { try Solutions06.crossAttention(pixels: $0, words: $1, wq: $2, wk: $3, wv: $4) },
        guidedNoise: { try Solutions06.guidedNoise(conditional: $0, unconditional: $1, scale: $2) },
        promptDropout: { try Solutions06.promptDropout(color: $0, shape: $1, position: $2, dropCaption: $3, dropAttribute: $4, using: &$5) },
        guidedOutput: { try Solutions06.guidedOutput(network: $0, x: $1, t: $2, tokens: $3, emptyPrompt: $4, scale: $5) },
        velocityTarget: { try Solutions06.velocityTarget(x0: $0, noise: $1, alphaBar: $2) })

    @Test(arguments: Chapter06Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter06Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
