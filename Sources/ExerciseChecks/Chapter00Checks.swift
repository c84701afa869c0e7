// Checks for chapter 0's exercises: the learner's backward rules, graded the way the library's
// own ops are (Tests/TensorTests/GradientCheckTests.swift) — by a directional gradient check —
// and then compared element by element with the library's autodiff (Sources/Tensor/Ops/).
//
// For inputs x_1…x_n of an op f, random weights w shaped like f's output and the scalar
//     S(x) = Σ_i w_i · f(x)_i,
// the learner's function gets gradOutput = w (that is ∂S/∂f) and returns g_j = ∂S/∂x_j. For each
// input j separately, along a random direction v_j:
//     ⟨g_j, v_j⟩  ≈  (S(x_j + h·v_j) − S(x_j − h·v_j)) / 2h
// with f written out again here in Double, so the difference loses nothing to rounding.

import Foundation
import Tensor

public struct Chapter00API {
    public var mulBackward: (Tensor, Tensor, Tensor) throws -> (Tensor, Tensor)
    public var matmulBackward: (Tensor, Tensor, Tensor) throws -> (Tensor, Tensor)
    public var sumBackward: (Tensor, Int, Tensor) throws -> Tensor
    public var softmaxBackward: (Tensor, Tensor) throws -> Tensor

    public init(mulBackward: @escaping (Tensor, Tensor, Tensor) throws -> (Tensor, Tensor),
                matmulBackward: @escaping (Tensor, Tensor, Tensor) throws -> (Tensor, Tensor),
                sumBackward: @escaping (Tensor, Int, Tensor) throws -> Tensor,
                softmaxBackward: @escaping (Tensor, Tensor) throws -> Tensor) {
        self.mulBackward = mulBackward; self.matmulBackward = matmulBackward
        self.sumBackward = sumBackward; self.softmaxBackward = softmaxBackward
    }
}

public enum Chapter00Checks {
    static let file = "exercises/Chapter00/TensorExercises.swift"

    static let mulHint = "∂L/∂a = G⊙b and ∂L/∂b = G⊙a, each summed over the axes broadcasting stretched (leading axes the input lacks, and axes where it has size 1) back to the input's shape"
    static let matmulHint = "∂L/∂A = G·Bᵀ ([M,N]·[N,K] = [M,K]) and ∂L/∂B = Aᵀ·G ([K,M]·[M,N] = [K,N]); let the shapes place the transposes"
    static let sumHint = "every x element fed one sum with weight 1: reshape G to x's shape with the summed axis as size 1, then repeat it along that axis (expand(to: x.shape))"
    static let softmaxHint = "with y = softmax(x) along the last axis, ∂L/∂x = y ⊙ (G − Σ_j G_j·y_j), the sum taken per row (keepDims: true)"

    public static let all: [Check<Chapter00API>] = [
        Check("mulBackward", file: file, hint: mulHint) { api in
            let shapes: [([Int], [Int])] = [([2, 3], [2, 3]), ([3, 1], [1, 4]), ([2, 3, 4], [4]), ([], [2, 3]),
                                            ([4, 1, 3], [2, 1]), ([], [])]
            for (index, (sa, sb)) in shapes.enumerated() {
                let out = broadcastShapes(sa, sb, op: "mulBackward check")
                let ia = broadcastIndices(sa, to: out), ib = broadcastIndices(sb, to: out)
                let c = BackwardCase(
                    label: "a \(sa) · b \(sb) -> \(out)", names: ["a", "b"], seed: 100 + UInt64(index),
                    shapes: [sa, sb], forward: { $0[0] * $0[1] },
                    forwardDouble: { x in (0..<ia.count).map { x[0][ia[$0]] * x[1][ib[$0]] } })
                try gradeBackward(c, exercise: "mulBackward", hint: mulHint) { x, g in
                    let (ga, gb) = try api.mulBackward(x[0], x[1], g)
                    return [ga, gb]
                }
            }
        },
        Check("matmulBackward", file: file, hint: matmulHint) { api in
            let sizes: [(m: Int, k: Int, n: Int)] = [(2, 3, 4), (3, 3, 3), (1, 5, 1), (4, 1, 3), (5, 2, 1)]
            for (index, (m, k, n)) in sizes.enumerated() {
                let c = BackwardCase(
                    label: "a [\(m), \(k)] · b [\(k), \(n)] -> [\(m), \(n)]", names: ["a", "b"], seed: 200 + UInt64(index),
                    shapes: [[m, k], [k, n]], forward: { $0[0].matmul($0[1]) },
                    forwardDouble: { x in
                        var c = [Double](repeating: 0, count: m * n)
                        for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += x[0][i * k + p] * x[1][p * n + j] } } }
                        return c
                    })
                try gradeBackward(c, exercise: "matmulBackward", hint: matmulHint) { x, g in
                    let (ga, gb) = try api.matmulBackward(x[0], x[1], g)
                    return [ga, gb]
                }
            }
        },
        Check("sumBackward", file: file, hint: sumHint) { api in
            let cases: [([Int], Int)] = [([3, 5], 0), ([3, 5], 1), ([2, 3, 4], 1), ([2, 3, 4], 2), ([4], 0), ([1, 3], 0)]
            for (index, (shape, axis)) in cases.enumerated() {
                let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
                var outShape = shape
                outShape.remove(at: axis)
                let c = BackwardCase(
                    label: "x \(shape) summed over axis \(axis) -> \(outShape)", names: ["x"], seed: 300 + UInt64(index),
                    shapes: [shape], forward: { $0[0].sum(axes: [axis]) },
                    forwardDouble: { x in
                        var y = [Double](repeating: 0, count: outer * inner)
                        for o in 0..<outer { for i in 0..<n { for t in 0..<inner { y[o * inner + t] += x[0][(o * n + i) * inner + t] } } }
                        return y
                    })
                try gradeBackward(c, exercise: "sumBackward", hint: sumHint) { x, g in [try api.sumBackward(x[0], axis, g)] }
            }
        },
        Check("softmaxBackward", file: file, hint: softmaxHint) { api in
            for (index, shape) in [[5], [3, 4], [2, 3, 4], [4, 1]].enumerated() {
                let width = shape.last!
                let c = BackwardCase(
                    label: "softmax over the last axis of x \(shape)", names: ["x"], seed: 400 + UInt64(index),
                    shapes: [shape], forward: { $0[0].softmax(axis: -1) },
                    forwardDouble: { x in
                        var y = x[0]
                        for row in 0..<(y.count / width) {
                            let r = (row * width)..<((row + 1) * width)
                            let m = y[r].max()!
                            let e = y[r].map { Foundation.exp($0 - m) }
                            let total = e.reduce(0, +)
                            for (i, v) in zip(r, e) { y[i] = v / total }
                        }
                        return y
                    })
                try gradeBackward(c, exercise: "softmaxBackward", hint: softmaxHint) { x, g in [try api.softmaxBackward(x[0], g)] }
            }
        },
    ]
}

