// Elementwise operations: unary maps and broadcasting binary arithmetic.
// Each op: the forward value, then its backward (the derivative, times the incoming gradient).

import Foundation

// MARK: - Unary

extension Tensor {
    /// Applies `f` to every element. `@inline(__always)` lets each call site specialise the loop.
    @inline(__always)
    func map(_ f: (Float) -> Float) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for i in 0..<y.count { y[i] = f(x[i]) }
            }
        }
        return out
    }

    /// Builds a recorded unary op: `forward` per element; `derivative(x, y)` per element, where
    /// y is the forward output, gives dy/dx. The closure captures `data` arrays, never `self`'s result.
    @inline(__always)
    func unary(_ op: String, _ forward: (Float) -> Float,
               derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
        let y = map(forward)
        let x = data
        let result = Tensor(unchecked: y, shape: shape)
        return Tensor.record(result, op: op, inputs: [self]) { g in
            var gx = [Float](repeating: 0, count: x.count)
            g.data.withUnsafeBufferPointer { gp in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeBufferPointer { yp in
                        gx.withUnsafeMutableBufferPointer { out in
                            for i in 0..<out.count { out[i] = gp[i] * derivative(xp[i], yp[i]) }
                        }
                    }
                }
            }
            return [Tensor(unchecked: gx, shape: g.shape)]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        x.unary("neg", { -$0 }, derivative: { _, _ in -1 })
    }
    /// e^x; d/dx = e^x = y.
    public func exp() -> Tensor { unary("exp", { Foundation.exp($0) }, derivative: { _, y in y }) }
    /// ln x; d/dx = 1/x.
    public func log() -> Tensor { unary("log", { Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    /// √x; d/dx = 1/(2√x) = 1/(2y).
    public func sqrt() -> Tensor { unary("sqrt", { $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    /// x^p for a constant p; d/dx = p·x^(p−1).
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return unary("pow", { $0 * $0 }, derivative: { x, _ in 2 * x }) }
        return unary("pow", { Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }
    /// |x|; d/dx = sign(x) (0 at 0).
    public func abs() -> Tensor { unary("abs", { Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    public func sin() -> Tensor { unary("sin", { Foundation.sin($0) }, derivative: { x, _ in Foundation.cos(x) }) }
    public func cos() -> Tensor { unary("cos", { Foundation.cos($0) }, derivative: { x, _ in -Foundation.sin(x) }) }
    /// tanh x; d/dx = 1 − y².
    public func tanh() -> Tensor { unary("tanh", { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y }) }
    /// σ(x) = 1/(1+e^−x); d/dx = y(1 − y).
    public func sigmoid() -> Tensor { unary("sigmoid", sigmoidScalar, derivative: { _, y in y * (1 - y) }) }
    /// max(0, x); d/dx = 1 for x > 0, else 0.
    public func relu() -> Tensor { unary("relu", { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }
    /// SiLU (swish): x·σ(x); d/dx = σ(x)·(1 + x·(1 − σ(x))).
    public func silu() -> Tensor {
        unary("silu", { $0 * sigmoidScalar($0) }, derivative: { x, _ in
            let s = sigmoidScalar(x)
            return s * (1 + x * (1 - s))
        })
    }
    /// GELU, tanh approximation (Hendrycks & Gimpel 2016, as in GPT-2):
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    public func gelu() -> Tensor {
        let c: Float = 0.7978845608  // √(2/π)
        return unary("gelu", { x in 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x))) },
                     derivative: { x, _ in
            let u = c * (x + 0.044715 * x * x * x)
            let t = Foundation.tanh(u)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        })
    }
}

@inline(__always)
func sigmoidScalar(_ x: Float) -> Float {
    // Written so that neither branch overflows exp.
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let e = Foundation.exp(x)
    return e / (1 + e)
}

// MARK: - Broadcasting

/// The NumPy broadcast of two shapes, or a shape error naming `op` and both shapes.
public func broadcastShapes(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    let n = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        guard da == db || da == 1 || db == 1 else {
            shapeError("\(op): shapes \(a) and \(b) cannot be broadcast together (axis \(i): \(da) vs \(db))")
        }
        out[i] = da == 1 ? db : da
    }
    return out
}

/// Strides of `shape` seen through the broadcast `outShape`: 0 along broadcast axes.
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let offset = outShape.count - shape.count
    return (0..<outShape.count).map { i in
        i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
    }
}

/// Merges adjacent axes that both operands walk contiguously, so the inner loop is as long as possible.
/// Returns (sizes, stridesA, stridesB), outermost first; at least one axis.
func collapseAxes(_ shape: [Int], _ sa: [Int], _ sb: [Int]) -> ([Int], [Int], [Int]) {
    var dims: [Int] = [], xa: [Int] = [], xb: [Int] = []
    for i in 0..<shape.count where shape[i] != 1 {
        if let last = dims.last, xa.last! == sa[i] * shape[i], xb.last! == sb[i] * shape[i] {
            dims[dims.count - 1] = last * shape[i]
            xa[xa.count - 1] = sa[i]
            xb[xb.count - 1] = sb[i]
        } else {
            dims.append(shape[i]); xa.append(sa[i]); xb.append(sb[i])
        }
    }
    if dims.isEmpty { return ([1], [0], [0]) }
    return (dims, xa, xb)
}

/// out[i] = f(a[ia], b[ib]) over the broadcast shape. The innermost axis is a tight loop whose
/// strides are each 0 or 1 after collapsing (or general, for permuted-looking broadcasts).
@inline(__always)
func broadcastApply(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
    if a.shape == b.shape {  // the common case: no broadcasting at all
        var out = [Float](repeating: 0, count: a.count)
        a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<o.count { o[i] = f(x[i], y[i]) }
                }
            }
        }
        return Tensor(unchecked: out, shape: a.shape)
    }
    let shape = broadcastShapes(a.shape, b.shape, op: op)
    let (dims, sa, sb) = collapseAxes(shape, broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape))
    let total = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: total)
    let inner = dims.last!, ia = sa.last!, ib = sb.last!
    let outerCount = total / Swift.max(inner, 1)
    a.data.withUnsafeBufferPointer { x in
        b.data.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { o in
                var index = [Int](repeating: 0, count: dims.count)  // odometer over the outer axes
                var pa = 0, pb = 0, po = 0
                for _ in 0..<outerCount {
                    if ia == 1 && ib == 1 {
                        for j in 0..<inner { o[po + j] = f(x[pa + j], y[pb + j]) }
                    } else if ia == 1 && ib == 0 {
                        let v = y[pb]; for j in 0..<inner { o[po + j] = f(x[pa + j], v) }
                    } else if ia == 0 && ib == 1 {
                        let v = x[pa]; for j in 0..<inner { o[po + j] = f(v, y[pb + j]) }
                    } else {
                        for j in 0..<inner { o[po + j] = f(x[pa + j * ia], y[pb + j * ib]) }
                    }
                    po += inner
                    // advance the odometer over axes 0..<dims.count-1
                    var d = dims.count - 2
                    while d >= 0 {
                        index[d] += 1; pa += sa[d]; pb += sb[d]
                        if index[d] < dims[d] { break }
                        pa -= sa[d] * dims[d]; pb -= sb[d] * dims[d]; index[d] = 0
                        d -= 1
                    }
                }
            }
        }
    }
    return Tensor(unchecked: out, shape: shape)
}

