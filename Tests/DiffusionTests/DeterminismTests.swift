// Same seed, same bits, whatever the thread count: a few DDPM training steps of a tiny
// time-conditioned UNet at 1 and at 2 threads leave every weight bit-identical, and sampling from
// it at 1 and at 2 threads gives bit-identical images. This is the promise of DESIGN.md's
// "Determinism" (fixed chunks combined in index order), checked end to end rather than per kernel.
// The thread count is scoped with `Parallel.withThreads`, so tests running beside this one cannot
// change it (and this one cannot change theirs).

import NN
import Testing
@testable import Diffusion
import Tensor

@Suite("Determinism across thread counts")
struct DeterminismTests {
    /// Trains a fresh TimeUNet (8 channels, batch 4, 8×8 images, 3 steps) with `threads` kernel threads.
    /// At batch 4 GroupNorm's 4·8 rows and the convolutions' images are spread over the threads.
    static func train(threads: Int) throws -> TimeUNet {
        try Parallel.withThreads(threads) {
            #expect(Parallel.threadCount == threads)
            var rng = RandomGenerator(seed: 11)
            let net = TimeUNet(channels: 8, using: &rng)
            _ = try DDPMTrainer.train(net, predictor: net.predictor, schedule: .linear(), options: TrainingOptions(steps: 3),
                                      seed: 12, batch: { rng in Tensor.randn([4, 3, 8, 8], using: &rng) })
            return net
        }
    }

    static func bits(_ net: TimeUNet) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: net.namedParameters.map { ($0.name, $0.tensor.data.map(\.bitPattern)) })
    }

    @Test("3 training steps at 1 and at 2 threads give bit-identical weights; samples at 1 and 2 threads are bit-identical")
    func trainingAndSamplingIgnoreThreadCount() throws {
        let one = try Self.train(threads: 1), two = try Self.train(threads: 2)
        let (a, b) = (Self.bits(one), Self.bits(two))
        #expect(a.keys.sorted() == b.keys.sorted())
        let differing = a.keys.filter { a[$0] != b[$0] }.sorted()
        #expect(differing.isEmpty, "weights differ between 1 and 2 threads in \(differing)")
        // The training moved the weights (else the comparison above would be trivially true).
        var rng = RandomGenerator(seed: 11)
        let untrained = Self.bits(TimeUNet(channels: 8, using: &rng))
        #expect(untrained != a)

        // Sampling: the same trained model, the same seed, 1 thread vs 2. η = 1 draws fresh noise at every step.
        func sample(threads: Int) -> [UInt32] {
            Parallel.withThreads(threads) {
                var rng = RandomGenerator(seed: 13)
                return withoutGradients {
                    Sampler(eta: 1, steps: 4).sample(one.predictor, shape: [3, 3, 8, 8], schedule: .linear(), using: &rng)
                }.data.map(\.bitPattern)
            }
        }
        let s1 = sample(threads: 1), s2 = sample(threads: 2)
        #expect(s1.count == 3 * 3 * 8 * 8)
        #expect(s1 == s2, "samples differ in \(zip(s1, s2).filter { $0 != $1 }.count) of \(s1.count) values")
        #expect(s1.allSatisfy { Float(bitPattern: $0).isFinite })
    }
}
