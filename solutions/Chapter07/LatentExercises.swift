// Solutions to chapter 7's exercises (exercises/Chapter07/LatentExercises.swift).

import ExerciseSupport
import NN
import Tensor

/// Solution 7.1 — ⌊(n + 2p − k)/s⌋ + 1 (integer division floors for positive sides).
public func encoderOutputSide(input: Int, kernel: Int, stride: Int, padding: Int) throws -> Int {
    (input + 2 * padding - kernel) / stride + 1
}

/// Solution 7.2 — z = μ + exp(½·log σ²)·ε, in Tensor ops so the gradient reaches μ and log σ².
public func reparameterize(mean: Tensor, logVariance: Tensor, noise: Tensor) throws -> Tensor {
    let standardDeviation = (logVariance * 0.5).exp()   // σ, [B, C, H, W]
    return mean + standardDeviation * noise
}

/// Solution 7.3 — ½ Σ (μ² + σ² − 1 − log σ²) over every axis but the batch's.
public func gaussianKL(mean: Tensor, logVariance: Tensor) throws -> Tensor {
    let perNumber = (mean * mean + logVariance.exp() - logVariance - 1) * 0.5   // [B, …]
    return perNumber.sum(axes: Array(1..<mean.rank))                           // [B]
}

/// Solution 7.4 — 1/std over every number, mean subtracted, divided by N; summed in Double.
public func latentScaleFactor(_ latents: Tensor) throws -> Float {
    let n = Double(latents.count)
    let mean = latents.data.reduce(0.0) { $0 + Double($1) } / n
    let variance = latents.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return Float(1 / variance.squareRoot())
}
