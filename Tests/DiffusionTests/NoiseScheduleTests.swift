// Pins the schedule formulas with values worked independently of the code.

import Foundation
import Testing
@testable import Diffusion
import Tensor

@Suite("Noise schedules")
struct NoiseScheduleTests {
    @Test("linear β: 1e-4 at t = 0, 0.02 at t = T−1, evenly spaced")
    func linearBeta() {
        let s = NoiseSchedule.linear()
        #expect(s.steps == 1000)
        #expect(s.beta[0] == 1e-4)
        #expect(Swift.abs(s.beta[999] - 0.02) < 1e-9)
        // step = (0.02 − 1e-4)/999 = 1.99199e-5
        #expect(Swift.abs(s.beta[1] - s.beta[0] - 1.99199e-5) < 1e-9)
    }

    @Test("time index convention: ᾱ before step 0 is 1; ᾱ_0 = 1 − β_0")
    func convention() {
        let s = NoiseSchedule.linear()
        #expect(s.alphaBar(before: 0) == 1)
        #expect(s.alphaBar[0] == 1 - 1e-4)
        #expect(s.alphaBar(before: 5) == s.alphaBar[4])
    }

    @Test("linear ᾱ_T ≈ 4.04e-5")
    func linearEnd() {
        // ln ᾱ_T = Σ ln(1 − β_t) ≈ −Σβ − Σβ²/2 with Σβ = 1000·(1e-4 + 0.02)/2 = 10.05 and
        // Σβ² ≈ 1000·(a² + ab + b²)/3 = 0.13400 (a = 1e-4, b = 0.02), so ln ᾱ_T ≈ −10.117, ᾱ_T ≈ 4.03e-5
        // (the product taken in float64 with NumPy, np.prod(1 − np.linspace(1e-4, 0.02, 1000)), is 4.0358e-5).
        let s = NoiseSchedule.linear()
        #expect(Swift.abs(s.alphaBar[999] - 4.0358e-5) < 0.02e-5)
    }

    @Test("cosine: ᾱ at t = T−2 is f(T−1)/f(0); the last β is clipped at 0.999 so ᾱ_T ≈ 0")
    func cosineValues() {
        // f(τ) = cos²((τ/1000 + 0.008)/1.008 · π/2). f(999): angle = (1.007/1.008)·π/2, cos = sin(π/2 · 1/1008)
        // = 0.0015583, f = 2.4283e-6. f(0) = cos²(0.008/1.008 · π/2) = cos²(0.012467) = 0.99984458.
        // So ᾱ (code index 998, paper τ = 999) = 2.4287e-6.
        let s = NoiseSchedule.cosine()
        #expect(Swift.abs(s.alphaBar[998] / 2.4287e-6 - 1) < 0.01)
        #expect(s.beta[999] == 0.999)          // 1 − f(1000)/f(999) = 1 − 0 = 1, clipped
        #expect(s.alphaBar[999] < 1e-8)       // 2.43e-6 · 0.001
        // Middle: paper τ = 500, code t = 499: f(500)/f(0) with angle (0.5 + 0.008)/1.008 · π/2,
        // evaluated in float64 with Python's math module: 0.4938436.
        #expect(Swift.abs(s.alphaBar[499] - 0.4938436) < 1e-4)
    }

    @Test("log SNR at the middle of the cosine schedule: ln(0.4938436/0.5061564) = −0.024627")
    func logSNR() {
        #expect(Swift.abs(NoiseSchedule.cosine().logSNR(499) + 0.024627) < 5e-4)
    }

    @Test("closed form x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, by hand for ᾱ = 0.64")
    func addNoiseByHand() {
        // Pick β so that ᾱ_1 = 0.8 · 0.8 = 0.64: x₀ = 2, ε = 1 -> 0.8·2 + 0.6·1 = 2.2
        let s = NoiseSchedule(kind: .linear, beta: [0.2, 0.2])
        let x = s.addNoise(Tensor([2], shape: [1, 1]), t: [1], noise: Tensor([1], shape: [1, 1]))
        #expect(Swift.abs(x.item - 2.2) < 1e-6)
    }

    @Test("stepping t times with eq. (2) matches the closed form eq. (4) in mean and variance")
    func stepVersusClosedForm() {
        let s = NoiseSchedule.linear()
        var rng = RandomGenerator(seed: 9)
        let n = 20_000, t = 100
        let x0 = Tensor(repeating: 1, shape: [n])
        var x = x0
        for k in 0...t { x = s.step(x, t: k, noise: Tensor.randn([n], using: &rng)) }
        let mean = x.mean().item, variance = x.variance().item
        // q(x_t | x₀ = 1) = N(√ᾱ_t, 1 − ᾱ_t); standard errors ≈ 0.007 (mean) and 0.01 (variance).
        let ab = s.alphaBar[t]
        #expect(Swift.abs(mean - ab.squareRoot()) < 0.03)
        #expect(Swift.abs(variance - (1 - ab)) < 0.04)
    }
}
