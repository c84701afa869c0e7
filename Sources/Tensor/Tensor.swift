// Tensor: a Float32 n-dimensional array that remembers how it was made.
//
// This is the box every chapter stands on. It is deliberately small: a shape, a flat
// array of numbers, and (when gradients are being recorded) a link to the operation
// that produced it. Everything else — layers, losses, attention, the UNet — is built
// from the operations in `Ops/`, each of which defines its forward computation and its
// gradient side by side.

/// A Float32 n-dimensional array with reverse-mode automatic differentiation.
///
/// **Storage.** `data` holds `shape.reduce(1, *)` numbers in row-major (C) order: the
/// last axis varies fastest, so element `[i, j]` of a `[rows, cols]` tensor lives at
/// `data[i * cols + j]`. A scalar has shape `[]` and one element. Storage is always
/// contiguous; operations that rearrange elements (permute, slicing) copy.
///
/// **Broadcasting.** Binary operations follow NumPy's rule: shapes are aligned on their
/// last axis; two sizes are compatible when they are equal or one of them is 1, and a
/// missing leading axis counts as 1. `[64, 32, 16, 16] + [1, 32, 1, 1]` adds a per-channel
/// value; `[8, 3] * []` scales by a scalar. A mismatch stops the program with a message
/// naming the operation and both shapes, in release builds too.
///
/// **Gradients.** A tensor created with `requiresGrad: true` is a *leaf* (a parameter or
/// an input we want the gradient of). Every operation on tensors that require gradients
/// records a `Node`: the operation's name, its inputs, and a closure that turns the
/// gradient of the output into gradients of the inputs. `loss.backward()` walks these
/// nodes from the loss back to the leaves in reverse topological order and *adds* each
/// leaf's gradient into its `grad` (call `zeroGrad()` between steps). Inside
/// `withoutGradients { ... }` nothing is recorded: that is how sampling and optimizer
/// updates run, and how the backward closures themselves run.
///
/// **Memory.** A node holds its inputs strongly and nothing holds a node but its output,
/// so the graph is a tree of strong references rooted at the loss: when the loss goes out
/// of scope the whole graph of that step is freed. Backward closures never capture their
/// own output tensor (they capture its `data` instead), which would make a cycle.
///
/// **Cost.** Elementwise ops are one pass over memory; `matmul` and `conv2d` run on the
/// cache-blocked, SIMD, multi-threaded kernels in `Kernels/`, which have naive oracles
/// beside them.
public final class Tensor {
    /// The size of each axis. `[]` for a scalar.
    public let shape: [Int]
    /// The elements in row-major order. Mutable so optimizers can update parameters in place.
    public var data: [Float]
    /// Whether gradients flow to (leaf) or through (recorded result) this tensor.
    public internal(set) var requiresGrad: Bool
    /// The accumulated gradient of a leaf after `backward()`; nil until then.
    public var grad: Tensor?
    /// How this tensor was made, when recorded: nil for leaves and for no-gradient results.
    public internal(set) var node: Node?

    /// Makes a tensor from row-major `data`. Stops with a message if the counts disagree.
    public init(_ data: [Float], shape: [Int], requiresGrad: Bool = false) {
        let count = shapeCount(shape, op: "Tensor(_:shape:)")
        guard data.count == count else {
            shapeError("Tensor(_:shape:): \(data.count) values cannot fill shape \(shape) (\(count) elements)")
        }
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// A scalar (shape `[]`).
    public convenience init(_ value: Float, requiresGrad: Bool = false) {
        self.init([value], shape: [], requiresGrad: requiresGrad)
    }

    /// A tensor of the given shape filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init([Float](repeating: value, count: shapeCount(shape, op: "Tensor(repeating:shape:)")),
                  shape: shape, requiresGrad: requiresGrad)
    }

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 0, shape: shape, requiresGrad: requiresGrad)
    }

    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 1, shape: shape, requiresGrad: requiresGrad)
    }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }

    /// The single value of a one-element tensor.
    public var item: Float {
        guard data.count == 1 else { shapeError("item: tensor of shape \(shape) has \(data.count) elements, not 1") }
        return data[0]
    }

    /// The element at a full index, e.g. `t[1, 2]` for a 2-D tensor.
    public subscript(_ index: Int...) -> Float {
        guard index.count == shape.count else {
            shapeError("subscript: \(index.count) indices for a tensor of rank \(shape.count) (shape \(shape))")
        }
        var flat = 0
        for (i, (k, n)) in zip(index, shape).enumerated() {
            guard k >= 0 && k < n else { shapeError("subscript: index \(k) out of range 0..<\(n) on axis \(i) of shape \(shape)") }
            flat = flat * n + k
        }
        return data[flat]
    }

    /// A copy that shares the values but records no history: gradients stop here.
    public func detached() -> Tensor { Tensor(data, shape: shape) }

    /// Marks a leaf as a parameter whose gradient `backward()` should compute.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        guard node == nil else { shapeError("requiringGrad: only a leaf tensor (not the result of a recorded op) can be marked") }
        requiresGrad = flag
        return self
    }

    /// Internal init for op results, skipping the count check done by the op itself.
    init(unchecked data: [Float], shape: [Int]) {
        self.shape = shape
        self.data = data
        self.requiresGrad = false
    }
}

/// One recorded operation: its name, its inputs and how to push a gradient back through it.
public final class Node {
    /// The operation's name, as the graph printout and error messages show it ("matmul", "add").
    public let op: String
    /// The tensors the operation read.
    public let inputs: [Tensor]
    /// Given dL/d(output), returns dL/d(input) for each input (nil where not needed).
    let backward: (Tensor) -> [Tensor?]
    /// What `Profiler` files the backward under: the op, or the scope it ran in.
    let kind: String

    init(op: String, kind: String? = nil, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.kind = kind ?? op
        self.inputs = inputs
        self.backward = backward
    }
}

/// Stops the program with a message naming the op and the shapes involved.
/// `fatalError` (unlike `precondition`) prints its message in release builds too.
public func shapeError(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("Shape error: " + message, file: file, line: line)
}

/// Product of the sizes, checking each is non-negative.
func shapeCount(_ shape: [Int], op: String) -> Int {
    var n = 1
    for s in shape {
        guard s >= 0 else { shapeError("\(op): negative size in shape \(shape)") }
        n *= s
    }
    return n
}

/// Row-major strides: how far apart consecutive elements of each axis are in `data`.
@inlinable
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

extension Tensor: CustomStringConvertible {
    /// Shape and (up to 8) leading values, e.g. `Tensor[2, 3] [0.1, 0.2, ...]`.
    public var description: String {
        let shown = data.prefix(8).map { formatValue($0) }.joined(separator: ", ")
        let more = data.count > 8 ? ", ... (\(data.count) values)" : ""
        let op = node.map { " <- \($0.op)" } ?? (requiresGrad ? " (leaf, requires grad)" : "")
        return "Tensor\(shape) [\(shown)\(more)]\(op)"
    }
}

func formatValue(_ v: Float) -> String {
    if v == 0 { return "0" }
    if abs(v) >= 1e4 || abs(v) < 1e-3 { return String(format: "%.3e", v) }
    return String(format: "%.4f", v)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
