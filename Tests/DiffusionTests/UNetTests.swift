// Chapter 3: the UNet's shapes, its parameter count worked by hand, its gradients against central
// differences, that the skips matter, and that the library's trainer learns a tiny problem.

import Foundation
import NN
import Testing
@testable import Diffusion
import Tensor

/// A tiny batch source: one bright 4×4 square per 8×8 image at a random corner, on −1 background.
/// Learnable structure, no Datasets dependency.
private func squares(_ count: Int) -> (inout RandomGenerator) -> Tensor {
    { rng in
        var data = [Float](repeating: -1, count: count * 3 * 8 * 8)
        for b in 0..<count {
            let (y0, x0) = (rng.int(in: 0..<2) * 4, rng.int(in: 0..<2) * 4)
            for c in 0..<3 { for y in y0..<(y0 + 4) { for x in x0..<(x0 + 4) { data[((b * 3 + c) * 8 + y) * 8 + x] = 1 } } }
        }
        return Tensor(data, shape: [count, 3, 8, 8])
    }
}

@Suite("UNet (chapter 3)")
struct UNetTests {
    @Test("output shape equals input shape at 16×16 and 32×32, with and without skips")
    func shapes() {
        var rng = RandomGenerator(seed: 1)
        for skips in [true, false] {
            let net = UNet(channels: 8, useSkips: skips, using: &rng)
            for side in [16, 32] {
                let x = Tensor.randn([2, 3, side, side], using: &rng)
                #expect(withoutGradients { net(x) }.shape == [2, 3, side, side])
            }
        }
    }

    @Test("parameter count for c = 8, worked by hand")
    func parameterCount() {
        // A k×k conv from a to b channels has a·b·k² weights + b biases; GroupNorm(C) has 2C.
        // stem 3→8:            3·8·9 + 8                               =   224
        // down1 8→8:           (8·8·9 + 8) + 16 + (8·8·9 + 8) + 16      = 1,200
        // down2 8→16:          (8·16·9 + 16) + 32 + (16·16·9 + 16) + 32 = 3,552
        // middle 16→16:        2·(16·16·9 + 16) + 2·32                  = 4,704
        // up2 (16 ⊕ 16 = 32)→16: (32·16·9 + 16) + 32 + 2,320 + 32       = 7,008
        // up1 (16 ⊕ 8 = 24)→8:   (24·8·9 + 8) + 16 + 584 + 16           = 2,352
        // head 8→3:            8·3·9 + 3                               =   219
        // total                                                         19,259
        var rng = RandomGenerator(seed: 2)
        let net = UNet(channels: 8, using: &rng)
        #expect(net.parameterCount == 19_259)
        // Without skips the same parameters exist, but up2.conv1's 16·16·9 and up1.conv1's 8·8·9
        // weights read zeros: 19,259 − 2,304 − 576 = 16,379 can learn.
        let plain = UNet(channels: 8, useSkips: false, using: &rng)
        #expect(plain.parameterCount == 19_259)
        #expect(plain.effectiveParameterCount == 16_379)
        #expect(net.summary(size: 16).reduce(0) { $0 + $1.parameters } == 19_259)
        // Names are dotted and unique, as Module.save needs.
        let names = net.namedParameters.map(\.name)
        #expect(Set(names).count == names.count && names.contains("up1.conv1.weight") && names.contains("down2.norm2.bias"))
    }

    @Test("receptive field, worked by hand: 48 input pixels")
    func receptiveField() {
        // r grows by (k − 1)·jump per 3×3 conv and by jump per 2×2 pool (which doubles jump):
        // stem + down1 (3 convs, jump 1): 1 + 6 = 7; pool: 8, jump 2; down2: 8 + 8 = 16; pool: 18, jump 4;
        // middle: 18 + 16 = 34; up to jump 2, up2: 34 + 8 = 42; up to jump 1, up1 + head: 42 + 6 = 48.
        #expect(UNet.receptiveField == 48)
    }

    @Test("gradient check of a tiny UNet, with and without skips", arguments: [true, false])
    func gradients(skips: Bool) {
        var rng = RandomGenerator(seed: 3)
        let net = UNet(channels: 8, useSkips: skips, using: &rng)
        let x = Tensor.randn([2, 3, 8, 8], using: &rng)
        // Gradient with respect to the input: backpropagates through every layer of the network.
        let result = gradientCheck([x], h: 1e-2, seed: 4) { inputs in net(inputs[0]) }
        #expect(result.passes(tolerance: 1e-2), "\(result)")
    }

