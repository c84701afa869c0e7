// Checks for chapter 7's exercises: the encoder's side lengths, the reparameterised draw, the KL
// term and the latent scale factor (the library's versions are in Sources/Diffusion/Autoencoder.swift).
// Every expected value is worked out here from its formula, number by number in Double — not taken
// from the library — and the gradients of 7.2 and 7.3 are compared with their hand-derived forms:
// ```
// z  = μ + σ·ε,  σ = exp(½·log σ²)        ∂z/∂μ = 1,    ∂z/∂log σ² = ½·σ·ε
// KL = ½ Σ (μ² + σ² − 1 − log σ²)         ∂KL/∂μ = μ,   ∂KL/∂log σ² = ½(σ² − 1)
// ```
// (Kingma & Welling 2014, §2.4 and appendix B.)

import Foundation
import Tensor

public struct Chapter07API {
    /// input side, kernel, stride, padding -> output side
    public var encoderOutputSide: (Int, Int, Int, Int) throws -> Int
    /// mean, log-variance, noise -> z
    public var reparameterize: (Tensor, Tensor, Tensor) throws -> Tensor
    /// mean, log-variance -> KL per example, [B]
    public var gaussianKL: (Tensor, Tensor) throws -> Tensor
    /// latents -> 1/std
    public var latentScaleFactor: (Tensor) throws -> Float

    public init(encoderOutputSide: @escaping (Int, Int, Int, Int) throws -> Int,
                reparameterize: @escaping (Tensor, Tensor, Tensor) throws -> Tensor,
                gaussianKL: @escaping (Tensor, Tensor) throws -> Tensor,
                latentScaleFactor: @escaping (Tensor) throws -> Float) {
        self.encoderOutputSide = encoderOutputSide; self.reparameterize = reparameterize
        self.gaussianKL = gaussianKL; self.latentScaleFactor = latentScaleFactor
    }
}

/// Calls `f` on fresh leaves holding `mean` and `logVariance`, back-propagates `weights` (∂L/∂output,
/// shaped like the output) and returns the two leaves' gradients. Throws a `WrongAnswer` if the
/// output does not depend on the leaves or no gradient reaches one of them (`.data` used somewhere).
private func gradients(of exercise: String, mean: Tensor, logVariance: Tensor, weights: Tensor, hint: String,
                       _ f: (Tensor, Tensor) throws -> Tensor) throws -> (mean: Tensor, logVariance: Tensor) {
    let m = Tensor(mean.data, shape: mean.shape, requiresGrad: true)
    let lv = Tensor(logVariance.data, shape: logVariance.shape, requiresGrad: true)
    let out = try f(m, lv)
    guard out.shape == weights.shape else {
        throw WrongAnswer("\(exercise)'s output shape", expected: "\(weights.shape)", actual: "\(out.shape)", hint: hint)
    }
    guard out.requiresGrad else {
        throw WrongAnswer("the gradient of \(exercise)", expected: "a result that depends on mean and logVariance",
                          actual: "a result with no gradient", hint: "use Tensor ops (+, *, .exp(), .sum(axes:)), not .data")
    }
    out.backward(seed: weights)
    guard let gm = m.grad, let glv = lv.grad else {
        throw WrongAnswer("the gradient of \(exercise)", expected: "gradients reaching both mean and logVariance",
                          actual: "none reaching " + (m.grad == nil ? "mean" : "logVariance"),
                          hint: "use Tensor ops (+, *, .exp(), .sum(axes:)), not .data")
    }
    return (gm, glv)
}

public enum Chapter07Checks {
    static let file = "exercises/Chapter07/LatentExercises.swift"

