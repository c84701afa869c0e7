// Reverse-mode automatic differentiation: recording the graph and walking it backwards.
//
// Forward: each op computes its result and, if any input requires a gradient and
// recording is on, attaches a `Node` (see `Tensor.record`).
// Backward: `loss.backward()` orders the recorded graph topologically and visits it
// from the loss to the leaves, applying each node's backward closure (the chain rule)
// and summing the gradients that meet at a tensor used more than once.

/// Whether operations are recorded for `backward()`. Scoped with `withoutGradients`,
/// never a global switch: a task-local value is seen by this task and the tasks it
/// starts, so parallel tests cannot turn each other's recording off.
public enum GradMode {
    @TaskLocal public static var isEnabled = true

    /// Test hook: scale the gradient an op named `op` sends back by `factor`. Used only
    /// by the mutation test, which proves the gradient checks would catch a wrong backward.
    @TaskLocal public static var mutation: (op: String, factor: Float)? = nil

    /// Test hook: multiply ONE element of the gradient an op named `op` sends to its input number
    /// `input` by `factor`: a bug in a single partial derivative, which one random direction can
    /// miss. Used by the test of `elementwiseGradientCheck`.
    @TaskLocal public static var elementMutation: ElementMutation? = nil
}

/// Which gradient element `GradMode.elementMutation` corrupts, and by how much.
public struct ElementMutation: Sendable {
    public var op: String
    public var input: Int
    public var element: Int
    public var factor: Float
    public init(op: String, input: Int = 0, element: Int, factor: Float) {
        self.op = op; self.input = input; self.element = element; self.factor = factor
    }
}

/// Runs `body` with recording off: nothing it computes can be differentiated, and no
/// graph is kept alive. Sampling, evaluation and optimizer updates run like this.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

extension Tensor {
    /// Attaches a node to `result` when recording is on and some input requires a gradient.
    /// Every primitive op ends with this call, its backward closure written right there.
    @inline(__always)
    static func record(_ result: Tensor, op: String, inputs: [Tensor],
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        let kind = Profiler.isOn ? Profiler.forwardOpEnded(op) : nil
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            result.requiresGrad = true
            result.node = Node(op: op, kind: kind, inputs: inputs, backward: backward)
        }
        return result
    }

    /// Back-propagates from this tensor. For a scalar loss no seed is needed (dL/dL = 1);
    /// otherwise `seed` is dL/d(self), shaped like self. Leaf gradients are *added* to `grad`.
    public func backward(seed: Tensor? = nil) {
        guard requiresGrad else {
            shapeError("backward: this tensor does not depend on any tensor that requires a gradient")
        }
        let start: Tensor
        if let seed {
            guard seed.shape == shape else { shapeError("backward: seed shape \(seed.shape) differs from tensor shape \(shape)") }
            start = seed
        } else {
            guard count == 1 else { shapeError("backward: needs a seed for a non-scalar tensor of shape \(shape)") }
            start = Tensor.ones(shape)
        }
        if Profiler.isOn { return Profiler.backwardPass { backward(from: start, profiled: true) } }
        backward(from: start, profiled: false)
    }

    /// The backward pass from dL/d(self) = `start`; with `profiled`, each step is timed.
    private func backward(from start: Tensor, profiled: Bool) {
        @inline(__always) func timed<R>(_ kind: String, _ op: String, _ body: () -> R) -> R {
            profiled ? Profiler.timeBackward(kind: kind, op: op, body) : body()
        }
        let order = timed("gradient bookkeeping", "graph order") { topologicalOrder() }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        let mutation = GradMode.mutation, elementMutation = GradMode.elementMutation
        withoutGradients {
            for tensor in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                guard let node = tensor.node else {
                    timed("gradient bookkeeping", "into .grad") { tensor.accumulateGrad(g) }
                    continue
                }
                var inputGrads = timed(node.kind, node.op) { node.backward(g) }
                if let mutation, mutation.op == node.op {
                    inputGrads = inputGrads.map { $0.map { $0 * mutation.factor } }
                }
                if let m = elementMutation, m.op == node.op, m.input < inputGrads.count, let gi = inputGrads[m.input] {
                    var data = gi.data
                    data[m.element] *= m.factor
                    inputGrads[m.input] = Tensor(data, shape: gi.shape)
                }
                for (input, gi) in zip(node.inputs, inputGrads) where input.requiresGrad {
                    guard let gi else { continue }
                    guard gi.shape == input.shape else {
                        fatalError("backward of \(node.op): gradient shape \(gi.shape) differs from input shape \(input.shape) (a bug in the op)")
                    }
                    let key = ObjectIdentifier(input)
                    if let existing = grads[key] {
                        grads[key] = timed("gradient bookkeeping", "sum of gradients") { existing + gi }
                    } else {
                        grads[key] = gi
                    }
                }
            }
        }
    }

    /// Adds `g` into this leaf's gradient, in place when possible.
    func accumulateGrad(_ g: Tensor) {
        guard let grad else {
            self.grad = Tensor(unchecked: g.data, shape: shape)
            return
        }
        grad.data.withUnsafeMutableBufferPointer { dst in
            g.data.withUnsafeBufferPointer { src in
                for i in 0..<dst.count { dst[i] += src[i] }
            }
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Every recorded tensor this one depends on (itself included), inputs before outputs.
    /// Iterative depth-first search, so deep graphs cannot overflow the stack.
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.node?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// How many floats the recorded graph ending here holds in the outputs of its ops: the activations a
    /// backward pass keeps alive (leaves such as parameters and inputs are not counted). Chapter 7 compares
    /// it between pixel and latent space.
    public var graphActivationCount: Int { topologicalOrder().reduce(0) { $0 + ($1.node == nil ? 0 : $1.count) } }

    /// The recorded graph as indented text, one line per tensor, e.g.
    /// ```
    /// mean [] 
    ///   pow [4, 1]
    ///     sub [4, 1]
    ///       matmul [4, 1] ...
    /// ```
    /// A tensor reached a second time is shown once and then referred to as "(see above)".
    public func graphDescription(names: [ObjectIdentifier: String] = [:]) -> String {
        var lines: [String] = []
        var seen = Set<ObjectIdentifier>()
        func visit(_ t: Tensor, _ depth: Int) {
            let pad = String(repeating: "  ", count: depth)
            let id = ObjectIdentifier(t)
            let label = names[id].map { " \($0)" } ?? ""
            guard let node = t.node else {
                lines.append("\(pad)\(t.requiresGrad ? "leaf" : "constant")\(label) \(t.shape)")
                return
            }
            if seen.contains(id) { lines.append("\(pad)\(node.op)\(label) \(t.shape) (see above)"); return }
            seen.insert(id)
            lines.append("\(pad)\(node.op)\(label) \(t.shape)")
            for input in node.inputs { visit(input, depth + 1) }
        }
        visit(self, 0)
        return lines.joined(separator: "\n")
    }
}
