// Chapter 2 solutions: the same functions as exercises/Chapter02, filled in.

import ExerciseSupport
import NN
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

/// Solution 2.4 — Algorithm 1's update: t and ε from rng, the loss (2.1), zero, backward, clip, Adam, EMA.
public func trainingStep(predict: (Tensor, [Int]) -> Tensor, x0: Tensor, parameters: [Tensor], optimizer: Adam, ema: EMA?,
                         alphaBar: [Float], clipNorm: Float, using rng: inout RandomGenerator) throws -> Float {
    let t = (0..<x0.shape[0]).map { _ in rng.int(in: 0..<alphaBar.count) }
    let noise = Tensor.randn(x0.shape, using: &rng)
    let loss = try trainingLoss(model: predict, x0: x0, t: t, noise: noise, alphaBar: alphaBar)
    for p in parameters { p.zeroGrad() }
    loss.backward()
    clipGradientNorm(parameters, maxNorm: clipNorm)
    optimizer.step()
    ema?.update()
    return loss.item
}

/// Solution 2.5 — Algorithm 2: T reverse steps with eq. (11)'s mean, noise √β_t·z except at t = 0.
public func sampleDDPM(predict: (Tensor, [Int]) -> Tensor, xT: Tensor, beta: [Float], alphaBar: [Float],
                       observe: (Int, Tensor) -> Void, using rng: inout RandomGenerator) throws -> Tensor {
    var x = xT
    observe(beta.count, x)
    for t in stride(from: beta.count - 1, through: 0, by: -1) {
        let epsilon = predict(x, [Int](repeating: t, count: x.shape[0]))
        let mean = try posteriorMean(xt: x, epsilon: epsilon, beta: beta[t], alphaBar: alphaBar[t])
        x = t > 0 ? mean + Tensor.randn(x.shape, using: &rng) * beta[t].squareRoot() : mean
        observe(t, x)
    }
    return x
}

/// Solution 2.6 — trailing timesteps: t_i = round(T − i·T/count) − 1.
public func ddimTimesteps(count: Int, steps T: Int) throws -> [Int] {
    (0..<count).map { i in Int((Double(T) - Double(i) * Double(T) / Double(count)).rounded()) - 1 }
}

/// Solution 2.7 — DDIM eq. (16): σ = η·√((1 − ᾱ′)/(1 − ᾱ))·√(1 − ᾱ/ᾱ′), in Double.
public func ddimSigma(eta: Float, alphaBar: Float, alphaBarPrevious: Float) throws -> Float {
    let (a, b) = (Double(alphaBar), Double(alphaBarPrevious))
    return Float(Double(eta) * ((1 - b) / (1 - a)).squareRoot() * (1 - a / b).squareRoot())
}
