// Chapters 4 and 5: the sinusoidal embedding worked by hand, the residual block's identity start and
// its gradients, the time-conditioned UNet's use of t, and what self-attention over positions does
// (permutation equivariance, reach across the whole map in one layer).

import Foundation
import NN
import Testing
@testable import Diffusion
import Tensor


@Suite("Time embedding and the time-conditioned UNet (chapter 4)")
struct TimeEmbeddingTests {
    @Test("sinusoidal embedding, worked by hand for d = 4 and d = 6")
    func sinusoidal() {
        // d = 4: half = 2, ω = [10000^0, 10000^(−1/1)] = [1, 1e-4].
        // t = 1: [sin 1, sin 1e-4, cos 1, cos 1e-4] = [0.8414710, 0.0001, 0.5403023, 1.0]
        // t = 0: [0, 0, 1, 1]
        let e = sinusoidalEmbedding([1, 0], dimension: 4)
        #expect(e.shape == [2, 4])
        let expected: [Float] = [0.8414710, 0.0001, 0.5403023, 1.0, 0, 0, 1, 1]
        #expect(zip(e.data, expected).allSatisfy { Swift.abs($0 - $1) < 1e-6 }, "\(e.data)")
        // d = 6: half = 3, ω = [1, 10000^(−1/2) = 0.01, 1e-4]; t = 100: [sin 100, sin 1, sin 0.01, cos 100, cos 1, cos 0.01]
        //   = [−0.5063656, 0.8414710, 0.0099998, 0.8623189, 0.5403023, 0.99995]
        let f = sinusoidalEmbedding([100], dimension: 6)
        let g: [Float] = [-0.5063656, 0.8414710, 0.0099998, 0.8623189, 0.5403023, 0.99995]
        #expect(zip(f.data, g).allSatisfy { Swift.abs($0 - $1) < 1e-5 }, "\(f.data)")
        // Every entry stays in −1…1 and distinct steps get distinct codes.
        let all = sinusoidalEmbedding(Array(0..<1000), dimension: 32)
        #expect(all.data.allSatisfy { Swift.abs($0) <= 1 })
        let rows = Set((0..<1000).map { Array(all.data[$0 * 32..<($0 + 1) * 32]) })
        #expect(rows.count == 1000)
    }

    @Test("a fresh ResBlock is the identity when the width is unchanged (conv₂, scale and shift start at 0)")
    func resBlockIdentity() {
        var rng = RandomGenerator(seed: 1)
        let block = ResBlock(8, 8, embeddingDim: 16, using: &rng)
        let x = Tensor.randn([2, 8, 4, 4], using: &rng), emb = Tensor.randn([2, 16], using: &rng)
        #expect(withoutGradients { block(x, emb) }.data == x.data)
    }

    @Test("gradient check of a ResBlock (input and embedding) and of a tiny TimeUNet, with and without attention")
    func gradients() {
        var rng = RandomGenerator(seed: 2)
        let block = ResBlock(8, 16, embeddingDim: 12, using: &rng)
        randomize(block, seed: 3)
        let x = Tensor.randn([2, 8, 4, 4], using: &rng), emb = Tensor.randn([2, 12], using: &rng)
        let r = gradientCheck([x, emb], seed: 4) { block($0[0], $0[1]) }
        #expect(r.passes(tolerance: 1e-2), "ResBlock: \(r)")
        for attention in [false, true] {
            let net = TimeUNet(channels: 8, conditioning: .sinusoidal, attention: attention, heads: 2, using: &rng)
            randomize(net, seed: 5)
            let input = Tensor.randn([2, 3, 8, 8], using: &rng)
            let result = gradientCheck([input], seed: 6) { net($0[0], [10, 700]) }
            #expect(result.passes(tolerance: 1e-2), "attention \(attention): \(result)")
        }
    }

