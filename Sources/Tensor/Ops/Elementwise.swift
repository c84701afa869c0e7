// Elementwise operations: unary maps and broadcasting binary arithmetic.
// Each op: the forward value, then its backward (the derivative, times the incoming gradient).

import Foundation

// MARK: - Unary

/// An array of `count` floats written by `body` (no zero-fill first: every element must be set).
@inline(__always)
func makeArray(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    _ = allocatorTuned
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 { body(buffer.baseAddress!) }
        initialized = count
    }
}

/// Splits `0..<n` into fixed chunks of 32,768 and runs them on the kernel threads. For
/// elementwise work only: each element is computed alone, so any thread count gives the same bits.
@inline(__always)
func parallelRanges(_ n: Int, _ body: (Range<Int>) -> Void) {
    let chunk = 1 << 15
    if n <= chunk { body(0..<n); return }
    Parallel.forEach((n + chunk - 1) / chunk) { c in body((c * chunk)..<Swift.min(n, (c + 1) * chunk)) }
}

/// `body(row)` for every row of `size` elements (an image plane, a run to sum), the rows in fixed
/// chunks of about 32,768 elements on the kernel threads. Each row must be computed alone, so any
/// thread count gives the same bits.
@inline(__always)
func parallelRows(_ rows: Int, size: Int, _ body: (Int) -> Void) {
    let perChunk = Swift.max(1, (1 << 15) / Swift.max(size, 1))
    Parallel.forEach((rows + perChunk - 1) / perChunk) { chunk in
        for row in (chunk * perChunk)..<Swift.min(rows, (chunk + 1) * perChunk) { body(row) }
    }
}

extension Tensor {
    /// Applies `f` to every element. `@inline(__always)` lets each call site specialise the loop.
    @inline(__always)
    func map(_ f: (Float) -> Float) -> [Float] {
        data.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            return makeArray(count) { y in
                parallelRanges(count) { r in for i in r { y[i] = f(x[i]) } }
            }
        }
    }

    /// Builds a recorded unary op from `f`: `f.value(x)` per element forward; backward,
    /// `f.derivative(x, y)` (dy/dx, given the forward output y) times the incoming gradient.
    /// `f` is a type, not a closure, so each op's loops are compiled with its arithmetic inlined
    /// (as a closure it was one call per element, forward and backward).
    @inline(__always)
    func unary<F: UnaryOperation>(_ op: String, _ f: F) -> Tensor {
        let y = map(f.value)
        let x = data
        let result = Tensor(unchecked: y, shape: shape)
        return Tensor.record(result, op: op, inputs: [self]) { g in
            let gx = g.data.withUnsafeBufferPointer { gp in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeBufferPointer { yp in
                        makeArray(x.count) { out in
                            parallelRanges(x.count) { r in for i in r { out[i] = gp[i] * f.derivative(xp[i], yp[i]) } }
                        }
                    }
                }
            }
            return [Tensor(unchecked: gx, shape: g.shape)]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor { x.unary("neg", Negation()) }
    /// e^x; d/dx = e^x = y.
    public func exp() -> Tensor {
        let y = vectorMapped(exp8)
        return Tensor.record(Tensor(unchecked: y, shape: shape), op: "exp", inputs: [self]) { g in [g * Tensor(unchecked: y, shape: g.shape)] }
    }
    /// ln x; d/dx = 1/x.
    public func log() -> Tensor { unary("log", Logarithm()) }
    /// √x; d/dx = 1/(2√x) = 1/(2y).
    public func sqrt() -> Tensor { unary("sqrt", SquareRoot()) }
    /// x^p for a constant p; d/dx = p·x^(p−1).
    public func pow(_ p: Float) -> Tensor { p == 2 ? unary("pow", Square()) : unary("pow", Power(p: p)) }
    /// |x|; d/dx = sign(x) (0 at 0).
    public func abs() -> Tensor { unary("abs", AbsoluteValue()) }
    public func sin() -> Tensor { unary("sin", Sine()) }
    public func cos() -> Tensor { unary("cos", Cosine()) }
    /// tanh x; d/dx = 1 − y².
    public func tanh() -> Tensor { unary("tanh", HyperbolicTangent()) }
    /// σ(x) = 1/(1+e^−x); d/dx = y(1 − y).
    public func sigmoid() -> Tensor {
        let y = vectorMapped(sigmoid8)
        return Tensor.record(Tensor(unchecked: y, shape: shape), op: "sigmoid", inputs: [self]) { g in
            let s = Tensor(unchecked: y, shape: g.shape)
            return [g * s * (1 - s)]
        }
    }
    /// max(0, x); d/dx = 1 for x > 0, else 0.
    public func relu() -> Tensor { unary("relu", Rectifier()) }
    /// SiLU (swish): y = x·σ(x); dy/dx = σ(x)·(1 + x·(1 − σ(x))) = σ + y·(1 − σ).
    /// The UNet's activation, so it keeps σ from the forward pass rather than computing it twice.
    public func silu() -> Tensor {
        // σ and y in one pass over x (the activations are larger than the caches: each pass
        // over them costs a trip to memory).
        var y: [Float] = []
        let sigma = data.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            return makeArray(count) { s in
                y = makeArray(count) { out in
                    parallelRanges(count) { r in
                        var i = r.lowerBound
                        while i + 8 <= r.upperBound {
                            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self), sv = sigmoid8(v)
                            UnsafeMutableRawPointer(s + i).storeBytes(of: sv, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(out + i).storeBytes(of: v * sv, as: SIMD8<Float>.self)
                            i += 8
                        }
                        if i < r.upperBound {
                            vectorMap(x, s, i..<r.upperBound, sigmoid8)
                            for j in i..<r.upperBound { out[j] = x[j] * s[j] }
                        }
                    }
                }
            }
        }
        return Tensor.record(Tensor(unchecked: y, shape: shape), op: "silu", inputs: [self]) { g in
            let gx = g.data.withUnsafeBufferPointer { gp in
                sigma.withUnsafeBufferPointer { sp in
                    y.withUnsafeBufferPointer { yp in
                        makeArray(y.count) { out in
                            parallelRanges(y.count) { r in for i in r { out[i] = gp[i] * (sp[i] + yp[i] * (1 - sp[i])) } }
                        }
                    }
                }
            }
            return [Tensor(unchecked: gx, shape: g.shape)]
        }
    }
    /// GELU, tanh approximation (Hendrycks & Gimpel 2016, as in GPT-2):
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    public func gelu() -> Tensor { unary("gelu", GELU()) }
}

