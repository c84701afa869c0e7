// The same checks as the learner's, run against solutions/: every solution must pass.

import Diffusion
import ExerciseChecks
import Solutions05
import Testing

@Suite("Chapter05 solutions")
struct Chapter05Solutions {
    static let api = Chapter05API(
        stableSoftmax: { try Solutions05.stableSoftmax($0) },
        attentionWeights: { try Solutions05.attentionWeights(q: $0, k: $1) },
        splitHeads: { try Solutions05.splitHeads($0, heads: $1) },
        mergeHeads: { try Solutions05.mergeHeads($0, heads: $1) },
        selfAttentionBlock: { b, h in
            try Solutions05.selfAttentionBlock(h, norm: b.norm, query: b.attention.query, key: b.attention.key, value: b.attention.value,
                                               output: b.attention.output, heads: b.attention.heads)
        })

    @Test(arguments: Chapter05Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter05Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