    @Test("gradient of a weight: backward matches a central difference of the loss")
    func weightGradient() {
        var rng = RandomGenerator(seed: 6)
        let net = UNet(channels: 8, using: &rng)
        let x = Tensor.randn([2, 3, 8, 8], using: &rng), target = Tensor.randn([2, 3, 8, 8], using: &rng)
        for parameter in [net.stem.weight, net.up1.conv1.weight, net.middle.norm1.weight] {
            net.zeroGrad()
            net(x).mse(target).backward()
            let analytic = parameter.grad!.data
            let direction = Tensor.randn(parameter.shape, using: &rng).data
            let h: Float = 2e-3
            func loss(_ sign: Float) -> Double {
                let original = parameter.data
                parameter.data = zip(original, direction).map { $0 + sign * h * $1 }
                defer { parameter.data = original }
                return Double(withoutGradients { net(x).mse(target) }.item)
            }
            let numerical = (loss(1) - loss(-1)) / Double(2 * h)
            let exact = zip(analytic, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(Swift.abs(exact - numerical) / max(Swift.abs(exact), Swift.abs(numerical), 1e-4) < 2e-2,
                    "shape \(parameter.shape): analytic \(exact), numerical \(numerical)")
        }
    }

    @Test("the skips change the output: zeroing them gives a different ε̂")
    func skipsMatter() {
        var rng = RandomGenerator(seed: 7)
        let net = UNet(channels: 8, using: &rng)
        let x = Tensor.randn([1, 3, 16, 16], using: &rng)
        let with = withoutGradients { net(x) }, without = withoutGradients { net(x, zeroSkips: true) }
        let difference = zip(with.data, without.data).map { Swift.abs($0 - $1) }.max()!
        #expect(difference > 1e-3)
        // A no-skip UNet ignores zeroSkips: it has none to zero.
        let plain = UNet(channels: 8, useSkips: false, using: &rng)
        #expect(withoutGradients { plain(x) }.data == withoutGradients { plain(x, zeroSkips: true) }.data)
    }

    @Test("learning rate: linear warm-up, then cosine decay")
    func learningRate() {
        let o = TrainingOptions(steps: 100, learningRate: 1, warmupFraction: 0.05)
        #expect(Swift.abs(o.learningRate(at: 1) - 0.2) < 1e-6)      // 1/5 of the 5 warm-up steps
        #expect(Swift.abs(o.learningRate(at: 5) - 1) < 1e-6)
        #expect(Swift.abs(o.learningRate(at: 51) - 0.5) < 1e-6)     // ½(1 + cos(π/2)) = 0.5
        #expect(o.learningRate(at: 100) < 0.01)
    }

    @Test("the trainer lowers the denoising loss of a tiny UNet in a few dozen steps")
    func trainerLearns() throws {
        var rng = RandomGenerator(seed: 8)
        let net = UNet(channels: 8, using: &rng)
        let schedule = NoiseSchedule.linear()
        func evaluate() -> Double {
            DDPMTrainer.lossByTimeRange(net.predictor, schedule: schedule, ranges: [0..<1000], batches: 2, seed: 9,
                                        batch: squares(16)).first!
        }
        let before = evaluate()
        var calls = 0
        let losses = try DDPMTrainer.train(net, predictor: net.predictor, schedule: schedule,
                                           options: TrainingOptions(steps: 40, learningRate: 3e-3, emaDecay: 0),
                                           seed: 10, batch: squares(16)) { step, _ in calls = step }
        let after = evaluate()
        #expect(losses.count == 40 && calls == 40)
        #expect(after < 0.8 * before, "loss before \(before), after \(after)")
    }

    @Test("a non-finite loss stops training with TrainingDiverged at that step")
    func diverges() {
        var rng = RandomGenerator(seed: 11)
        let net = UNet(channels: 8, using: &rng)
        let broken: NoisePredictor = { x, _ in net(x) * Float.nan }
        #expect(throws: TrainingDiverged.self) {
            try DDPMTrainer.train(net, predictor: broken, schedule: .linear(), options: TrainingOptions(steps: 5),
                                  seed: 12, batch: squares(2))
        }
    }
}
