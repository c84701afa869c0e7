// Checks for chapter 2's exercises: each compares the learner's function with the library's
// DDPM and DDIM (Sources/Diffusion/DDPM.swift, DDIM.swift) on inputs the learner did not choose.

import Diffusion
import NN
import Tensor

public struct Chapter02API {
    public var trainingLoss: ((Tensor, [Int]) -> Tensor, Tensor, [Int], Tensor, [Float]) throws -> Tensor
    public var posteriorMean: (Tensor, Tensor, Float, Float) throws -> Tensor
    public var ddimStep: (Tensor, Tensor, Float, Float) throws -> Tensor
    /// predict, x0, parameters, optimizer, ema, ᾱ, clipNorm, rng -> loss
    public var trainingStep: ((Tensor, [Int]) -> Tensor, Tensor, [Tensor], Adam, EMA?, [Float], Float, inout RandomGenerator) throws -> Float
    /// predict, x_T, β, ᾱ, observe, rng -> x₀
    public var sampleDDPM: ((Tensor, [Int]) -> Tensor, Tensor, [Float], [Float], (Int, Tensor) -> Void, inout RandomGenerator) throws -> Tensor
    public var ddimTimesteps: (Int, Int) throws -> [Int]
    public var ddimSigma: (Float, Float, Float) throws -> Float

    public init(trainingLoss: @escaping ((Tensor, [Int]) -> Tensor, Tensor, [Int], Tensor, [Float]) throws -> Tensor,
                posteriorMean: @escaping (Tensor, Tensor, Float, Float) throws -> Tensor,
                ddimStep: @escaping (Tensor, Tensor, Float, Float) throws -> Tensor,
                trainingStep: @escaping ((Tensor, [Int]) -> Tensor, Tensor, [Tensor], Adam, EMA?, [Float], Float, inout RandomGenerator) throws -> Float,
                sampleDDPM: @escaping ((Tensor, [Int]) -> Tensor, Tensor, [Float], [Float], (Int, Tensor) -> Void, inout RandomGenerator) throws -> Tensor,
                ddimTimesteps: @escaping (Int, Int) throws -> [Int],
                ddimSigma: @escaping (Float, Float, Float) throws -> Float) {
        self.trainingLoss = trainingLoss; self.posteriorMean = posteriorMean; self.ddimStep = ddimStep
        self.trainingStep = trainingStep; self.sampleDDPM = sampleDDPM; self.ddimTimesteps = ddimTimesteps; self.ddimSigma = ddimSigma
    }
}

public enum Chapter02Checks {
    static let file = "exercises/Chapter02/DDPMExercises.swift"

