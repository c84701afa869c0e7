// Pins DDPM's and DDIM's formulas with values worked by hand, and checks both samplers end to
// end on a distribution whose ideal noise predictor is known in closed form.

import Foundation
import Testing
@testable import Diffusion
import Tensor

/// A two-step schedule with round numbers: α_0 = 0.5625 (√ = 0.75), α_1 = 0.64 (√ = 0.8), so
/// β_0 = 0.4375, β_1 = 0.36, ᾱ_0 = 0.5625, ᾱ_1 = 0.36 (√ = 0.6), 1 − ᾱ_1 = 0.64 (√ = 0.8).
private let tiny = NoiseSchedule(kind: .linear, beta: [0.4375, 0.36])

private func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tolerance }
}

@Suite("DDPM and DDIM formulas")
struct DDPMTests {
    @Test("Algorithm 1's loss: mean of (ε − ε_θ(x_t, t))², worked by hand")
    func loss() {
        // x0 = [1, 2], ε = [0.5, −1], t = 1: x_t = 0.6·x0 + 0.8·ε = [1.0, 0.4].
        // A "model" that returns x_t itself: residual ε − x_t = [−0.5, −1.4], mean square (0.25 + 1.96)/2 = 1.105.
        let loss = DDPM.loss({ x, _ in x }, x0: Tensor([1, 2], shape: [1, 2]), t: [1],
                             noise: Tensor([0.5, -1], shape: [1, 2]), schedule: tiny)
        #expect(Swift.abs(loss.item - 1.105) < 1e-5)
    }

    @Test("the loss is differentiable in the model's parameters")
    func lossGradient() {
        // ε_θ = w·x_t with w = 0: loss = mean(ε²); d/dw mean((ε − w·x_t)²) at w = 0 = −2·mean(ε·x_t).
        // With x_t = [1.0, 0.4], ε = [0.5, −1]: −2·(0.5 − 0.4)/2 = −0.1.
        let w = Tensor([0], shape: [1], requiresGrad: true)
        let loss = DDPM.loss({ x, _ in x * w }, x0: Tensor([1, 2], shape: [1, 2]), t: [1],
                             noise: Tensor([0.5, -1], shape: [1, 2]), schedule: tiny)
        loss.backward()
        #expect(Swift.abs(w.grad!.item + 0.1) < 1e-5)
    }

    @Test("predicted x̂₀ = (x_t − √(1 − ᾱ)·ε)/√ᾱ, by hand")
    func predictedX0() {
        // t = 1, x_t = 2, ε = 0.5: (2 − 0.8·0.5)/0.6 = 1.6/0.6 = 2.666667
        let x0 = DDPM.predictedX0(Tensor([2], shape: [1, 1]), t: [1], epsilon: Tensor([0.5], shape: [1, 1]), schedule: tiny)
        #expect(close(x0.data, [2.666667]))
    }

    @Test("posterior mean, eq. (11): μ = 1/√α_t·(x_t − β_t/√(1 − ᾱ_t)·ε), one t per example, by hand")
    func posteriorMean() {
        // Example 0, t = 1, x_t = 2, ε = 0.5: 1/0.8·(2 − 0.36/0.8·0.5) = 1.25·(2 − 0.225) = 2.21875.
        // Example 1, t = 0, x_t = 1, ε = 1: β_0/√(1 − ᾱ_0) = 0.4375/√0.4375 = √0.4375 = 0.6614378,
        //   1/√α_0 = 1/0.75, so μ = (1 − 0.6614378)/0.75 = 0.4514163.
        let mean = DDPM.posteriorMean(Tensor([2, 1], shape: [2, 1]), t: [1, 0],
                                      epsilon: Tensor([0.5, 1], shape: [2, 1]), schedule: tiny)
        #expect(close(mean.data, [2.21875, 0.4514163]))
    }