    @Test("the UNet uses t when told it (scalar or sinusoidal) and ignores it when not")
    func usesT() {
        var rng = RandomGenerator(seed: 7)
        let x = Tensor.randn([1, 3, 8, 8], using: &rng)
        for kind in TimeConditioning.allCases {
            let net = TimeUNet(channels: 8, conditioning: kind, using: &rng)
            randomize(net, seed: 8)
            let early = withoutGradients { net(x, [10]) }, late = withoutGradients { net(x, [900]) }
            let difference = zip(early.data, late.data).map { Swift.abs($0 - $1) }.max()!
            if kind == .none { #expect(difference == 0) } else { #expect(difference > 1e-3, "\(kind): \(difference)") }
            #expect(early.shape == [1, 3, 8, 8])
        }
    }

    @Test("parameter names are unique and dotted; attention adds its three blocks")
    func names() {
        var rng = RandomGenerator(seed: 9)
        let plain = TimeUNet(channels: 8, using: &rng), attn = TimeUNet(channels: 8, attention: true, heads: 2, using: &rng)
        for net in [plain, attn] {
            let names = net.namedParameters.map(\.name)
            #expect(Set(names).count == names.count)
        }
        #expect(attn.namedParameters.map(\.name).contains("attention_middle.attention.query.weight"))
        // Each attention block at width 2c = 16: GroupNorm 2·16 + four 16×16 linears with bias = 32 + 4·272 = 1,120.
        #expect(attn.parameterCount - plain.parameterCount == 3 * 1_120)
    }

    @Test("a feature map as tokens and back: [B, C, H, W] <-> [B, H·W, C], token p = y·W + x")
    func featureMapTokens() {
        // One image, C = 2, H = 2, W = 3: channel 0 holds 0…5, channel 1 holds 10…15 (row-major).
        let h = Tensor([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15], shape: [1, 2, 2, 3])
        let tokens = tokensFromFeatureMap(h)
        #expect(tokens.shape == [1, 6, 2])
        #expect(tokens.data == [0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15])   // token p = (channel 0, channel 1) at p
        #expect(featureMapFromTokens(tokens, height: 2, width: 3).data == h.data)
    }

    @Test("coordinate channels: x and y at pixel centres, worked by hand for a 2×4 map")
    func coordinateGrid() {
        let grid = CoordinateChannels.grid(batch: 2, height: 2, width: 4)
        #expect(grid.shape == [2, 2, 2, 4])
        // Pixel centres of 4 columns in −1…1 are at −1 + (2i + 1)/4: −0.75, −0.25, 0.25, 0.75; of 2 rows −0.5, 0.5.
        let one: [Float] = [-0.75, -0.25, 0.25, 0.75, -0.75, -0.25, 0.25, 0.75,   // x, rows 0 and 1
                            -0.5, -0.5, -0.5, -0.5, 0.5, 0.5, 0.5, 0.5]            // y
        #expect(grid.data == one + one)
    }

    @Test("a UNet with coordinates reads two more input channels, after the image's, and nothing else changes")
    func coordinateChannels() {
        var a = RandomGenerator(seed: 30), b = RandomGenerator(seed: 30)
        let plain = TimeUNet(channels: 8, using: &a), located = TimeUNet(channels: 8, coordinates: true, using: &b)
        #expect(located.stem.weight.shape == [8, 5, 3, 3])
        #expect(located.parameterCount - plain.parameterCount == 8 * 2 * 9)   // two more inputs to an 8-filter 3×3 conv
        randomize(plain, seed: 31)
        randomize(located, seed: 31)
        // Copy the plain stem into the first three input channels and zero the coordinate ones: same function.
        var w = [Float](repeating: 0, count: 8 * 5 * 9)
        for o in 0..<8 { for i in 0..<3 { for k in 0..<9 { w[(o * 5 + i) * 9 + k] = plain.stem.weight.data[(o * 3 + i) * 9 + k] } } }
        for (p, q) in zip(plain.parameters, located.parameters) where p !== plain.stem.weight { q.data = p.data }
        located.stem.weight.data = w
        var rng = RandomGenerator(seed: 32)
        let x = Tensor.randn([2, 3, 8, 8], using: &rng)
        let same = withoutGradients { (plain(x, [5, 600]), located(x, [5, 600])) }
        #expect(zip(same.0.data, same.1.data).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
        // A weight on the y channel alone now makes the output depend on it.
        w[(0 * 5 + 4) * 9 + 4] = 1
        located.stem.weight.data = w
        let moved = withoutGradients { located(x, [5, 600]) }
        #expect(zip(same.1.data, moved.data).map { Swift.abs($0 - $1) }.max()! > 1e-3)
    }

    @Test("the trainer lowers the loss of a tiny time-conditioned UNet")
    func learns() throws {
        var rng = RandomGenerator(seed: 10)
        let net = TimeUNet(channels: 8, using: &rng)
        let schedule = NoiseSchedule.linear()
        let batch: (inout RandomGenerator) -> Tensor = { r in
            var data = [Float](repeating: -1, count: 16 * 3 * 64)
            for b in 0..<16 {
                let (y0, x0) = (r.int(in: 0..<2) * 4, r.int(in: 0..<2) * 4)
                for c in 0..<3 { for y in y0..<(y0 + 4) { for x in x0..<(x0 + 4) { data[((b * 3 + c) * 8 + y) * 8 + x] = 1 } } }
            }
            return Tensor(data, shape: [16, 3, 8, 8])
        }
        func evaluate() -> Double {
            DDPMTrainer.lossByTimeRange(net.predictor, schedule: schedule, ranges: [0..<1000], batches: 2, seed: 11, batch: batch)[0]
        }
        let before = evaluate()
        _ = try DDPMTrainer.train(net, predictor: net.predictor, schedule: schedule,
                                  options: TrainingOptions(steps: 40, learningRate: 3e-3, emaDecay: 0), seed: 12, batch: batch)
        let after = evaluate()
        #expect(after < 0.8 * before, "before \(before), after \(after)")
    }
}

@Suite("Self-attention over positions (chapter 5)")
struct SpatialAttentionTests {
    @Test("permuting the positions of the input permutes the output the same way (no notion of place)")
    func equivariant() {
        var rng = RandomGenerator(seed: 20)
        let block = SpatialSelfAttention(channels: 8, heads: 2, using: &rng)
        randomize(block, seed: 21)
        // A 1×8 "image": its 8 positions, reversed. GroupNorm's statistics do not depend on order.
        let x = Tensor.randn([1, 8, 1, 8], using: &rng)
        func reversed(_ t: Tensor) -> Tensor {
            var d = t.data
            for c in 0..<8 { for w in 0..<8 { d[c * 8 + w] = t.data[c * 8 + 7 - w] } }
            return Tensor(d, shape: t.shape)
        }
        let a = reversed(withoutGradients { block(x) }), b = withoutGradients { block(reversed(x)) }
        #expect(zip(a.data, b.data).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    }

    @Test("one attention layer reaches across the whole map; one 3×3 convolution does not")
    func reach() {
        var rng = RandomGenerator(seed: 22)
        let block = SpatialSelfAttention(channels: 8, heads: 2, using: &rng)
        randomize(block, seed: 23)
        let conv = Conv2d(8, 8, kernelSize: 3, padding: 1, using: &rng)
        let x = Tensor.randn([1, 8, 8, 8], using: &rng)
        var changed = x.data
        changed[0] += 1   // channel 0, pixel (0, 0): the top-left corner
        let x2 = Tensor(changed, shape: x.shape)
        func corner(_ t: Tensor) -> Float { t.data[63] }   // channel 0, pixel (7, 7): the opposite corner
        #expect(Swift.abs(corner(withoutGradients { block(x2) }) - corner(withoutGradients { block(x) })) > 1e-4)
        #expect(corner(withoutGradients { conv(x2) }) == corner(withoutGradients { conv(x) }))
    }

    @Test("attention weights: [B, heads, HW, HW], each row a distribution")
    func weights() {
        var rng = RandomGenerator(seed: 24)
        let block = SpatialSelfAttention(channels: 8, heads: 2, using: &rng)
        let (_, w) = withoutGradients { block.attend(Tensor.randn([2, 8, 4, 4], using: &rng)) }
        #expect(w.shape == [2, 2, 16, 16])
        for row in 0..<(2 * 2 * 16) {
            let sum = w.data[row * 16..<(row + 1) * 16].reduce(0, +)
            #expect(Swift.abs(sum - 1) < 1e-5)
        }
    }

    @Test("gradient check of the attention block")
    func gradient() {
        var rng = RandomGenerator(seed: 25)
        let block = SpatialSelfAttention(channels: 8, heads: 2, using: &rng)
        randomize(block, seed: 26)
        let r = gradientCheck([Tensor.randn([2, 8, 4, 4], using: &rng)], seed: 27) { block($0[0]) }
        #expect(r.passes(tolerance: 1e-2), "\(r)")
    }

    @Test("the pointwise control: 4C² + 3C parameters against attention's 4C² + 4C; it never looks at another position")
    func pointwiseControl() {
        var rng = RandomGenerator(seed: 28)
        let mlp = PointwiseMLP(channels: 16, using: &rng), attention = SpatialSelfAttention(channels: 16, heads: 2, using: &rng)
        // GroupNorm 2·16 = 32 in both; MLP 16·32 + 32 + 32·16 + 16 = 1,072; attention 4·(16·16 + 16) = 1,088.
        #expect(mlp.parameterCount == 32 + 1_072 && attention.parameterCount == 32 + 1_088)
        randomize(mlp, seed: 29)
        let x = Tensor.randn([1, 16, 4, 4], using: &rng)
        var changed = x.data
        changed[0] += 1   // channel 0, pixel (0, 0)
        let a = withoutGradients { mlp(x) }, b = withoutGradients { mlp(Tensor(changed, shape: x.shape)) }
        // GroupNorm's statistics see the change everywhere, so compare with the norm's effect removed:
        // the change at another pixel is only the renormalisation, tiny next to the pixel itself.
        let here = Swift.abs(a.data[0] - b.data[0]), elsewhere = Swift.abs(a.data[15] - b.data[15])
        #expect(here > 20 * elsewhere, "at the pixel \(here), elsewhere \(elsewhere)")
        let r = gradientCheck([x], seed: 30) { mlp($0[0]) }
        #expect(r.passes(tolerance: 1e-2), "\(r)")
        // In the UNet: the same parameter count as attention, up to C per block.
        let withAttention = TimeUNet(channels: 8, mixing: .attention, heads: 2, using: &rng)
        let withMLP = TimeUNet(channels: 8, mixing: .pointwise, using: &rng)
        #expect(withAttention.parameterCount - withMLP.parameterCount == 3 * 16)
        #expect(withMLP.namedParameters.map(\.name).contains("pointwise_middle.linear1.weight"))
    }
}
