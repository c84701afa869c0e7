// The same checks as the learner's, run against solutions/: every solution must pass.

import Diffusion
import ExerciseChecks
import Solutions04
import Testing

@Suite("Chapter04 solutions")
struct Chapter04Solutions {
    static let api = Chapter04API(
        sinusoidalEmbedding: { try Solutions04.sinusoidalEmbedding($0, dimension: $1) },
        injectTime: { try Solutions04.injectTime($0, scaleShift: $1) },
        meanLossByRange: { try Solutions04.meanLossByRange(losses: $0, t: $1, ranges: $2) },
        noiseVariance: { try Solutions04.noiseVariance($0, cleanRoughness: $1) },
        resBlock: { b, x, emb in
            try Solutions04.resBlock(x, emb: emb, norm1: b.norm1, conv1: b.conv1, embedding: b.embedding, norm2: b.norm2,
                                     conv2: b.conv2, skip: b.skip)
        })

    @Test(arguments: Chapter04Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter04Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