    @Test("ancestral step: variance σ_t² = β_t, x_{t−1} = μ + σ_t·z; no noise at the last step")
    func ancestralVariance() {
        #expect(DDPM.sigmaSquared(t: 1, schedule: tiny) == tiny.beta[1])   // 0.36
        #expect(DDPM.sigmaSquared(t: 0, schedule: tiny) == 0)
        // t = 1, x_t = 2, ε = 0.5, z = 1: μ + √0.36·1 = 2.21875 + 0.6 = 2.81875; z = −2: 2.21875 − 1.2 = 1.01875.
        let x = Tensor([2, 2], shape: [2, 1]), eps = Tensor([0.5, 0.5], shape: [2, 1])
        let step = DDPM.reverseStep(x, t: 1, epsilon: eps, z: Tensor([1, -2], shape: [2, 1]), schedule: tiny)
        #expect(close(step.data, [2.81875, 1.01875]))
        // t = 0: the noise is ignored, the result is the mean 0.4514163 (worked above).
        let last = DDPM.reverseStep(Tensor([1], shape: [1, 1]), t: 0, epsilon: Tensor([1], shape: [1, 1]),
                                    z: Tensor([5], shape: [1, 1]), schedule: tiny)
        #expect(close(last.data, [0.4514163]))
    }

    @Test("one DDIM step, eq. (12) with η = 0, by hand")
    func ddimStep() {
        // ᾱ_t = 0.36, ᾱ_t′ = 0.64, x_t = 2, ε = 0.5: x̂₀ = 2.666667; x_t′ = 0.8·2.666667 + 0.6·0.5 = 2.433333.
        let x = DDIM.step(Tensor([2], shape: [1, 1]), epsilon: Tensor([0.5], shape: [1, 1]), alphaBar: 0.36, alphaBarPrevious: 0.64)
        #expect(close(x.data, [2.433333]))
        // To ᾱ = 1 (the clean data): x̂₀ itself.
        let x0 = DDIM.step(Tensor([2], shape: [1, 1]), epsilon: Tensor([0.5], shape: [1, 1]), alphaBar: 0.36, alphaBarPrevious: 1)
        #expect(close(x0.data, [2.666667]))
    }

    @Test("DDIM step with η, eq. (12) and (16), by hand; η = 1 on consecutive steps gives DDPM's β̃_t")
    func ddimStepEta() {
        // ᾱ_t = 0.36, ᾱ_t′ = 0.64, η = 1: σ = √(0.36/0.64)·√(1 − 0.36/0.64) = 0.75·√0.4375 = 0.4960784.
        #expect(Swift.abs(DDIM.sigma(eta: 1, alphaBar: 0.36, alphaBarPrevious: 0.64) - 0.4960784) < 1e-6)
        #expect(Swift.abs(DDIM.sigma(eta: 0.5, alphaBar: 0.36, alphaBarPrevious: 0.64) - 0.2480392) < 1e-6)
        // x_t = 2, ε = 0.5, z = 1: x̂₀ = 2.666667; 0.8·x̂₀ + √(1 − 0.64 − σ²)·0.5 + σ
        //   = 2.133333 + 0.3375·0.5 + 0.4960784 = 2.7981618.
        let x = DDIM.step(Tensor([2], shape: [1, 1]), epsilon: Tensor([0.5], shape: [1, 1]), alphaBar: 0.36,
                          alphaBarPrevious: 0.64, eta: 1, z: Tensor([1], shape: [1, 1]))
        #expect(close(x.data, [2.7981618]))
        // η = 0 is the deterministic step.
        let d = DDIM.step(Tensor([2], shape: [1, 1]), epsilon: Tensor([0.5], shape: [1, 1]), alphaBar: 0.36,
                          alphaBarPrevious: 0.64, eta: 0, z: Tensor([1], shape: [1, 1]))
        #expect(close(d.data, [2.433333]))
        // DDPM eq. (7): β̃_t (to 0.1 %: in Float, 1 − ᾱ_t/ᾱ_{t−1} and β_t differ by rounding at small t) = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t, from the schedule's β (not its ᾱ ratio).
        let schedule = NoiseSchedule.linear()
        for t in [1, 10, 500, 999] {
            let s = DDIM.sigma(eta: 1, alphaBar: schedule.alphaBar[t], alphaBarPrevious: schedule.alphaBar[t - 1])
            let betaTilde = (1 - schedule.alphaBar[t - 1]) / (1 - schedule.alphaBar[t]) * schedule.beta[t]
            #expect(Swift.abs(s * s - betaTilde) < 1e-3 * betaTilde, "t = \(t): σ² \(s * s) vs β̃ \(betaTilde)")
        }
        // Landing on x₀ (ᾱ_t′ = 1) adds no noise.
        #expect(DDIM.sigma(eta: 1, alphaBar: 0.36, alphaBarPrevious: 1) == 0)
    }