// MARK: - The unary operations: value and derivative

/// One elementwise function for `unary`: its value, and its derivative given x and y = value(x).
protocol UnaryOperation {
    func value(_ x: Float) -> Float
    func derivative(_ x: Float, _ y: Float) -> Float
}

struct Negation: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { -x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -1 }
}
struct Logarithm: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}
struct SquareRoot: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}
struct Square: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { x * x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 2 * x }
}
struct Power: UnaryOperation {
    let p: Float
    @inline(__always) func value(_ x: Float) -> Float { Foundation.pow(x, p) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { p * Foundation.pow(x, p - 1) }
}
struct AbsoluteValue: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { Swift.abs(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}
struct Sine: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { Foundation.sin(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { Foundation.cos(x) }
}
struct Cosine: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { Foundation.cos(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -Foundation.sin(x) }
}
struct HyperbolicTangent: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}
struct Rectifier: UnaryOperation {
    @inline(__always) func value(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}
/// GELU, tanh approximation (Hendrycks & Gimpel 2016, as in GPT-2):
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
struct GELU: UnaryOperation {
    static let c: Float = 0.7978845608  // √(2/π)
    @inline(__always) func value(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.tanh(GELU.c * (x + 0.044715 * x * x * x))) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        let u = GELU.c * (x + 0.044715 * x * x * x)
        let t = Foundation.tanh(u)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU.c * (1 + 3 * 0.044715 * x * x)
    }
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

/// An elementwise binary operation as a type, so that each use specialises the loops below.
/// (Passed as a closure, the arithmetic was not inlined into the parallel chunks: one call per
/// element, 15 % of a UNet step.)
protocol BinaryOperation { static func apply(_ x: Float, _ y: Float) -> Float }
enum AddOperation: BinaryOperation { @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x + y } }
enum SubOperation: BinaryOperation { @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x - y } }
enum MulOperation: BinaryOperation { @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x * y } }
enum DivOperation: BinaryOperation { @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x / y } }