// MARK: - The directional gradient check

/// One input configuration of a backward exercise: the op as Tensor code (its autodiff is the
/// reference answer) and the same op in Double (for finite differences).
private struct BackwardCase {
    let label: String
    let names: [String]
    let seed: UInt64
    let shapes: [[Int]]
    let forward: ([Tensor]) -> Tensor
    let forwardDouble: ([[Double]]) -> [Double]
}

/// Grades the learner's gradients for one case: shape, then the directional check per input,
/// then the values against the library's backward. Throws a `WrongAnswer` naming the input and case.
private func gradeBackward(_ c: BackwardCase, exercise: String, hint: String, h: Double = 1e-3,
           learner: ([Tensor], Tensor) throws -> [Tensor]) throws {
    var rng = RandomGenerator(seed: c.seed)
    let inputs = c.shapes.map { Tensor.randn($0, using: &rng) }
    // The reference: the library's autodiff, seeded with w = ∂S/∂f.
    let leaves = inputs.map { Tensor($0.data, shape: $0.shape, requiresGrad: true) }
    let out = c.forward(leaves)
    let w = Tensor.randn(out.shape, using: &rng)
    out.backward(seed: w)
    let expected = leaves.map { $0.grad ?? Tensor.zeros($0.shape) }

    // The learner's answer, from copies (so nothing they do can change our inputs).
    let answers = try learner(inputs.map { Tensor($0.data, shape: $0.shape) }, Tensor(w.data, shape: w.shape))
    guard answers.count == inputs.count else {
        throw WrongAnswer("\(exercise), case \(c.label): number of gradients", expected: "\(inputs.count)",
                          actual: "\(answers.count)", hint: hint)
    }

    let wd = w.data.map(Double.init)
    func s(_ x: [[Double]]) -> Double { zip(c.forwardDouble(x), wd).reduce(0) { $0 + $1.0 * $1.1 } }
    for (j, (answer, input)) in zip(answers, inputs).enumerated() {
        let what = "\(exercise), case \(c.label): ∂L/∂\(c.names[j])"
        guard answer.shape == input.shape else {
            throw WrongAnswer(what + " has the wrong shape", expected: "shape \(input.shape) (the shape of \(c.names[j]))",
                              actual: "shape \(answer.shape)", hint: hint)
        }
        let v = Tensor.randn(input.shape, using: &rng)
        var analytic = 0.0
        for i in 0..<v.count { analytic += Double(answer.data[i]) * Double(v.data[i]) }
        func moved(_ sign: Double) -> [[Double]] {
            inputs.enumerated().map { k, x in
                k == j ? zip(x.data, v.data).map { Double($0) + sign * h * Double($1) } : x.data.map(Double.init)
            }
        }
        let numerical = (s(moved(1)) - s(moved(-1))) / (2 * h)
        let relative = Swift.abs(analytic - numerical) / Swift.max(Swift.abs(analytic), Swift.abs(numerical), 1e-4)
        guard relative <= 1e-3 else {  // `guard <=` so that NaN fails too
            throw WrongAnswer(what + " disagrees with finite differences along a random direction v",
                              expected: "⟨∂L/∂\(c.names[j]), v⟩ ≈ \(fmt(numerical)) (central difference, h = \(h))",
                              actual: "⟨your gradient, v⟩ = \(fmt(analytic)) (relative error \(fmt(relative)))", hint: hint)
        }
        try expectClose(answer, expected[j], tolerance: 1e-4, what + " compared with the library's backward", hint: hint)
    }
}

/// For each element of the broadcast shape `out`, the flat index of the element of `shape` it reads.
private func broadcastIndices(_ shape: [Int], to out: [Int]) -> [Int] {
    let own = contiguousStrides(shape), offset = out.count - shape.count
    return (0..<out.reduce(1, *)).map { flat in
        var rest = flat, index = 0
        for axis in stride(from: out.count - 1, through: 0, by: -1) {
            let k = rest % out[axis]
            rest /= out[axis]
            let i = axis - offset
            if i >= 0 && shape[i] != 1 { index += k * own[i] }
        }
        return index
    }
}

private func fmt(_ x: Double) -> String { String(format: "%.6g", x) }