    @Test("DDIM timesteps: trailing, 999 down to 19 for 50 of 1000; all of them for 1000")
    func timesteps() {
        let t50 = DDIM.timesteps(count: 50, steps: 1000)
        #expect(t50.count == 50 && t50.first == 999 && t50[1] == 979 && t50.last == 19)
        #expect(DDIM.timesteps(count: 1000, steps: 1000) == Array((0..<1000).reversed()))
        #expect(DDIM.timesteps(count: 1, steps: 1000) == [999])
    }

    @Test("√ᾱ_t and √(1 − ᾱ_t) per example, shaped to broadcast: [B, 1, …]")
    func signalAndNoiseScales() {
        // t = [1, 0]: √ᾱ = [0.6, 0.75], √(1 − ᾱ) = [0.8, √0.4375 ≈ 0.661438].
        let (signal, noise) = tiny.signalAndNoiseScales(t: [1, 0], like: Tensor.zeros([2, 3, 4, 4]))
        #expect(signal.shape == [2, 1, 1, 1] && noise.shape == [2, 1, 1, 1])
        #expect(close(signal.data, [0.6, 0.75]) && close(noise.data, [0.8, 0.661438]))
    }

    @Test("the sampler's DDPM rule is Algorithm 2 step for step: the same z, the same x, bit for bit")
    func ddpmSamplerIsAlgorithm2() {
        let schedule = NoiseSchedule.linear(steps: 30)
        let model: NoisePredictor = { x, t in x * 0.3 + Float(t[0]) / 100 }
        var r1 = RandomGenerator(seed: 11), r2 = RandomGenerator(seed: 11)
        var seen: [Int] = []
        let sampled = Sampler.ddpm(steps: 30).sample(model, from: Tensor.randn([5, 2], using: &r1), schedule: schedule, using: &r1) { t, _ in
            seen.append(t)
        }
        // Algorithm 2 written out: x_T, then for t = T−1 … 0 a step with fresh z (none at t = 0).
        var x = Tensor.randn([5, 2], using: &r2)
        for t in stride(from: 29, through: 0, by: -1) {
            let z = t > 0 ? Tensor.randn([5, 2], using: &r2) : Tensor.zeros([5, 2])
            x = DDPM.reverseStep(x, t: t, epsilon: model(x, [Int](repeating: t, count: 5)), z: z, schedule: schedule)
        }
        #expect(sampled.data == x.data)
        #expect(seen == [30] + Array((0..<30).reversed()))
    }

    @Test("the sampler's DDIM rule is eq. (12) on the trailing timesteps, landing on x₀ with ᾱ = 1")
    func ddimSamplerIsEquation12() {
        let schedule = NoiseSchedule.linear(steps: 40)
        let model: NoisePredictor = { x, t in x * 0.3 + Float(t[0]) / 100 }
        for eta: Float in [0, 0.5] {
            var r1 = RandomGenerator(seed: 12), r2 = RandomGenerator(seed: 12)
            let sampled = Sampler(eta: eta, steps: 4).sample(model, from: Tensor.randn([3, 2], using: &r1), schedule: schedule, using: &r1)
            var x = Tensor.randn([3, 2], using: &r2)
            let taus = [39, 29, 19, 9]                                        // DDIM.timesteps(count: 4, steps: 40)
            for (i, t) in taus.enumerated() {
                let previous = i + 1 < taus.count ? schedule.alphaBar[taus[i + 1]] : 1
                let z = eta > 0 && i + 1 < taus.count ? Tensor.randn([3, 2], using: &r2) : nil
                x = DDIM.step(x, epsilon: model(x, [t, t, t]), alphaBar: schedule.alphaBar[t], alphaBarPrevious: previous, eta: eta, z: z)
            }
            #expect(sampled.data == x.data, "η = \(eta)")
        }
    }

