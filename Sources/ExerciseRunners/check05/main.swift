// Runs chapter 5's exercise checks for `swift run progress`.
import Diffusion
import ExerciseChecks
import Exercises05

runChecksCommandLine(Chapter05Checks.all, Chapter05API(stableSoftmax: { try stableSoftmax($0) },
                                                       attentionWeights: { try attentionWeights(q: $0, k: $1) },
                                                       splitHeads: { try splitHeads($0, heads: $1) },
                                                       mergeHeads: { try mergeHeads($0, heads: $1) },
                                                       selfAttentionBlock: { b, h in
                                                           try selfAttentionBlock(h, norm: b.norm, query: b.attention.query, key: b.attention.key,
                                                                                  value: b.attention.value, output: b.attention.output, heads: b.attention.heads)
                                                       }))
