// Solutions to chapter 4's exercises (exercises/Chapter04/TimeExercises.swift).

import ExerciseSupport
import Foundation
import NN
import Tensor

/// Exercise 4.1: [sin(t·ω_i) …, cos(t·ω_i) …], ω_i = 10000^(−i/(half − 1)).
public func sinusoidalEmbedding(_ t: [Int], dimension d: Int) throws -> Tensor {
    let half = d / 2
    var values: [Float] = []
    for step in t {
        let angles = (0..<half).map { i in Double(step) * Foundation.pow(10_000, -Double(i) / Double(half - 1)) }
        values += angles.map { Float(Foundation.sin($0)) } + angles.map { Float(Foundation.cos($0)) }
    }
    return Tensor(values, shape: [t.count, d])
}

/// Exercise 4.2: (1 + s)·h + b with s, b = scaleShift split in two along channels.
public func injectTime(_ h: Tensor, scaleShift: Tensor) throws -> Tensor {
    let b = h.shape[0], c = h.shape[1]
    let parts = scaleShift.reshaped([b, 2 * c, 1, 1]).split([c, c], axis: 1)  // [B, 2C] -> 2 × [B, C, 1, 1]
    return h * (parts[0] + 1) + parts[1]
}

/// Exercise 4.3: the mean of the losses whose t lies in each range.
public func meanLossByRange(losses: [Float], t: [Int], ranges: [Range<Int>]) throws -> [Double?] {
    ranges.map { range in
        let inside = zip(losses, t).filter { range.contains($0.1) }.map { Double($0.0) }
        return inside.isEmpty ? nil : inside.reduce(0, +) / Double(inside.count)
    }
}

/// Exercise 4.4: v = mean squared difference of horizontal neighbours; (v − v₀)/(2 − v₀) clipped to 0…1.
public func noiseVariance(_ xt: Tensor, cleanRoughness v0: Double) throws -> [Double] {
    let (b, c, h, w) = (xt.shape[0], xt.shape[1], xt.shape[2], xt.shape[3])
    return (0..<b).map { n in
        var sum = 0.0
        for row in 0..<(c * h) {  // every row of every channel of image n
            let start = (n * c * h + row) * w
            for i in 0..<(w - 1) {
                let d = Double(xt.data[start + i + 1]) - Double(xt.data[start + i])
                sum += d * d
            }
        }
        let v = sum / Double(c * h * (w - 1))
        return Swift.min(1, Swift.max(0, (v - v0) / (2 - v0)))
    }
}

/// Solution 4.5 — conv1(SiLU(GN₁(x))), GN₂, AdaGN from SiLU(emb), conv2(SiLU(·)), plus the skip.
public func resBlock(_ x: Tensor, emb: Tensor?, norm1: GroupNorm, conv1: Conv2d, embedding: Linear?, norm2: GroupNorm,
                     conv2: Conv2d, skip: Conv2d?) throws -> Tensor {
    var h = norm2(conv1(norm1(x).silu()))                        // [B, in, H, W] -> [B, out, H, W]
    if let embedding, let emb { h = try injectTime(h, scaleShift: embedding(emb.silu())) }   // [B, E] -> [B, 2·out]
    return conv2(h.silu()) + (skip.map { $0(x) } ?? x)
}