    @Test("DDIM with η = 0 is deterministic: the same x_T gives bit-identical samples; DDPM's noise makes its runs differ")
    func ddimDeterministic() {
        let schedule = NoiseSchedule.linear()
        let model: NoisePredictor = { x, t in x * 0.5 + Float(t[0]) / 2000 }
        var rng = RandomGenerator(seed: 3)
        let xT = Tensor.randn([16, 2], using: &rng)
        let ddim = Sampler(eta: 0, steps: 20)
        var r0 = RandomGenerator(seed: 9), r1 = RandomGenerator(seed: 10)
        let a = ddim.sample(model, from: xT, schedule: schedule, using: &r0)
        let b = ddim.sample(model, from: xT, schedule: schedule, using: &r1)   // η = 0 draws nothing: the generator does not matter
        #expect(a.data == b.data)
        var r2 = RandomGenerator(seed: 5), r3 = RandomGenerator(seed: 5)
        let c = ddim.sample(model, shape: [16, 2], schedule: schedule, using: &r2)
        let d = ddim.sample(model, shape: [16, 2], schedule: schedule, using: &r3)
        #expect(c.data == d.data)
        // Ancestral sampling from the same seed repeats too, but two different seeds differ.
        let short = NoiseSchedule.linear(steps: 50)
        var r4 = RandomGenerator(seed: 5), r5 = RandomGenerator(seed: 6), r6 = RandomGenerator(seed: 5)
        let e = Sampler.ddpm(steps: 50).sample(model, shape: [16, 2], schedule: short, using: &r4)
        let f = Sampler.ddpm(steps: 50).sample(model, shape: [16, 2], schedule: short, using: &r5)
        let g = Sampler.ddpm(steps: 50).sample(model, shape: [16, 2], schedule: short, using: &r6)
        #expect(e.data != f.data && e.data == g.data)
    }

    @Test("both samplers turn N(0, 1) into the data N(2, 0.5²) when given the ideal noise predictor")
    func idealPredictor() {
        // For data x₀ ~ N(c, s²), x_t = √ᾱ·x₀ + √(1 − ᾱ)·ε is N(√ᾱ·c, ᾱ·s² + 1 − ᾱ), and the best
        // prediction of ε from x_t is E[ε | x_t] = √(1 − ᾱ)·(x_t − √ᾱ·c)/(ᾱ·s² + 1 − ᾱ).
        // Sampling with it must give back mean c and sd s (up to sampling error 0.5/√4000 ≈ 0.008
        // for the mean; discretisation error of 1000 or 50 deterministic steps is smaller still). With η = 1
        // and only 50 steps the sd comes out ≈ 0.45: each big jump replaces x₀ by its mean E[x₀ | x_t] and
        // the fresh noise does not give back all of the variance lost; on all 1000 steps it is exact.
        let (c, s): (Float, Float) = (2, 0.5)
        for schedule in [NoiseSchedule.linear(), NoiseSchedule.cosine()] {
            let ideal: NoisePredictor = { x, t in
                let ab: Float = schedule.alphaBar[t[0]]
                let shift: Float = ab.squareRoot() * c
                let gain: Float = (1 - ab).squareRoot() / (ab * s * s + 1 - ab)
                return (x - shift) * gain
            }
            var rng = RandomGenerator(seed: 1)
            for (name, sampler) in [("DDPM", Sampler.ddpm(steps: 1000)), ("DDIM-50", Sampler(eta: 0, steps: 50)),
                                    ("DDIM-1000 η=1", Sampler(eta: 1, steps: 1000))] {
                let samples = sampler.sample(ideal, from: Tensor.randn([4000, 1], using: &rng), schedule: schedule, using: &rng)
                let mean = samples.data.reduce(0, +) / 4000
                let sd = (samples.data.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4000).squareRoot()
                #expect(Swift.abs(mean - c) < 0.04, "\(schedule.kind) \(name): mean \(mean)")
                #expect(Swift.abs(sd - s) < 0.04, "\(schedule.kind) \(name): sd \(sd)")
            }
        }
    }
}

