// Optimizers, gradient clipping and the exponential moving average of weights.
// Updates run on raw storage, outside the graph: a parameter update is not differentiated.

import Foundation
import Tensor

public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// Applies one update from the parameters' current gradients (parameters without one are skipped).
    func step()
}

/// Stochastic gradient descent with optional momentum: v ← μ·v + g;  θ ← θ − lr·v.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float
    private var velocity: [[Float]]

    public init(_ parameters: [Tensor], learningRate: Float, momentum: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        velocity = parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step() {
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            for j in 0..<p.count {
                velocity[i][j] = momentum * velocity[i][j] + g.data[j]
                p.data[j] -= learningRate * velocity[i][j]
            }
        }
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1), with decoupled weight decay when `weightDecay` > 0
/// (AdamW, Loshchilov & Hutter 2019):
/// ```
/// m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
/// m̂ = m/(1−β1ᵗ)                v̂ = v/(1−β2ᵗ)
/// θ ← θ − lr·(m̂/(√v̂ + ε) + λ·θ)
/// ```
public final class Adam: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public private(set) var stepCount = 0
    private var m: [[Float]], v: [[Float]]

    public init(_ parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
        m = parameters.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    public func step() {
        stepCount += 1
        // The bias corrections 1 − β1ᵗ and 1 − β2ᵗ of Algorithm 1, with t = stepCount.
        let c1 = 1 - Float(pow(Double(beta1), Double(stepCount))), c2 = 1 - Float(pow(Double(beta2), Double(stepCount)))
        let (b1, b2, eps, lr, wd) = (beta1, beta2, epsilon, learningRate, weightDecay)
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            g.data.withUnsafeBufferPointer { gp in
                m[i].withUnsafeMutableBufferPointer { mp in
                    v[i].withUnsafeMutableBufferPointer { vp in
                        p.data.withUnsafeMutableBufferPointer { theta in
                            let (g, m, v, t) = (gp.baseAddress!, mp.baseAddress!, vp.baseAddress!, theta.baseAddress!)
                            // 8 weights at a time (the same operations in the same order as the
                            // scalar tail, so the same bits), then the rest one by one.
                            var j = 0
                            while j + 8 <= theta.count {
                                let gj = load8(g + j), tj = load8(t + j)
                                let mj = b1 * load8(m + j) + (1 - b1) * gj
                                let vj = b2 * load8(v + j) + (1 - b2) * gj * gj
                                let update = (mj / c1) / ((vj / c2).squareRoot() + eps)
                                store8(mj, m + j); store8(vj, v + j); store8(tj - lr * (update + wd * tj), t + j)
                                j += 8
                            }
                            for j in j..<theta.count {
                                m[j] = b1 * m[j] + (1 - b1) * g[j]
                                v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                                let update = (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
                                t[j] -= lr * (update + wd * t[j])
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Scales all gradients down together so their global L2 norm is at most `maxNorm`.
/// Returns the norm before clipping (worth logging: spikes foretell divergence).
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total = 0.0
    for p in parameters { if let g = p.grad { for x in g.data { total += Double(x) * Double(x) } } }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters {
            p.grad?.data.withUnsafeMutableBufferPointer { g in for j in g.indices { g[j] *= scale } }
        }
    }
    return norm
}

/// Exponential moving average of parameters, the weights diffusion models sample with:
/// ```
/// θ_ema ← d·θ_ema + (1 − d)·θ,   d = min(maxDecay, (1 + n)/(10 + n))
/// ```
/// after the n-th update. The warm-up (d small at first) keeps the average from being
/// dominated by the random initial weights in short runs.
public final class EMA {
    public let parameters: [Tensor]
    public private(set) var shadow: [[Float]]
    public let maxDecay: Float
    public private(set) var updates = 0

    public init(_ parameters: [Tensor], maxDecay: Float = 0.999) {
        self.parameters = parameters
        self.maxDecay = maxDecay
        shadow = parameters.map(\.data)
    }

    /// The decay used for update number n (0-based).
    public func decay(at n: Int) -> Float { Swift.min(maxDecay, Float(1 + n) / Float(10 + n)) }

    public func update() {
        let d = decay(at: updates)
        // Through buffer pointers: indexing the class's arrays element by element checked exclusive
        // access on every element: with those checks, about a fifth of chapter 2's training step.
        for (i, p) in parameters.enumerated() {
            p.data.withUnsafeBufferPointer { live in
                shadow[i].withUnsafeMutableBufferPointer { average in
                    for j in average.indices { average[j] = d * average[j] + (1 - d) * live[j] }
                }
            }
        }
        updates += 1
    }

    /// Runs `body` with the averaged weights swapped in, then restores the training weights.
    public func withAveragedWeights<R>(_ body: () throws -> R) rethrows -> R {
        let live = parameters.map(\.data)
        for (p, s) in zip(parameters, shadow) { p.data = s }
        defer { for (p, l) in zip(parameters, live) { p.data = l } }
        return try body()
    }

    /// Copies the averaged weights into the parameters for good.
    public func copyToParameters() { for (p, s) in zip(parameters, shadow) { p.data = s } }
}

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
private func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load8(UnsafePointer(p)) }

@inline(__always)
private func store8(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self) }
