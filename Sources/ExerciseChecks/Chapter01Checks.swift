// Checks for chapter 1's exercises: each compares the learner's function with the library's
// NoiseSchedule (Sources/Diffusion/NoiseSchedule.swift) on inputs the learner did not choose.

import Diffusion
import Tensor

public struct Chapter01API {
    public var linearBetas: (Int, Float, Float) throws -> [Float]
    public var alphaBars: ([Float]) throws -> [Float]
    public var noisyBatch: (Tensor, [Float], Tensor) throws -> Tensor
    public var cosineBetas: (Int, Double, Double) throws -> [Float]

    public init(linearBetas: @escaping (Int, Float, Float) throws -> [Float], alphaBars: @escaping ([Float]) throws -> [Float],
                noisyBatch: @escaping (Tensor, [Float], Tensor) throws -> Tensor,
                cosineBetas: @escaping (Int, Double, Double) throws -> [Float]) {
        self.linearBetas = linearBetas; self.alphaBars = alphaBars; self.noisyBatch = noisyBatch
        self.cosineBetas = cosineBetas
    }
}

public enum Chapter01Checks {
    static let file = "exercises/Chapter01/NoiseExercises.swift"

    public static let all: [Check<Chapter01API>] = [
        Check("linearBetas", file: file, hint: "β_t = β_start + (β_end − β_start)·t/(T − 1) for t = 0…T−1") { api in
            for (steps, start, end) in [(1000, Float(1e-4), Float(0.02)), (10, 0.1, 0.5)] {
                let expected = NoiseSchedule.linear(steps: steps, betaStart: start, betaEnd: end).beta
                try expectClose(try api.linearBetas(steps, start, end), expected, tolerance: 1e-6,
                                "linearBetas(steps: \(steps), betaStart: \(start), betaEnd: \(end))",
                                hint: "β_t = β_start + (β_end − β_start)·t/(T − 1); the last value must be β_end")
            }
        },
        Check("alphaBars", file: file, hint: "ᾱ_t = (1 − β_0)(1 − β_1)⋯(1 − β_t)") { api in
            for schedule in [NoiseSchedule.linear(), NoiseSchedule.cosine(steps: 50)] {
                // Relative: the linear schedule's ᾱ falls to 4e-5, and 46 of its values are below 1e-4.
                try expectRelativelyClose(try api.alphaBars(schedule.beta), schedule.alphaBar, relative: 1e-3,
                                          "alphaBars of the \(schedule.kind) schedule (T = \(schedule.steps))",
                                          hint: "ᾱ_t includes α_t itself: ᾱ_0 = 1 − β_0, not 1; keep multiplying even when ᾱ is tiny")
            }
        },
        Check("noisyBatch", kind: .build, file: file, hint: "x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, one ᾱ per example") { api in
            var rng = RandomGenerator(seed: 21)
            let x0 = Tensor.randn([3, 2, 4, 4], using: &rng), noise = Tensor.randn([3, 2, 4, 4], using: &rng)
            let schedule = NoiseSchedule.cosine()
            let t = [0, 500, 999]
            let expected = schedule.addNoise(x0, t: t, noise: noise)
            try expectClose(try api.noisyBatch(x0, t.map { schedule.alphaBar[$0] }, noise), expected,
                            "noisyBatch for three examples at t = 0, 500, 999",
                            hint: "each example has its own ᾱ: reshape the B values to [B, 1, 1, 1] and broadcast")
        },
        Check("cosineBetas", kind: .build, file: file, hint: "β_t = min(1 − f(t + 1)/f(t), maxBeta), f(τ) = cos²((τ/T + s)/(1 + s)·π/2)") { api in
            for (steps, s, maxBeta) in [(1000, 0.008, 0.999), (50, 0.008, 0.999), (200, 0.1, 0.5)] {
                let expected = NoiseSchedule.cosine(steps: steps, offset: s, maxBeta: maxBeta).beta
                let actual = try api.cosineBetas(steps, s, maxBeta)
                // Relative: the first β of T = 1000 is 4e-5.
                try expectRelativelyClose(actual, expected, relative: 1e-4,
                                          "cosineBetas(steps: \(steps), offset: \(s), maxBeta: \(maxBeta))",
                                          hint: "τ = t + 1: β_0 = 1 − f(1)/f(0); clip every β at maxBeta (the last one is 1 before the clip)")
            }
        },
    ]
}