    public static let all: [Check<Chapter02API>] = [
        Check("trainingLoss", file: file, hint: "x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε per example, then mean((ε − model(x_t, t))²)") { api in
            var rng = RandomGenerator(seed: 202)
            let schedule = NoiseSchedule.cosine()
            let x0 = Tensor.randn([4, 2], using: &rng), noise = Tensor.randn([4, 2], using: &rng)
            let t = [0, 250, 600, 999]
            // A tiny "model" with one weight per coordinate and t in it, so a wrong t or x_t shows.
            let w = Tensor([0.3, -0.7], shape: [2], requiresGrad: true)
            let model: (Tensor, [Int]) -> Tensor = { x, t in
                x * w + Tensor(t.map { Float($0) / 1000 }, shape: [t.count, 1])
            }
            let expected = DDPM.loss(model, x0: x0, t: t, noise: noise, schedule: schedule)
            let actual = try api.trainingLoss(model, x0, t, noise, schedule.alphaBar)
            let hint = "x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε with each example's own ᾱ; the loss is the mean over all elements"
            try expectClose(actual.reshaped([1]), expected.reshaped([1]), "trainingLoss for 4 examples at t = \(t)", hint: hint)
            // The same loss on images [B, C, H, W], and it must be differentiable in the weight.
            let images = Tensor.randn([2, 2, 3, 3], using: &rng), imageNoise = Tensor.randn([2, 2, 3, 3], using: &rng)
            let v = Tensor([0.5], shape: [1], requiresGrad: true)
            let imageModel: (Tensor, [Int]) -> Tensor = { x, _ in x * v }
            let lossImages = try api.trainingLoss(imageModel, images, [10, 900], imageNoise, schedule.alphaBar)
            try expectClose(lossImages.reshaped([1]),
                            DDPM.loss(imageModel, x0: images, t: [10, 900], noise: imageNoise, schedule: schedule).reshaped([1]),
                            "trainingLoss on images [2, 2, 3, 3]", hint: "reshape √ᾱ to [B, 1, 1, 1] so it broadcasts over C, H, W")
            lossImages.backward()
            let reference = Tensor([0.5], shape: [1], requiresGrad: true)
            DDPM.loss({ x, _ in x * reference }, x0: images, t: [10, 900], noise: imageNoise, schedule: schedule).backward()
            guard let grad = v.grad else {
                throw WrongAnswer("the gradient of trainingLoss with respect to the model's weight", expected: "a gradient",
                                  actual: "none: the loss is not connected to the model's output", hint: "build the loss from tensor ops")
            }
            try expectClose(grad, reference.grad!, "d loss / d weight", hint: "build the loss from tensor ops on the model's output")
        },
        Check("posteriorMean", file: file, hint: "μ = 1/√α_t·(x_t − β_t/√(1 − ᾱ_t)·ε), α_t = 1 − β_t") { api in
            var rng = RandomGenerator(seed: 203)
            for schedule in [NoiseSchedule.linear(), NoiseSchedule.cosine()] {
                for t in [0, 1, 400, 999] {
                    let xt = Tensor.randn([3, 2], using: &rng), eps = Tensor.randn([3, 2], using: &rng)
                    let expected = DDPM.posteriorMean(xt, t: [t, t, t], epsilon: eps, schedule: schedule)
                    try expectClose(try api.posteriorMean(xt, eps, schedule.beta[t], schedule.alphaBar[t]), expected,
                                    "posteriorMean, \(schedule.kind) schedule, t = \(t)",
                                    hint: "divide by √α_t = √(1 − β_t), not by √ᾱ_t; ε is scaled by β_t/√(1 − ᾱ_t)")
                }
            }
        },
        Check("ddimStep", kind: .build, file: file, hint: "x̂₀ = (x_t − √(1 − ᾱ_t)·ε)/√ᾱ_t; x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev)·ε") { api in
            var rng = RandomGenerator(seed: 204)
            let schedule = NoiseSchedule.linear()
            for (t, previous) in [(999, 979), (500, 480), (19, -1)] {
                let xt = Tensor.randn([3, 2], using: &rng), eps = Tensor.randn([3, 2], using: &rng)
                let abPrev: Float = previous >= 0 ? schedule.alphaBar[previous] : 1
                let expected = DDIM.step(xt, epsilon: eps, alphaBar: schedule.alphaBar[t], alphaBarPrevious: abPrev)
                try expectClose(try api.ddimStep(xt, eps, schedule.alphaBar[t], abPrev), expected,
                                "ddimStep from t = \(t) to \(previous >= 0 ? "t = \(previous)" : "x₀ (ᾱ = 1)")",
                                hint: "re-noise x̂₀ with the *predicted* ε, not fresh noise; ᾱ_prev = 1 gives x̂₀ itself")
            }
        },
        Check("trainingStep", kind: .build, file: file, hint: "t's then ε from rng; loss; zero the grads; backward; clip; Adam step; EMA update") { api in
            // Two copies of one small network, one trained by the library's step, one by yours, from the
            // same numbers: after three steps (so a forgotten zeroGrad shows) both must hold the same weights.
            let schedule = NoiseSchedule.linear(steps: 100)
            func network() -> (NoiseMLP, Adam, EMA) {
                var rng = RandomGenerator(seed: 205)
                let model = NoiseMLP(width: 16, depth: 2, steps: 100, using: &rng)
                return (model, Adam(model.parameters, learningRate: 0.01), EMA(model.parameters, maxDecay: 0.9))
            }
            let (reference, referenceAdam, referenceEMA) = network()
            let (yours, yourAdam, yourEMA) = network()
            var data = RandomGenerator(seed: 206), referenceRNG = RandomGenerator(seed: 207), yourRNG = RandomGenerator(seed: 207)
            let options = TrainingOptions(steps: 3, learningRate: 0.01, clipNorm: 0.5, emaDecay: 0.9)
            for step in 1...3 {
                let x0 = Tensor.randn([8, 2], using: &data) * 2   // large enough that clipping at 0.5 matters
                let expected = DDPMTrainer.step(reference.predictor, x0: x0, parameters: reference.parameters, optimizer: referenceAdam,
                                                ema: referenceEMA, schedule: schedule, options: options, using: &referenceRNG)
                let loss = try api.trainingStep(yours.predictor, x0, yours.parameters, yourAdam, yourEMA, schedule.alphaBar, 0.5, &yourRNG)
                try expectClose([loss], [expected], "the loss returned by step \(step)",
                                hint: "draw each example's t (rng.int(in: 0..<T)) first, then ε = Tensor.randn(x0.shape)")
                for (p, q) in zip(yours.parameters, reference.parameters) {
                    try expectClose(p, q, "the weights after step \(step)",
                                    hint: "zero the gradients before backward, clip before the Adam step, update the EMA after it")
                }
            }
            referenceEMA.copyToParameters()
            yourEMA.copyToParameters()
            for (p, q) in zip(yours.parameters, reference.parameters) {
                try expectClose(p, q, "the EMA weights after 3 steps", hint: "call ema?.update() once per step, after optimizer.step()")
            }
        },
        Check("sampleDDPM", kind: .build, file: file, hint: "from t = T−1 down to 0: ε̂, eq. (11)'s mean, + √β_t·z except at t = 0") { api in
            let schedule = NoiseSchedule.linear(steps: 60, betaStart: 1e-3, betaEnd: 0.2)
            // A stand-in network that depends on x and t, so a wrong t or a wrong x shows.
            let model: (Tensor, [Int]) -> Tensor = { x, t in x * 0.3 + Tensor(t.map { Float($0) / 60 }, shape: [t.count, 1]) }
            var rng = RandomGenerator(seed: 208)
            let xT = Tensor.randn([5, 2], using: &rng)
            var referenceRNG = rng, yourRNG = rng
            var expectedSteps: [Int] = [], steps: [Int] = []
            let expected = Sampler.ddpm(steps: 60).sample(model, from: xT, schedule: schedule, using: &referenceRNG) { t, _ in expectedSteps.append(t) }
            let actual = try api.sampleDDPM(model, xT, schedule.beta, schedule.alphaBar, { t, _ in steps.append(t) }, &yourRNG)
            try expectClose(actual, expected, "the samples after 60 steps",
                            hint: "z ~ N(0, I) drawn after each prediction for t > 0 only: the last step (t = 0) adds no noise")
            guard steps == expectedSteps else {
                throw WrongAnswer("the steps passed to observe", expected: "\(expectedSteps.prefix(4))… (\(expectedSteps.count) calls)",
                                  actual: "\(steps.prefix(4))… (\(steps.count) calls)", hint: "observe(T, x_T) first, then observe(t, x) after each step")
            }
        },
        Check("ddimTimesteps", kind: .build, file: file, hint: "t_i = round(T − i·T/count) − 1 for i = 0 … count − 1") { api in
            for (count, T) in [(50, 1000), (10, 1000), (1, 1000), (1000, 1000), (7, 100), (3, 10)] {
                let expected = DDIM.timesteps(count: count, steps: T)
                let actual = try api.ddimTimesteps(count, T)
                guard actual == expected else {
                    throw WrongAnswer("ddimTimesteps(count: \(count), steps: \(T))", expected: "\(expected.prefix(6))…", actual: "\(actual.prefix(6))…",
                                      hint: "trailing: start at T − 1 (for count = 50 of 1000: 999, 979, …, 19)")
                }
            }
        },
        Check("ddimSigma", file: file, hint: "σ = η·√((1 − ᾱ′)/(1 − ᾱ))·√(1 − ᾱ/ᾱ′)") { api in
            let schedule = NoiseSchedule.linear()
            for (eta, t, previous) in [(Float(1), 999, 979), (1, 500, 499), (0.5, 200, 150), (0, 700, 650), (1, 1, 0), (1, 19, -1)] {
                let (a, b) = (schedule.alphaBar[t], previous >= 0 ? schedule.alphaBar[previous] : 1)
                try expectRelativelyClose([try api.ddimSigma(eta, a, b)], [DDIM.sigma(eta: eta, alphaBar: a, alphaBarPrevious: b)],
                                          relative: 1e-4, "ddimSigma(eta: \(eta)) from t = \(t) to \(previous >= 0 ? "\(previous)" : "x₀")",
                                          hint: "in Double; landing on x₀ (ᾱ′ = 1) gives σ = 0")
            }
        },
    ]
}
