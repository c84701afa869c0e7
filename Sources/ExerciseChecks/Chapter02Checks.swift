// Checks for chapter 2's exercises: each compares the learner's function with the library's
// DDPM and DDIM (Sources/Diffusion/DDPM.swift, DDIM.swift) on inputs the learner did not choose.

import Diffusion
import Tensor

public struct Chapter02API {
    public var trainingLoss: ((Tensor, [Int]) -> Tensor, Tensor, [Int], Tensor, [Float]) throws -> Tensor
    public var posteriorMean: (Tensor, Tensor, Float, Float) throws -> Tensor
    public var ddimStep: (Tensor, Tensor, Float, Float) throws -> Tensor

    public init(trainingLoss: @escaping ((Tensor, [Int]) -> Tensor, Tensor, [Int], Tensor, [Float]) throws -> Tensor,
                posteriorMean: @escaping (Tensor, Tensor, Float, Float) throws -> Tensor,
                ddimStep: @escaping (Tensor, Tensor, Float, Float) throws -> Tensor) {
        self.trainingLoss = trainingLoss; self.posteriorMean = posteriorMean; self.ddimStep = ddimStep
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
        Check("ddimStep", file: file, hint: "x̂₀ = (x_t − √(1 − ᾱ_t)·ε)/√ᾱ_t; x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev)·ε") { api in
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
    ]
}