/// out[i] = f(a[ia], b[ib]) over the broadcast shape. The innermost axis is a tight loop whose
/// strides are each 0 or 1 after collapsing (or general, for permuted-looking broadcasts).
func broadcastApply<F: BinaryOperation>(_ a: Tensor, _ b: Tensor, op: String, _: F.Type) -> Tensor {
    if a.shape == b.shape {  // the common case: no broadcasting at all
        let out = a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                makeArray(a.count) { o in parallelRanges(a.count) { r in for i in r { o[i] = F.apply(x[i], y[i]) } } }
            }
        }
        return Tensor(unchecked: out, shape: a.shape)
    }
    if b.count == 1 || a.count == 1 {  // a scalar on one side
        let shape = broadcastShapes(a.shape, b.shape, op: op)
        let n = shape.reduce(1, *)
        let out = a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                makeArray(n) { o in
                    if b.count == 1 {
                        let v = y[0]; parallelRanges(n) { r in for i in r { o[i] = F.apply(x[i], v) } }
                    } else {
                        let v = x[0]; parallelRanges(n) { r in for i in r { o[i] = F.apply(v, y[i]) } }
                    }
                }
            }
        }
        return Tensor(unchecked: out, shape: shape)
    }
    let shape = broadcastShapes(a.shape, b.shape, op: op)
    let (dims, sa, sb) = collapseAxes(shape, broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape))
    let total = shape.reduce(1, *)
    let inner = dims.last!, ia = sa.last!, ib = sb.last!
    let outerCount = total / Swift.max(inner, 1)
    // Rows of `inner` elements, in fixed groups of about 32k elements on the kernel threads.
    let rowsPerChunk = Swift.max(1, (1 << 15) / Swift.max(inner, 1))
    let out = a.data.withUnsafeBufferPointer { xb in
        b.data.withUnsafeBufferPointer { yb in
            makeArray(total) { o in
                let x = xb.baseAddress!, y = yb.baseAddress!
                Parallel.forEach((outerCount + rowsPerChunk - 1) / rowsPerChunk) { chunk in
                    let first = chunk * rowsPerChunk, last = Swift.min(outerCount, first + rowsPerChunk)
                    // The odometer over the outer axes, started at row `first`.
                    var index = [Int](repeating: 0, count: dims.count)
                    var pa = 0, pb = 0, rem = first
                    for d in stride(from: dims.count - 2, through: 0, by: -1) {
                        index[d] = rem % dims[d]; rem /= dims[d]
                        pa += index[d] * sa[d]; pb += index[d] * sb[d]
                    }
                    var po = first * inner
                    for _ in first..<last {
                        // Row pointers, so the inner loops index by j alone: with `po + j` (an
                        // overflow-checked sum) in the loop, it was not vectorised, 5-7x slower.
                        let out = o + po, u = x + pa, v = y + pb
                        if ia == 1 && ib == 1 {
                            for j in 0..<inner { out[j] = F.apply(u[j], v[j]) }
                        } else if ia == 1 && ib == 0 {
                            let c = v[0]; for j in 0..<inner { out[j] = F.apply(u[j], c) }
                        } else if ia == 0 && ib == 1 {
                            let c = u[0]; for j in 0..<inner { out[j] = F.apply(c, v[j]) }
                        } else {
                            for j in 0..<inner { out[j] = F.apply(u[j * ia], v[j * ib]) }
                        }
                        po += inner
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
    }
    return Tensor(unchecked: out, shape: shape)
}

// MARK: - Binary arithmetic

extension Tensor {
    /// a + b; ∂/∂a = 1, ∂/∂b = 1 (each summed back over its broadcast axes).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "add", AddOperation.self)
        return record(out, op: "add", inputs: [a, b]) { g in [g.sum(to: a.shape), g.sum(to: b.shape)] }
    }
    /// a − b; ∂/∂a = 1, ∂/∂b = −1.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "sub", SubOperation.self)
        return record(out, op: "sub", inputs: [a, b]) { g in [g.sum(to: a.shape), (-g).sum(to: b.shape)] }
    }
    /// a · b elementwise; ∂/∂a = b, ∂/∂b = a.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "mul", MulOperation.self)
        return record(out, op: "mul", inputs: [a, b]) { g in
            [a.requiresGrad ? (g * b).sum(to: a.shape) : nil,
             b.requiresGrad ? (g * a).sum(to: b.shape) : nil]
        }
    }
    /// a / b elementwise; ∂/∂a = 1/b, ∂/∂b = −a/b².
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, op: "div", DivOperation.self)
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
