// Chapter 1 solutions. Same API as exercises/Chapter01/NoiseExercises.swift.

import ExerciseSupport
import Foundation
import Tensor

public func linearBetas(steps: Int, betaStart: Float, betaEnd: Float) throws -> [Float] {
    (0..<steps).map { t in betaStart + (betaEnd - betaStart) * Float(t) / Float(max(steps - 1, 1)) }
}

public func alphaBars(betas: [Float]) throws -> [Float] {
    var product = 1.0
    return betas.map { beta in
        product *= 1 - Double(beta)
        return Float(product)
    }
}

public func noisyBatch(x0: Tensor, alphaBar: [Float], noise: Tensor) throws -> Tensor {
    let shape = [alphaBar.count] + [Int](repeating: 1, count: x0.rank - 1)  // [B, 1, 1, ...]
    let signal = Tensor(alphaBar.map { $0.squareRoot() }, shape: shape)
    let noiseScale = Tensor(alphaBar.map { (1 - $0).squareRoot() }, shape: shape)
    return x0 * signal + noise * noiseScale
}

/// Exercise 1.4: β_t = min(1 − f(t + 1)/f(t), maxBeta), f(τ) = cos²((τ/T + s)/(1 + s)·π/2).
public func cosineBetas(steps: Int, offset s: Double, maxBeta: Double) throws -> [Float] {
    func f(_ tau: Int) -> Double {
        let c = Foundation.cos((Double(tau) / Double(steps) + s) / (1 + s) * Double.pi / 2)
        return c * c
    }
    return (0..<steps).map { t in Float(Swift.min(1 - f(t + 1) / f(t), maxBeta)) }
}
