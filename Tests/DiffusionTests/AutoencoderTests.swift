// Chapter 7: the autoencoder's pieces worked by hand — the pixel (un)shuffle's layout, the KL of a
// diagonal Gaussian and the reparameterised draw with their gradients, the scale factor — and the
// latent-diffusion tools: image-to-image at strength 0, negative prompts that reduce to plain guidance,
// slerp's endpoints and norm.

import Foundation
import NN
import Testing
@testable import Diffusion
import Tensor

@Suite("Autoencoder and latent diffusion (chapter 7)")
struct AutoencoderTests {
    @Test("pixel unshuffle puts pixel (4y + i, 4x + j) of channel c in channel 16c + 4i + j; shuffle inverts it")
    func pixelShuffleLayout() throws {
        // Each value encodes its own position: v = 10000c + 100·row + column, so the layout can be read back.
        let (c, h, w) = (2, 8, 12)
        let x = Tensor((0..<(c * h * w)).map { k in Float((k / (h * w)) * 10000 + (k / w % h) * 100 + k % w) }, shape: [1, c, h, w])
        let y = x.pixelUnshuffled(4)
        #expect(y.shape == [1, 32, 2, 3])
        for ch in 0..<c { for i in 0..<4 { for j in 0..<4 { for yy in 0..<2 { for xx in 0..<3 {
            let got = y.data[((ch * 16 + i * 4 + j) * 2 + yy) * 3 + xx]
            #expect(got == Float(ch * 10000 + (4 * yy + i) * 100 + 4 * xx + j))
        } } } } }
        #expect(y.pixelShuffled(4).data == x.data)
        #expect(y.pixelShuffled(4).shape == x.shape)
    }

    @Test("KL of N(μ, σ²) from N(0, 1) worked by hand, summed per example; its gradient against central differences")
    func klDivergence() throws {
        // Example 0: μ = 0, σ² = 1 everywhere -> 0. Example 1: μ = 1, log σ² = 0 -> ½ per number;
        // one number with μ = 0, log σ² = log 4 instead: ½(0 + 4 − 1 − log 4) = 0.80685…
        var mean = [Float](repeating: 0, count: 8), logVar = [Float](repeating: 0, count: 8)
        for k in 4..<8 { mean[k] = 1 }
        mean[7] = 0; logVar[7] = Float(log(4.0))
        let q = DiagonalGaussian(mean: Tensor(mean, shape: [2, 1, 2, 2]), logVariance: Tensor(logVar, shape: [2, 1, 2, 2]))
        let kl = q.klDivergence
        #expect(kl.shape == [2])
        #expect(abs(kl.data[0]) < 1e-7)
        #expect(abs(Double(kl.data[1]) - (3 * 0.5 + 0.5 * (4 - 1 - log(4.0)))) < 1e-5)
        var rng = RandomGenerator(seed: 5)
        let m = Tensor.randn([2, 4, 2, 2], using: &rng), l = Tensor.randn([2, 4, 2, 2], using: &rng) * 0.5
        let check = gradientCheck([m, l]) { DiagonalGaussian(mean: $0[0], logVariance: $0[1]).klDivergence }
        #expect(check.passes(), "relative error \(check.relativeError)")
    }

    @Test("the reparameterised draw μ + exp(½ log σ²)·ε, and its gradient in μ and log σ²")
    func reparameterisation() throws {
        let q = DiagonalGaussian(mean: Tensor([1, -2], shape: [1, 2, 1, 1]), logVariance: Tensor([Float(log(9.0)), 0], shape: [1, 2, 1, 1]))
        let z = q.sample(noise: Tensor([0.5, -1], shape: [1, 2, 1, 1]))
        #expect(abs(z.data[0] - 2.5) < 1e-5 && abs(z.data[1] - (-3)) < 1e-6)   // 1 + 3·0.5, −2 + 1·(−1)
        var rng = RandomGenerator(seed: 6)
        let noise = Tensor.randn([2, 4, 2, 2], using: &rng)
        let m = Tensor.randn([2, 4, 2, 2], using: &rng), l = Tensor.randn([2, 4, 2, 2], using: &rng) * 0.5
        let check = gradientCheck([m, l]) { DiagonalGaussian(mean: $0[0], logVariance: $0[1]).sample(noise: noise) }
        #expect(check.passes(), "relative error \(check.relativeError)")
    }

    @Test("the scale factor is 1/std over every number (population std, mean removed)")
    func scaleFactor() throws {
        // [1, −1, 3, −3] + 10: mean 10, variance (1 + 1 + 9 + 9)/4 = 5, so s = 1/√5.
        let s = Autoencoder.scaleFactor(Tensor([11, 9, 13, 7], shape: [1, 1, 2, 2]))
        #expect(abs(Double(s) - 1 / 5.0.squareRoot()) < 1e-6)
    }