@Suite("v-prediction (Salimans & Ho 2022), worked by hand on the two-step schedule")
struct VelocityTests {
    @Test("v = √ᾱ·ε − √(1 − ᾱ)·x₀ and back to ε̂, at t = 1 (√ᾱ = 0.6, √(1 − ᾱ) = 0.8)")
    func velocityByHand() {
        let x0 = Tensor([1, -2], shape: [1, 2]), noise = Tensor([0.5, 1], shape: [1, 2])
        // v = 0.6·[0.5, 1] − 0.8·[1, −2] = [0.3 − 0.8, 0.6 + 1.6] = [−0.5, 2.2]
        let v = DDPM.velocity(x0: x0, noise: noise, t: [1], schedule: tiny)
        #expect(close(v.data, [-0.5, 2.2]))
        // x_t = 0.6·x₀ + 0.8·ε = [0.6 + 0.4, −1.2 + 0.8] = [1, −0.4]; ε̂ = 0.8·x_t + 0.6·v = [0.8 − 0.3, −0.32 + 1.32] = [0.5, 1]
        let xt = tiny.addNoise(x0, t: [1], noise: noise)
        #expect(close(xt.data, [1, -0.4]))
        #expect(close(DDPM.epsilon(fromVelocity: v, xt: xt, t: [1], schedule: tiny).data, noise.data))
        // Per example: at t = 0 (√ᾱ = 0.75, √(1 − ᾱ) = √0.4375 ≈ 0.661438), v = 0.75·0.5 − 0.661438·1.
        let both = DDPM.velocity(x0: Tensor([1, 1], shape: [2, 1]), noise: Tensor([0.5, 0.5], shape: [2, 1]), t: [0, 1], schedule: tiny)
        #expect(close(both.data, [0.375 - 0.661438, 0.3 - 0.8]))
    }

    @Test("the v-loss of a guess x̂₀ is (1 + SNR)·‖x₀ − x̂₀‖², the ε-loss SNR·‖x₀ − x̂₀‖² (SNR at t = 1: 0.36/0.64)")
    func lossWeights() {
        let x0 = Tensor([1, -2, 0.5, 0], shape: [1, 4]), noise = Tensor([0.3, -0.7, 1.1, 0.2], shape: [1, 4])
        let guess = Tensor([0.5, -1, 0.5, 1], shape: [1, 4])                      // x̂₀, errors [0.5, −1, 0, −1]: mean square 0.5625
        // A model that believes x̂₀ = guess answers with the v and the ε that x_t and that guess imply.
        let vModel: NoisePredictor = { xt, _ in (xt * 0.6 - guess) * (1 / 0.8) }    // v̂ = (√ᾱ·x_t − x̂₀)/√(1 − ᾱ)
        let epsModel: NoisePredictor = { xt, _ in (xt - guess * 0.6) * (1 / 0.8) }  // ε̂ = (x_t − √ᾱ·x̂₀)/√(1 − ᾱ)
        let v = DDPM.velocityLoss(vModel, x0: x0, t: [1], noise: noise, schedule: tiny).item
        let e = DDPM.loss(epsModel, x0: x0, t: [1], noise: noise, schedule: tiny).item
        #expect(Swift.abs(v - 0.5625 / 0.64) < 1e-5, "v-loss \(v)")                 // (1 + 0.5625)·0.5625 = 0.5625/0.64
        #expect(Swift.abs(e - 0.5625 * 0.5625) < 1e-5, "ε-loss \(e)")               // SNR = 0.36/0.64 = 0.5625
    }

    @Test("a text model that predicts v guides in v and hands the sampler ε̂")
    func guidedVelocity() throws {
        var rng = RandomGenerator(seed: 40)
        let schedule = NoiseSchedule.linear()
        let model = TextToImage(tokenizer: shapesTokenizer, channels: 8, textDim: 16, textLayers: 1, heads: 2, prediction: .velocity, schedule: schedule, using: &rng)
        for p in model.parameters { p.data = Tensor.randn(p.shape, using: &rng).data.map { $0 * 0.3 } }
        let x = Tensor.randn([2, 3, 8, 8], using: &rng), t = [30, 800]
        let tokens = [try shapesTokenizer.encode("red circle"), try shapesTokenizer.encode("blue")]
        let vc = withoutGradients { model(x, t, tokens: tokens) }
        let vu = withoutGradients { model(x, t, tokens: [model.emptyPrompt, model.emptyPrompt]) }
        let guided = withoutGradients { model.guided(tokens: tokens, scale: 3)(x, t) }
        // ε̂ from each v̂ by hand, then the guidance combination on the ε̂.
        let hw = 3 * 8 * 8
        for i in 0..<(2 * hw) {
            let a = schedule.alphaBar[t[i / hw]]
            let ec = (1 - a).squareRoot() * x.data[i] + a.squareRoot() * vc.data[i]
            let eu = (1 - a).squareRoot() * x.data[i] + a.squareRoot() * vu.data[i]
            #expect(Swift.abs(guided.data[i] - (eu + 3 * (ec - eu))) < 1e-4)
        }
    }
}
