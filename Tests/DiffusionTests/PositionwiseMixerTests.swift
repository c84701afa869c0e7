// Chapter 5's control for attention: `PositionwiseMixer` has exactly attention's parameters, starts as
// the identity, never lets one position see another, matches its formula written out by hand, and
// passes the gradient check with every one of its four maps trained.

import Foundation
import NN
import Testing
@testable import Diffusion
import Tensor


@Suite("PositionwiseMixer: attention's size, no mixing of positions (chapter 5)")
struct PositionwiseMixerTests {
    @Test("the same parameters as SpatialSelfAttention: count, names, shapes and (from one seed) values; in the UNet too")
    func equalParameters() {
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1)
        let attention = SpatialSelfAttention(channels: 16, heads: 2, using: &a)
        let mixer = PositionwiseMixer(channels: 16, heads: 2, using: &b)
        // GroupNorm γ, β: 2·16 = 32; Q, K, V, O: 4·(16·16 + 16) = 1,088.
        #expect(mixer.parameterCount == 32 + 1_088 && attention.parameterCount == mixer.parameterCount)
        #expect(mixer.namedParameters.map(\.name) == attention.namedParameters.map(\.name))
        #expect(zip(mixer.parameters, attention.parameters).allSatisfy { $0.shape == $1.shape && $0.data == $1.data })

        var rng = RandomGenerator(seed: 2)
        let withAttention = TimeUNet(channels: 8, mixing: .attention, heads: 2, using: &rng)
        let withMixer = TimeUNet(channels: 8, mixing: .positionwise, heads: 2, using: &rng)
        let plain = TimeUNet(channels: 8, mixing: .none, using: &rng)
        #expect(withMixer.parameterCount == withAttention.parameterCount)
        // Three blocks at width 2c = 16, each 1,120 parameters, on top of the plain UNet.
        #expect(withMixer.parameterCount - plain.parameterCount == 3 * 1_120)
        #expect(withMixer.namedParameters.map(\.name).contains("positionwise_middle.attention.query.weight"))
        #expect(!withMixer.hasAttention)
    }

    @Test("a fresh block is the identity (W_O starts at 0)")
    func identityAtStart() {
        var rng = RandomGenerator(seed: 3)
        let mixer = PositionwiseMixer(channels: 16, heads: 4, using: &rng)
        let h = Tensor.randn([2, 16, 4, 4], using: &rng)
        #expect(withoutGradients { mixer(h) }.data == h.data)
    }

    @Test("changing one token changes that token's output only; attention's outputs all move")
    func noReachAcrossPositions() {
        var rng = RandomGenerator(seed: 4)
        let mixer = PositionwiseMixer(channels: 16, heads: 2, using: &rng)
        randomize(mixer, seed: 5)
        let tokens = Tensor.randn([2, 6, 16], using: &rng)                 // [B, L, C]
        var changed = tokens.data
        for e in 0..<16 { changed[(1 * 6 + 2) * 16 + e] += 0.5 }          // example 1, token 2
        let before = withoutGradients { mixer.mix(tokens) }
        let after = withoutGradients { mixer.mix(Tensor(changed, shape: tokens.shape)) }
        for n in 0..<2 {
            for l in 0..<6 {
                let row = (n * 6 + l) * 16
                let moved = (0..<16).map { (e: Int) -> Float in Swift.abs(before.data[row + e] - after.data[row + e]) }.max()!
                if n == 1 && l == 2 { #expect(moved > 1e-3) } else { #expect(moved == 0, "example \(n), token \(l) moved by \(moved)") }
            }
        }
        // The same change reaches every position through attention (same weights, softmax over all tokens).
        let attention = mixer.attention
        let a = withoutGradients { attention(tokens) }, b = withoutGradients { attention(Tensor(changed, shape: tokens.shape)) }
        let row = 1 * 6 * 16                                                 // example 1, token 0
        let other = (0..<16).map { (e: Int) -> Float in Swift.abs(a.data[row + e] - b.data[row + e]) }.max()!
        #expect(other > 1e-4, "attention: token 0 moved by \(other)")
    }

    @Test("mix matches its formula written out in loops: g = σ(q·k/√d) per head, out = W_O·(g·v) + b_O")
    func matchesFormula() {
        var rng = RandomGenerator(seed: 6)
        let (c, heads, l) = (8, 2, 3)
        let d = c / heads
        let mixer = PositionwiseMixer(channels: c, heads: heads, using: &rng)
        randomize(mixer, seed: 7)
        let x = Tensor.randn([1, l, c], using: &rng)
        /// y = W·x + b for a Linear (weight [out, in]) on token `t`, in Double.
        func apply(_ layer: Linear, _ v: [Double]) -> [Double] {
            (0..<c).map { (o: Int) -> Double in
                var y = Double(layer.bias!.data[o])
                for i in 0..<c { y += Double(layer.weight.data[o * c + i]) * v[i] }
                return y
            }
        }
        let m = mixer.attention
        var expected: [Double] = []
        for t in 0..<l {
            let token = (0..<c).map { (e: Int) -> Double in Double(x.data[t * c + e]) }
            let q = apply(m.query, token), k = apply(m.key, token), v = apply(m.value, token)
            var gated = [Double](repeating: 0, count: c)
            for j in 0..<heads {
                var dot = 0.0
                for e in 0..<d { dot += q[j * d + e] * k[j * d + e] }
                let score = dot / Double(d).squareRoot()
                let g = 1 / (1 + Foundation.exp(-score))
                for e in 0..<d { gated[j * d + e] = g * v[j * d + e] }
            }
            expected += apply(m.output, gated)
        }
        let actual = withoutGradients { mixer.mix(x) }
        #expect(actual.shape == [1, l, c])
        let worst = zip(actual.data, expected).map { (a: Float, e: Double) -> Double in Swift.abs(Double(a) - e) }.max()!
        #expect(worst < 1e-5, "largest difference \(worst)")
    }

    @Test("gradient check of the block (input), and all four maps receive a gradient")
    func gradients() {
        var rng = RandomGenerator(seed: 8)
        let mixer = PositionwiseMixer(channels: 16, heads: 2, using: &rng)
        randomize(mixer, seed: 9)
        let x = Tensor.randn([2, 16, 4, 4], using: &rng)
        let r = gradientCheck([x], seed: 10) { mixer($0[0]) }
        #expect(r.passes(tolerance: 1e-2), "\(r)")
        for p in mixer.parameters { p.grad = nil }
        (mixer(x) * Tensor.randn(x.shape, using: &rng)).sum().backward()
        for (name, p) in mixer.namedParameters {
            let g = p.grad?.data ?? []
            #expect(g.contains { $0 != 0 }, "\(name) got no gradient")
        }
    }
}
