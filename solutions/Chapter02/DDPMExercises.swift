// Chapter 2 solutions: the same functions as exercises/Chapter02, filled in.

import ExerciseSupport
import Tensor

/// Solution 2.1 — Algorithm 1's loss: x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, then mean((ε − model(x_t, t))²).
public func trainingLoss(model: (Tensor, [Int]) -> Tensor, x0: Tensor, t: [Int], noise: Tensor,
                         alphaBar: [Float]) throws -> Tensor {
    let shape = [t.count] + [Int](repeating: 1, count: x0.rank - 1)          // [B, 1, …] broadcasts over x0
    let signal = Tensor(t.map { alphaBar[$0].squareRoot() }, shape: shape)
    let noiseScale = Tensor(t.map { (1 - alphaBar[$0]).squareRoot() }, shape: shape)
    let xt = x0 * signal + noise * noiseScale
    return model(xt, t).mse(noise)
}

/// Solution 2.2 — μ = 1/√α_t·(x_t − β_t/√(1 − ᾱ_t)·ε), with α_t = 1 − β_t.
public func posteriorMean(xt: Tensor, epsilon: Tensor, beta: Float, alphaBar: Float) throws -> Tensor {
    let alpha = 1 - beta
    return (xt - epsilon * (beta / (1 - alphaBar).squareRoot())) / alpha.squareRoot()
}

/// Solution 2.3 — x̂₀ = (x_t − √(1 − ᾱ_t)·ε)/√ᾱ_t, then x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev)·ε.
public func ddimStep(xt: Tensor, epsilon: Tensor, alphaBar: Float, alphaBarPrevious: Float) throws -> Tensor {
    let x0 = (xt - epsilon * (1 - alphaBar).squareRoot()) / alphaBar.squareRoot()
    return x0 * alphaBarPrevious.squareRoot() + epsilon * (1 - alphaBarPrevious).squareRoot()
}
