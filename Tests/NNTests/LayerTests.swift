// Layers, optimizers and EMA: values worked by hand, gradients checked, and a model that learns.

import Testing
@testable import NN
import Tensor
import Foundation

@Suite("Layers")
struct LayerTests {
    @Test("parameter counts: Linear(34, 128) has 34·128 + 128 = 4,480; Conv2d(3, 32, 3×3) 3·32·9 + 32 = 896")
    func counts() {
        var rng = RandomGenerator(seed: 1)
        #expect(Linear(34, 128, using: &rng).parameterCount == 4_480)
        #expect(Conv2d(3, 32, kernelSize: 3, padding: 1, using: &rng).parameterCount == 896)
        #expect(GroupNorm(groups: 8, channels: 32).parameterCount == 64)
        // attention with dim 64: 4 linears of 64·64 + 64
        #expect(MultiHeadAttention(dim: 64, heads: 4, using: &rng).parameterCount == 4 * (64 * 64 + 64))
        let mlp = Sequential([Linear(2, 8, using: &rng), SiLU(), Linear(8, 1, using: &rng)])
        #expect(mlp.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
    }

    @Test("Linear computes x·Wᵀ + b")
    func linearValue() {
        var rng = RandomGenerator(seed: 1)
        let layer = Linear(2, 2, using: &rng)
        layer.weight.data = [1, 2, 3, 4]  // rows: output features
        layer.bias!.data = [10, 20]
        // x = [1, 1]: [1+2+10, 3+4+20] = [13, 27]
        #expect(layer(Tensor([1, 1], shape: [1, 2])).data == [13, 27])
    }

    @Test("PyTorch's default init bound: |w| ≤ 1/√fanIn, and the draws fill the interval")
    func initBound() {
        var rng = RandomGenerator(seed: 2)
        let w = Linear(100, 50, using: &rng).weight.data  // bound 0.1
        #expect(w.allSatisfy { Swift.abs($0) <= 0.1 })
        #expect(w.max()! > 0.09 && w.min()! < -0.09)
    }

    @Test("GroupNorm: each group of each example has mean 0 and variance 1")
    func groupNormMoments() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.randn([2, 6, 3, 3], using: &rng) * 5 + 2
        let y = GroupNorm(groups: 3, channels: 6)(x)
        for n in 0..<2 {
            for g in 0..<3 {
                let values = (0..<18).map { y.data[n * 54 + g * 18 + $0] }
                let mean = values.reduce(0, +) / 18
                let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 18
                #expect(Swift.abs(mean) < 1e-5)
                #expect(Swift.abs(variance - 1) < 1e-3)  // ε = 1e-5 against variance 25
            }
        }
    }

    @Test("layers pass the gradient check", arguments: ["groupnorm", "layernorm", "attention", "cross-attention", "conv", "mlp"])
    func layerGradients(_ which: String) {
        var rng = RandomGenerator(seed: 4)
        let result: GradCheckResult
        switch which {
        case "groupnorm":
            let gn = GroupNorm(groups: 2, channels: 4)
            gn.weight.data = [1.5, 0.5, -1, 2]
            result = gradientCheck([Tensor.randn([2, 4, 3, 3], using: &rng)]) { gn($0[0]) }
        case "layernorm":
            let ln = LayerNorm(5)
            result = gradientCheck([Tensor.randn([3, 5], using: &rng)]) { ln($0[0]) }
        case "attention":
            let mha = MultiHeadAttention(dim: 8, heads: 2, using: &rng)
            result = gradientCheck([Tensor.randn([2, 5, 8], using: &rng)]) { mha($0[0]) }
        case "cross-attention":
            let mha = MultiHeadAttention(dim: 8, heads: 2, contextDim: 6, using: &rng)
            result = gradientCheck([Tensor.randn([2, 5, 8], using: &rng), Tensor.randn([2, 3, 6], using: &rng)]) {
                mha($0[0], context: $0[1])
            }
        case "conv":
            let conv = Conv2d(3, 4, kernelSize: 3, padding: 1, using: &rng)
            result = gradientCheck([Tensor.randn([2, 3, 4, 4], using: &rng)]) { conv($0[0]) }
        default:
            let mlp = Sequential([Linear(3, 16, using: &rng), GELU(), Linear(16, 2, using: &rng)])
            result = gradientCheck([Tensor.randn([4, 3], using: &rng)]) { mlp($0[0]) }
        }
        #expect(result.passes(), "\(which): \(result)")
    }

    @Test("attention: one key means every query returns that key's value")
    func attentionSingleKey() {
        // softmax over a single score is 1, so the output is V whatever Q and K are.
        var rng = RandomGenerator(seed: 5)
        let q = Tensor.randn([1, 4, 3], using: &rng), k = Tensor.randn([1, 1, 3], using: &rng)
        let v = Tensor([7, 8, 9], shape: [1, 1, 3])
        let (out, weights) = scaledDotProductAttention(q, k, v)
        #expect(weights.data == [1, 1, 1, 1])
        #expect(out.data == [7, 8, 9, 7, 8, 9, 7, 8, 9, 7, 8, 9])
    }

    @Test("attention weights: two keys, scores worked by hand")
    func attentionTwoKeys() {
        // q = [1, 0], keys [2, 0] and [0, 0]; scores/√2 = [√2, 0];
        // softmax = [e^√2, 1]/(e^√2 + 1) = [0.804429, 0.195571]
        let (_, w) = scaledDotProductAttention(Tensor([1, 0], shape: [1, 1, 2]),
                                               Tensor([2, 0, 0, 0], shape: [1, 2, 2]),
                                               Tensor([1, 0, 0, 1], shape: [1, 2, 2]))
        #expect(Swift.abs(w.data[0] - 0.804429) < 1e-5 && Swift.abs(w.data[1] - 0.195571) < 1e-5)
    }
}