// MARK: - Binary arithmetic

extension Tensor {
    /// a + b; ∂/∂a = 1, ∂/∂b = 1 (each summed back over its broadcast axes).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "add", +)
        return record(out, op: "add", inputs: [a, b]) { g in [g.sum(to: a.shape), g.sum(to: b.shape)] }
    }
    /// a − b; ∂/∂a = 1, ∂/∂b = −1.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "sub", -)
        return record(out, op: "sub", inputs: [a, b]) { g in [g.sum(to: a.shape), (-g).sum(to: b.shape)] }
    }
    /// a · b elementwise; ∂/∂a = b, ∂/∂b = a.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "mul", *)
        return record(out, op: "mul", inputs: [a, b]) { g in
            [a.requiresGrad ? (g * b).sum(to: a.shape) : nil,
             b.requiresGrad ? (g * a).sum(to: b.shape) : nil]
        }
    }
    /// a / b elementwise; ∂/∂a = 1/b, ∂/∂b = −a/b².
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "div", /)
        return record(out, op: "div", inputs: [a, b]) { g in
            [a.requiresGrad ? (g / b).sum(to: a.shape) : nil,
             b.requiresGrad ? (-(g * a) / (b * b)).sum(to: b.shape) : nil]
        }
    }

    // Scalars on either side become 0-d tensors; broadcasting does the rest.
    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Tensor(s) + a }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(s) }
    public static func - (s: Float, a: Tensor) -> Tensor { Tensor(s) - a }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(s) }
    public static func * (s: Float, a: Tensor) -> Tensor { Tensor(s) * a }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(s) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(s) / a }
}