    public static let all: [Check<Chapter07API>] = [
        Check("encoderOutputSide", file: file, hint: "⌊(n + 2p − k)/s⌋ + 1: padding on both sides, integer division, then + 1") { api in
            // (n, k, s, p, expected), each expected worked by hand from ⌊(n + 2p − k)/s⌋ + 1.
            let cases = [
                (64, 4, 4, 0, 16),  // the pixel unshuffle by 4, sized like a 4×4 kernel of stride 4: 60/4 + 1
                (16, 3, 1, 1, 16),  // the encoder's "same" 3×3 convolution: 15/1 + 1
                (16, 3, 2, 1, 8),   // the encoder's downsampling 3×3 convolution of stride 2: ⌊15/2⌋ + 1 = 7 + 1
                (8, 3, 1, 1, 8),    // the 3×3 convolution at the latent's side: 7/1 + 1
                (17, 4, 2, 1, 8),   // ⌊15/2⌋ + 1 = 7 + 1
                (9, 5, 3, 2, 3),    // ⌊8/3⌋ + 1 = 2 + 1
                (10, 3, 4, 0, 2),   // ⌊7/4⌋ + 1 = 1 + 1
                (7, 3, 2, 0, 3),    // 4/2 + 1
                (5, 5, 1, 0, 1),    // a kernel as large as the input: one output
                (32, 1, 1, 0, 32),  // a 1×1 convolution changes no side
            ]
            for (n, k, s, p, expected) in cases {
                let actual = try api.encoderOutputSide(n, k, s, p)
                guard actual == expected else {
                    throw WrongAnswer("encoderOutputSide(input: \(n), kernel: \(k), stride: \(s), padding: \(p))",
                                      expected: "\(expected)   (⌊(\(n) + \(2 * p) − \(k))/\(s)⌋ + 1)", actual: "\(actual)",
                                      hint: "round the division down (not to nearest, not up), then add 1; the padding counts twice")
                }
            }
        },
        Check("reparameterize", kind: .build, file: file, hint: "z = mean + (logVariance * 0.5).exp() * noise: σ = exp(½·log σ²), not exp(log σ²)") { api in
            var rng = RandomGenerator(seed: 702)
            let shape = [2, 4, 3, 3]
            let mean = Tensor.randn(shape, using: &rng), noise = Tensor.randn(shape, using: &rng)
            let logVariance = Tensor.randn(shape, using: &rng) * 1.5 - 1   // log σ² around −1, σ from about 0.1 to 2
            // Worked out here, number by number in Double: σ = exp(½·log σ²), z = μ + σ·ε.
            let sigma = logVariance.data.map { Foundation.exp(0.5 * Double($0)) }
            let z = (0..<mean.count).map { Float(Double(mean.data[$0]) + sigma[$0] * Double(noise.data[$0])) }
            let actual = try api.reparameterize(Tensor(mean.data, shape: shape), Tensor(logVariance.data, shape: shape),
                                                Tensor(noise.data, shape: shape))
            try expectClose(actual, Tensor(z, shape: shape), "reparameterize(mean, logVariance, noise), each [2, 4, 3, 3]",
                            hint: "σ is exp(½·log σ²), the square root of exp(log σ²); z = μ + σ·ε, number by number")

            // The gradients for L = Σ w·z with random weights w: ∂L/∂μ = w, ∂L/∂log σ² = w·½·σ·ε.
            let w = Tensor.randn(shape, using: &rng)
            let hint = "∂z/∂μ = 1 and ∂z/∂log σ² = ½·σ·ε: build z from mean and logVariance with Tensor ops"
            let g = try gradients(of: "reparameterize", mean: mean, logVariance: logVariance, weights: w, hint: hint) { m, lv in
                try api.reparameterize(m, lv, Tensor(noise.data, shape: shape))
            }
            try expectClose(g.mean, w, "∂L/∂mean of L = Σ w·z (should be w: ∂z/∂μ = 1)", hint: hint)
            let dLogVariance = (0..<w.count).map { Float(Double(w.data[$0]) * 0.5 * sigma[$0] * Double(noise.data[$0])) }
            try expectClose(g.logVariance, Tensor(dLogVariance, shape: shape), "∂L/∂logVariance of L = Σ w·z (should be w·½·σ·ε)", hint: hint)
        },
        Check("gaussianKL", kind: .build, file: file, hint: "½ Σ (μ² + σ² − 1 − log σ²), summed over every axis but the batch's: shape [B]") { api in
            var rng = RandomGenerator(seed: 703)
            /// ½ Σ (μ² + σ² − 1 − log σ²) per example, worked out here in Double.
            func expected(_ mean: Tensor, _ logVariance: Tensor) -> Tensor {
                let b = mean.shape[0], perExample = mean.count / b
                let kl = (0..<b).map { i in
                    Float((i * perExample..<(i + 1) * perExample).reduce(0.0) { sum, j in
                        let mu = Double(mean.data[j]), lv = Double(logVariance.data[j])
                        return sum + 0.5 * (mu * mu + Foundation.exp(lv) - 1 - lv)
                    })
                }
                return Tensor(kl, shape: [b])
            }
            func grade(_ mean: Tensor, _ logVariance: Tensor, _ what: String) throws {
                let actual = try api.gaussianKL(Tensor(mean.data, shape: mean.shape), Tensor(logVariance.data, shape: logVariance.shape))
                guard actual.shape == [mean.shape[0]] else {
                    throw WrongAnswer("gaussianKL's shape for \(what)", expected: "[\(mean.shape[0])]: one KL per example",
                                      actual: "\(actual.shape)", hint: "sum over every axis but the first: .sum(axes: Array(1..<mean.rank))")
                }
                try expectClose(actual, expected(mean, logVariance), "gaussianKL for \(what)",
                                hint: "a sum, not a mean, of ½(μ² + σ² − 1 − log σ²) over each example's numbers; σ² = exp(log σ²)")
            }
            // The chapter's latents: a batch of 3 of [4, 8, 8].
            let mean = Tensor.randn([3, 4, 8, 8], using: &rng), logVariance = Tensor.randn([3, 4, 8, 8], using: &rng) - 1
            try grade(mean, logVariance, "mean and logVariance [3, 4, 8, 8]")
            // Any rank: vectors [4, 6], as in a VAE on flat inputs.
            try grade(Tensor.randn([4, 6], using: &rng), Tensor.randn([4, 6], using: &rng), "mean and logVariance [4, 6]")
            // The prior itself (μ = 0, log σ² = 0) is at distance 0 from the prior.
            try grade(Tensor.zeros([2, 4, 2, 2]), Tensor.zeros([2, 4, 2, 2]), "μ = 0 and log σ² = 0 (the prior itself: KL = 0)")
            // Worked by hand: μ = (1, 0), σ² = (1, 2): ½(1 + 1 − 1 − 0) + ½(0 + 2 − 1 − ln 2) = ½ + ½(1 − 0.6931472) = 0.6534264.
            let golden = try api.gaussianKL(Tensor([1, 0], shape: [1, 2, 1, 1]), Tensor([0, Float(Foundation.log(2.0))], shape: [1, 2, 1, 1]))
            try expectClose(golden, Tensor([0.6534264], shape: [1]), "gaussianKL for μ = (1, 0), σ² = (1, 2), worked by hand",
                            hint: "½(μ² + σ² − 1 − log σ²) for each number, then their sum: ½ + ½(1 − ln 2)")

            // The gradients for L = Σ_b w_b·KL_b with random weights w: ∂L/∂μ = w_b·μ, ∂L/∂log σ² = w_b·½(σ² − 1).
            let w = Tensor.randn([3], using: &rng)
            let hint = "∂KL/∂μ = μ and ∂KL/∂log σ² = ½(σ² − 1): build the KL from mean and logVariance with Tensor ops"
            let g = try gradients(of: "gaussianKL", mean: mean, logVariance: logVariance, weights: w, hint: hint) { m, lv in
                try api.gaussianKL(m, lv)
            }
            let perExample = mean.count / 3
            let dMean = (0..<mean.count).map { w.data[$0 / perExample] * mean.data[$0] }
            let dLogVariance = (0..<mean.count).map {
                Float(Double(w.data[$0 / perExample]) * 0.5 * (Foundation.exp(Double(logVariance.data[$0])) - 1))
            }
            try expectClose(g.mean, Tensor(dMean, shape: mean.shape), "∂L/∂mean of L = Σ_b w_b·KL_b (should be w_b·μ)", hint: hint)
            try expectClose(g.logVariance, Tensor(dLogVariance, shape: mean.shape),
                            "∂L/∂logVariance of L = Σ_b w_b·KL_b (should be w_b·½(σ² − 1))", hint: hint)
        },
        Check("latentScaleFactor", kind: .build, file: file, hint: "1 / √((1/N) Σ (z − z̄)²): subtract the mean, divide by N (not N − 1), return 1/std") { api in
            // Worked by hand: 1, 3, 5, 7 have mean 4 and squared deviations 9, 1, 1, 9, so variance 20/4 = 5
            // and s = 1/√5 = 0.4472136. (N − 1 would give 1/√(20/3) = 0.3872983; no mean, 1/√21 = 0.2182179;
            // the std itself, √5 = 2.236068.)
            let small = try api.latentScaleFactor(Tensor([1, 3, 5, 7], shape: [1, 4, 1, 1]))
            try expectRelativelyClose([small], [0.4472136], relative: 1e-5, "latentScaleFactor of the four numbers 1, 3, 5, 7 (worked by hand: 1/√5)",
                                      hint: "mean 4, squared deviations 9 + 1 + 1 + 9 = 20, divided by N = 4: variance 5; return 1/√5, not √5")
            // Latents spread like Stable Diffusion's (std ≈ 1/0.18215 ≈ 5.49) around a mean of 0.7:
            // s worked out here in Double.
            var rng = RandomGenerator(seed: 704)
            let latents = Tensor.randn([64, 4, 8, 8], using: &rng) * 5.49 + 0.7
            let n = Double(latents.count)
            let mean = latents.data.reduce(0.0) { $0 + Double($1) } / n
            let variance = latents.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
            let expected = Float(1 / variance.squareRoot())
            let actual = try api.latentScaleFactor(Tensor(latents.data, shape: latents.shape))
            try expectRelativelyClose([actual], [expected], relative: 1e-4, "latentScaleFactor of 16,384 latents [64, 4, 8, 8] (std ≈ 5.49, mean ≈ 0.7)",
                                      hint: "every number of the tensor counts alike; subtract their mean before squaring; 1/std ≈ 0.18 here")
        },
    ]
}