@Suite("Optimizers")
struct OptimizerTests {
    @Test("Adam's first step moves each weight by lr·sign(g) (m̂/√v̂ = g/|g| at t = 1)")
    func adamFirstStep() {
        let p = Tensor([1, 1, 1], shape: [3], requiresGrad: true)
        (p * Tensor([2, -3, 0.5], shape: [3])).sum().backward()
        let adam = Adam([p], learningRate: 0.1)
        adam.step()
        // 1 − 0.1·(+1) = 0.9;  1 − 0.1·(−1) = 1.1
        #expect(zip(p.data, [0.9, 1.1, 0.9] as [Float]).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
    }

    @Test("Adam, 8 weights at a time and the rest one by one, follows Algorithm 1 to the bit over three steps")
    func adamMatchesAlgorithmOne() {
        var rng = RandomGenerator(seed: 5)
        let count = 21  // two vectors of 8 and a tail of 5
        let p = Tensor.randn([count], using: &rng, requiresGrad: true)
        let adam = Adam([p], learningRate: 0.01, weightDecay: 0.1)
        var theta = p.data, m = [Float](repeating: 0, count: count), v = m
        let (b1, b2, eps, lr, wd): (Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 0.01, 0.1)
        for t in 1...3 {
            let g = Tensor.randn([count], using: &rng)
            p.grad = g
            adam.step()
            let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t))), c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
            for j in 0..<count {
                m[j] = b1 * m[j] + (1 - b1) * g.data[j]
                v[j] = b2 * v[j] + (1 - b2) * g.data[j] * g.data[j]
                theta[j] -= lr * ((m[j] / c1) / ((v[j] / c2).squareRoot() + eps) + wd * theta[j])
            }
            #expect(p.data == theta, "step \(t): \(p.data) vs \(theta)")
        }
    }

    @Test("AdamW decays weights: with zero gradient θ ← θ − lr·λ·θ")
    func adamWeightDecay() {
        let p = Tensor([2], shape: [1], requiresGrad: true)
        p.grad = Tensor([0], shape: [1])
        Adam([p], learningRate: 0.1, weightDecay: 0.5).step()
        #expect(Swift.abs(p.data[0] - (2 - 0.1 * 0.5 * 2)) < 1e-6)  // 1.9
    }

    @Test("SGD with momentum, two steps by hand")
    func sgdMomentum() {
        let p = Tensor([0], shape: [1], requiresGrad: true)
        let sgd = SGD([p], learningRate: 0.5, momentum: 0.9)
        p.grad = Tensor([1], shape: [1]); sgd.step()  // v = 1, θ = −0.5
        sgd.step()                                     // v = 0.9 + 1 = 1.9, θ = −0.5 − 0.95 = −1.45
        #expect(Swift.abs(p.data[0] + 1.45) < 1e-6)
    }

    @Test("clipping scales the global norm down to the limit: [3, 4] (norm 5) clipped to 1 is [0.6, 0.8]")
    func clipping() {
        let a = Tensor([0], shape: [1], requiresGrad: true), b = Tensor([0], shape: [1], requiresGrad: true)
        a.grad = Tensor([3], shape: [1]); b.grad = Tensor([4], shape: [1])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(norm == 5)
        #expect(Swift.abs(a.grad!.data[0] - 0.6) < 1e-5 && Swift.abs(b.grad!.data[0] - 0.8) < 1e-5)
        #expect(clipGradientNorm([a, b], maxNorm: 10) < 1.0001)  // under the limit: unchanged
    }

    @Test("EMA warm-up: decay (1+n)/(10+n) capped at 0.999, and the average by hand")
    func ema() {
        let p = Tensor([0], shape: [1], requiresGrad: true)
        let ema = EMA([p], maxDecay: 0.999)
        #expect(ema.decay(at: 0) == 0.1)          // 1/10
        #expect(ema.decay(at: 90) == 0.91)        // 91/100
        #expect(ema.decay(at: 100_000) == 0.999)  // capped
        p.data = [10]; ema.update()               // 0.1·0 + 0.9·10 = 9
        p.data = [20]; ema.update()               // d = 2/11: (2/11)·9 + (9/11)·20 = 198/11 = 18
        #expect(Swift.abs(ema.shadow[0][0] - 18) < 1e-4)
        let inside = ema.withAveragedWeights { p.data[0] }
        #expect(Swift.abs(inside - 18) < 1e-4 && p.data[0] == 20)
    }

    @Test("a small MLP learns y = sin(3x) in 300 Adam steps")
    func learns() {
        var rng = RandomGenerator(seed: 11)
        let x = Tensor((0..<64).map { Float($0) / 32 - 1 }, shape: [64, 1])
        let y = (x * 3).sin()
        let mlp = Sequential([Linear(1, 32, using: &rng), SiLU(), Linear(32, 32, using: &rng), SiLU(), Linear(32, 1, using: &rng)])
        let adam = Adam(mlp.parameters, learningRate: 1e-2)
        let initial = withoutGradients { mlp(x).mse(y).item }
        for _ in 0..<300 {
            mlp.zeroGrad()
            let loss = mlp(x).mse(y)
            loss.backward()
            adam.step()
        }
        let final = withoutGradients { mlp(x).mse(y).item }
        // The best constant predictor has loss Var(y) ≈ 0.5; an untrained net is near that or worse.
        #expect(initial > 0.2)
        #expect(final < 0.01, "loss \(initial) -> \(final)")
    }
}
