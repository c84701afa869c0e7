// Runs chapter 4's exercise checks for `swift run progress`.
import Diffusion
import ExerciseChecks
import Exercises04

runChecksCommandLine(Chapter04Checks.all, Chapter04API(sinusoidalEmbedding: { try Exercises04.sinusoidalEmbedding($0, dimension: $1) },
                                                       injectTime: { try injectTime($0, scaleShift: $1) },
                                                       meanLossByRange: { try meanLossByRange(losses: $0, t: $1, ranges: $2) },
                                                       noiseVariance: { try noiseVariance($0, cleanRoughness: $1) },
                                                       resBlock: { b, x, emb in
                                                           try Exercises04.resBlock(x, emb: emb, norm1: b.norm1, conv1: b.conv1, embedding: b.embedding,
                                                                        norm2: b.norm2, conv2: b.conv2, skip: b.skip)
                                                       }))