    @Test("the autoencoder maps [B, 3, 64, 64] to latents [B, 4, 8, 8] and back; 40 steps cut its loss by more than half")
    func shapesAndTraining() throws {
        var rng = RandomGenerator(seed: 7)
        let ae = Autoencoder(widths: [8, 16], using: &rng)
        // A fixed batch of smooth images: a bright disc on black, moved around.
        let images = Tensor((0..<(4 * 3 * 64 * 64)).map { k -> Float in
            let b = k / (3 * 4096), y = k / 64 % 64, x = k % 64
            let (cx, cy) = (16 + 10 * b, 20 + 6 * b)
            return (x - cx) * (x - cx) + (y - cy) * (y - cy) < 100 ? 1 : -1
        }, shape: [4, 3, 64, 64])
        let q = withoutGradients { ae.encode(images) }
        #expect(q.mean.shape == [4, 4, 8, 8] && q.logVariance.shape == [4, 4, 8, 8])
        #expect(withoutGradients { ae.decode(q.mean) }.shape == [4, 3, 64, 64])
        let losses = try ae.train(options: TrainingOptions(steps: 40, learningRate: 0.003, emaDecay: 0), beta: 0.01, seed: 1,
                                  batch: { _ in images })
        #expect(losses.count == 40)
        let first = losses.prefix(3).reduce(0, +) / 3, last = losses.suffix(3).reduce(0, +) / 3
        #expect(last < 0.5 * first, "loss \(first) -> \(last)")
    }

    @Test("image-to-image at strength 0 returns the latents unchanged; at strength 1 it starts from noise alone")
    func imageToImageEnds() throws {
        let schedule = NoiseSchedule.linear()
        var rng = RandomGenerator(seed: 8)
        let z0 = Tensor.randn([2, 4, 8, 8], using: &rng)
        var calls = 0
        let predictor: NoisePredictor = { x, _ in calls += 1; return x * 0 }
        let same = imageToImage(predictor, latents: z0, strength: 0, sampler: Sampler(eta: 0, steps: 10), schedule: schedule, using: &rng)
        #expect(same.data == z0.data && calls == 0)
        // At strength 1, t₀ = T − 1 where √ᾱ ≈ 0.006: the first call sees almost none of z₀; all 10 steps run.
        var seen: [Int] = []
        let recorder: NoisePredictor = { x, t in seen.append(t[0]); return x * 0 }
        _ = imageToImage(recorder, latents: z0, strength: 1, sampler: Sampler(eta: 0, steps: 10), schedule: schedule, using: &rng)
        #expect(seen.first == 999 && seen.count == 10, "\(seen)")
        // Halfway: t₀ = 499, then the sampler's grid from there down.
        seen = []
        _ = imageToImage(recorder, latents: z0, strength: 0.5, sampler: Sampler(eta: 0, steps: 10), schedule: schedule, using: &rng)
        #expect(seen.first == 499 && seen.allSatisfy { $0 <= 499 } && seen.count >= 5, "\(seen)")
    }

    @Test("guidance with empty negative prompts is plain guidance, to the bit")
    func negativePrompt() throws {
        var rng = RandomGenerator(seed: 9)
        let model = TextToImage(tokenizer: shapesTokenizer, channels: 8, textDim: 16, prediction: .velocity, imageChannels: 4, using: &rng)
        randomize(model, seed: 10)
        let x = Tensor.randn([2, 4, 8, 8], using: &rng)
        let tokens = [try shapesTokenizer.encode("red circle"), try shapesTokenizer.encode("blue")]
        let plain = withoutGradients { model.guided(tokens: tokens, scale: 3)(x, [400, 700]) }
        let empty = withoutGradients { model.guided(tokens: tokens, negative: [model.emptyPrompt, model.emptyPrompt], scale: 3)(x, [400, 700]) }
        #expect(plain.data == empty.data)
        let other = withoutGradients { model.guided(tokens: tokens, negative: [try! shapesTokenizer.encode("red"), model.emptyPrompt], scale: 3)(x, [400, 700]) }
        #expect(other.data != plain.data)
    }

    @Test("slerp: the endpoints, and the midpoint of two orthogonal unit vectors is at 45° with norm 1")
    func slerpArc() throws {
        let a = Tensor([1, 0], shape: [2]), b = Tensor([0, 1], shape: [2])
        #expect(slerp(a, b, 0).data == a.data)
        let mid = slerp(a, b, 0.5)
        #expect(abs(mid.data[0] - Float(0.5.squareRoot())) < 1e-6 && abs(mid.data[1] - Float(0.5.squareRoot())) < 1e-6)
        let end = slerp(a, b, 1)
        #expect(abs(end.data[0]) < 1e-6 && abs(end.data[1] - 1) < 1e-6)
    }
}
