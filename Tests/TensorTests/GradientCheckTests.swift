// Every differentiable op against central differences (see `gradientCheck`), and a mutation
// test proving that these checks would notice a backward that is off by 1 %.

import Testing
@testable import Tensor

/// One row of the table: inputs, the function to differentiate, and the primitive whose backward
/// the mutation test corrupts (nil for composed functions, which have no backward of their own).
struct GradCase: CustomTestStringConvertible, Sendable {
    let name: String
    let mutates: String?
    let shapes: [[Int]]
    /// How inputs are drawn: normal, or |normal| + 0.5 (log, sqrt, div), or normal pushed away from 0 (kinks).
    let inputs: Kind
    let f: @Sendable ([Tensor]) -> Tensor
    enum Kind: Sendable { case normal, positive, awayFromZero, distinct }
    var testDescription: String { name }

    func makeInputs(seed: UInt64) -> [Tensor] {
        var rng = RandomGenerator(seed: seed)
        return shapes.map { shape in
            let t = Tensor.randn(shape, using: &rng)
            switch inputs {
            case .normal: return t
            case .positive: return Tensor(t.data.map { Swift.abs($0) + 0.5 }, shape: shape)
            case .awayFromZero: return Tensor(t.data.map { $0 + ($0 >= 0 ? 0.3 : -0.3) }, shape: shape)
            case .distinct:  // well-separated values, so no max is within h of another
                var values = (0..<t.count).map { Float($0) * 0.25 }
                rng.shuffle(&values)
                return Tensor(values, shape: shape)
            }
        }
    }
}

let gradCases: [GradCase] = [
    // unary
    GradCase(name: "neg", mutates: "neg", shapes: [[3, 4]], inputs: .normal) { -$0[0] },
    GradCase(name: "exp", mutates: "exp", shapes: [[3, 4]], inputs: .normal) { $0[0].exp() },
    GradCase(name: "log", mutates: "log", shapes: [[3, 4]], inputs: .positive) { $0[0].log() },
    GradCase(name: "sqrt", mutates: "sqrt", shapes: [[3, 4]], inputs: .positive) { $0[0].sqrt() },
    GradCase(name: "pow 3", mutates: "pow", shapes: [[3, 4]], inputs: .normal) { $0[0].pow(3) },
    GradCase(name: "pow 2", mutates: "pow", shapes: [[3, 4]], inputs: .normal) { $0[0].pow(2) },
    GradCase(name: "pow -0.5", mutates: "pow", shapes: [[3, 4]], inputs: .positive) { $0[0].pow(-0.5) },
    GradCase(name: "abs", mutates: "abs", shapes: [[3, 4]], inputs: .awayFromZero) { $0[0].abs() },
    GradCase(name: "sin", mutates: "sin", shapes: [[3, 4]], inputs: .normal) { $0[0].sin() },
    GradCase(name: "cos", mutates: "cos", shapes: [[3, 4]], inputs: .normal) { $0[0].cos() },
    GradCase(name: "tanh", mutates: "tanh", shapes: [[3, 4]], inputs: .normal) { $0[0].tanh() },
    GradCase(name: "sigmoid", mutates: "sigmoid", shapes: [[3, 4]], inputs: .normal) { $0[0].sigmoid() },
    GradCase(name: "relu", mutates: "relu", shapes: [[3, 4]], inputs: .awayFromZero) { $0[0].relu() },
    GradCase(name: "silu", mutates: "silu", shapes: [[3, 4]], inputs: .normal) { $0[0].silu() },
    GradCase(name: "gelu", mutates: "gelu", shapes: [[3, 4]], inputs: .normal) { $0[0].gelu() },
    // binary, with broadcasting on either side
    GradCase(name: "add same shape", mutates: "add", shapes: [[3, 4], [3, 4]], inputs: .normal) { $0[0] + $0[1] },
    GradCase(name: "add row broadcast", mutates: "add", shapes: [[3, 4], [4]], inputs: .normal) { $0[0] + $0[1] },
    GradCase(name: "add both broadcast", mutates: "add", shapes: [[3, 1], [1, 4]], inputs: .normal) { $0[0] + $0[1] },
    GradCase(name: "sub channel broadcast", mutates: "sub", shapes: [[2, 3, 2, 2], [1, 3, 1, 1]], inputs: .normal) { $0[0] - $0[1] },
    GradCase(name: "sub scalar left", mutates: "sub", shapes: [[]], inputs: .normal) { 2 - $0[0] },
    GradCase(name: "mul broadcast", mutates: "mul", shapes: [[2, 3, 4], [3, 1]], inputs: .normal) { $0[0] * $0[1] },
    GradCase(name: "mul by itself", mutates: "mul", shapes: [[5]], inputs: .normal) { $0[0] * $0[0] },
    GradCase(name: "mul scalar tensor", mutates: "mul", shapes: [[2, 3], []], inputs: .normal) { $0[0] * $0[1] },
    GradCase(name: "div broadcast", mutates: "div", shapes: [[2, 3], [3]], inputs: .positive) { $0[0] / $0[1] },
    GradCase(name: "div scalar left", mutates: "div", shapes: [[2, 3]], inputs: .positive) { 1 / $0[0] },
    // reductions
    GradCase(name: "sum all", mutates: "sum", shapes: [[3, 4]], inputs: .normal) { $0[0].sum() },
    GradCase(name: "sum axis 1 keepDims", mutates: "sum", shapes: [[2, 3, 4]], inputs: .normal) { $0[0].sum(axes: [1], keepDims: true) },
    GradCase(name: "sum axes 0,2", mutates: "sum", shapes: [[2, 3, 4]], inputs: .normal) { $0[0].sum(axes: [0, 2]) },
    GradCase(name: "mean last axis", mutates: "sum", shapes: [[2, 3, 4]], inputs: .normal) { $0[0].mean(axes: [-1]) },
    GradCase(name: "max axis 1", mutates: "max", shapes: [[3, 5, 2]], inputs: .distinct) { $0[0].max(axis: 1) },
    GradCase(name: "variance", mutates: nil, shapes: [[4, 6]], inputs: .normal) { $0[0].variance(axes: [1]) },
    GradCase(name: "expand", mutates: "expand", shapes: [[3, 1]], inputs: .normal) { $0[0].expand(to: [2, 3, 4]) },
    // moving elements
    GradCase(name: "reshape", mutates: "reshape", shapes: [[3, 4]], inputs: .normal) { $0[0].reshaped([2, 6]) },
    GradCase(name: "permute", mutates: "permute", shapes: [[2, 3, 4]], inputs: .normal) { $0[0].permuted([2, 0, 1]) },
    GradCase(name: "transpose", mutates: "permute", shapes: [[3, 5]], inputs: .normal) { $0[0].transposed() },
    GradCase(name: "slice", mutates: "slice", shapes: [[3, 6]], inputs: .normal) { $0[0].slice(axis: 1, 1..<4) },
    GradCase(name: "concat", mutates: "concat", shapes: [[2, 3], [2, 2]], inputs: .normal) { Tensor.concat([$0[0], $0[1]], axis: 1) },
    GradCase(name: "split", mutates: "slice", shapes: [[4, 3]], inputs: .normal) {
        let parts = $0[0].split([1, 3], axis: 0)
        return parts[0] * 2 + parts[1].sum(axes: [0], keepDims: true)
    },
    GradCase(name: "gather (repeated rows)", mutates: "gather", shapes: [[4, 3]], inputs: .normal) { $0[0].gather(rows: [2, 0, 2, 3]) },
    // linear algebra
    GradCase(name: "matmul 2-D", mutates: "matmul", shapes: [[3, 4], [4, 5]], inputs: .normal) { $0[0].matmul($0[1]) },
    GradCase(name: "matmul batched · shared", mutates: "matmul", shapes: [[2, 3, 4], [4, 5]], inputs: .normal) { $0[0].matmul($0[1]) },
    GradCase(name: "matmul batched", mutates: "matmul", shapes: [[2, 3, 4], [2, 4, 5]], inputs: .normal) { $0[0].matmul($0[1]) },
    GradCase(name: "matmul · shared transposed", mutates: "matmul", shapes: [[2, 3, 4], [5, 4]], inputs: .normal) {
        $0[0].matmul($0[1], transposeOther: true)
    },
    GradCase(name: "matmul batched transposed", mutates: "matmul", shapes: [[2, 3, 4], [2, 5, 4]], inputs: .normal) {
        $0[0].matmul($0[1], transposeOther: true)
    },
    GradCase(name: "conv2d 3x3 pad 1", mutates: "conv2d", shapes: [[2, 3, 5, 5], [4, 3, 3, 3]], inputs: .normal) {
        $0[0].conv2d($0[1], stride: 1, padding: 1)
    },
    GradCase(name: "conv2d stride 2 no pad", mutates: "conv2d", shapes: [[2, 2, 7, 6], [3, 2, 3, 2]], inputs: .normal) {
        $0[0].conv2d($0[1], stride: 2, padding: 0)
    },
    GradCase(name: "conv2d stride 2 pad 1", mutates: "conv2d", shapes: [[1, 3, 6, 6], [2, 3, 3, 3]], inputs: .normal) {
        $0[0].conv2d($0[1], stride: 2, padding: 1)
    },
    GradCase(name: "conv2d 1x1", mutates: "conv2d", shapes: [[2, 4, 3, 3], [5, 4, 1, 1]], inputs: .normal) { $0[0].conv2d($0[1]) },
    GradCase(name: "conv2d 3x3 pad 1 with bias", mutates: "conv2d", shapes: [[2, 3, 5, 5], [4, 3, 3, 3], [4]], inputs: .normal) {
        $0[0].conv2d($0[1], bias: $0[2], stride: 1, padding: 1)
    },
    GradCase(name: "avgPool2x2", mutates: "avgPool2x2", shapes: [[2, 3, 4, 6]], inputs: .normal) { $0[0].avgPool2x2() },
    GradCase(name: "upsampleNearest2x", mutates: "upsampleNearest2x", shapes: [[2, 3, 2, 3]], inputs: .normal) { $0[0].upsampleNearest2x() },
    GradCase(name: "normalize (group norm runs)", mutates: "normalize", shapes: [[2, 4, 3, 3]], inputs: .normal) {
        $0[0].normalizedRows(length: 18, epsilon: 1e-5)
    },
    GradCase(name: "groupNorm (x, γ, β)", mutates: "groupNorm", shapes: [[2, 4, 3, 2], [4], [4]], inputs: .normal) {
        $0[0].groupNormalized(groups: 2, scale: $0[1], shift: $0[2], epsilon: 1e-5)
    },
    // composed
    GradCase(name: "normalize, composed reference", mutates: nil, shapes: [[3, 6]], inputs: .normal) {
        $0[0].normalizedRowsReference(length: 6, epsilon: 1e-5)
    },
    GradCase(name: "softmax", mutates: nil, shapes: [[3, 5]], inputs: .normal) { $0[0].softmax(axis: -1) },
    GradCase(name: "softmax axis 0", mutates: nil, shapes: [[4, 3]], inputs: .normal) { $0[0].softmax(axis: 0) },
    GradCase(name: "logSoftmax", mutates: nil, shapes: [[3, 5]], inputs: .normal) { $0[0].logSoftmax(axis: -1) },
    GradCase(name: "mse", mutates: nil, shapes: [[4, 3], [4, 3]], inputs: .normal) { $0[0].mse($0[1]) },
]

@Suite("Gradient checks")
struct GradientCheckTests {
    @Test("backward matches central differences", arguments: gradCases)
    func matchesFiniteDifferences(_ c: GradCase) {
        for seed in [1, 2, 3] as [UInt64] {
            let result = gradientCheck(c.makeInputs(seed: seed), seed: seed + 100, c.f)
            #expect(result.passes(), "\(c.name) seed \(seed): \(result)")
        }
    }

    @Test("a backward scaled by 1.01 fails its check", arguments: gradCases.filter { $0.mutates != nil })
    func mutationIsCaught(_ c: GradCase) {
        GradMode.$mutation.withValue((c.mutates!, 1.01)) {
            let result = gradientCheck(c.makeInputs(seed: 1), seed: 101, c.f)
            #expect(!result.passes(), "\(c.name): a 1 % error in the backward of \(c.mutates!) went unnoticed: \(result)")
        }
    }

    @Test("every primitive op is in the table")
    func everyPrimitiveCovered() {
        let primitives = ["neg", "exp", "log", "sqrt", "pow", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "silu", "gelu",
                          "add", "sub", "mul", "div", "sum", "max", "expand", "reshape", "permute", "slice", "concat",
                          "gather", "matmul", "conv2d", "avgPool2x2", "upsampleNearest2x", "normalize"]
        let covered = Set(gradCases.compactMap(\.mutates))
        #expect(Set(primitives).subtracting(covered).isEmpty, "missing: \(Set(primitives).subtracting(covered))")
    }

    @Test("gradients accumulate across backward calls until zeroed")
    func accumulation() {
        let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        (x * x).sum().backward()
        (x * x).sum().backward()
        // d/dx Σx² = 2x, twice: 4x = [4, 8, 12]
        #expect(x.grad?.data == [4, 8, 12])
        x.zeroGrad()
        (x * 3).sum().backward()
        #expect(x.grad?.data == [3, 3, 3])
    }

    @Test("nothing is recorded without gradients")
    func noGradMode() {
        let x = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = withoutGradients { (x * x).sum() }
        #expect(y.node == nil && !y.requiresGrad)
        let z = (x * x).sum()
        #expect(z.node?.op == "sum")
    }
}

/// A single partial derivative off by 1 %: the kind of bug (an index off by one at an edge, a
/// border pixel's missing term) that a scaled-whole-backward mutation does not model.
struct ElementMutationCase: CustomTestStringConvertible, Sendable {
    let gradCase: String  // a row of `gradCases`
    let input: Int
    /// The element to corrupt; nil: the one whose *numerical* partial is largest in magnitude.
    let element: Int?
    var testDescription: String { "\(gradCase), input \(input), element \(element.map(String.init) ?? "largest")" }
}

extension GradientCheckTests {
    @Test("one element of one gradient off by 1 %: the elementwise check fails exactly that element", arguments: [
        ElementMutationCase(gradCase: "matmul 2-D", input: 1, element: nil),
        ElementMutationCase(gradCase: "conv2d 3x3 pad 1", input: 1, element: nil),
        ElementMutationCase(gradCase: "conv2d 3x3 pad 1", input: 0, element: 0),  // a corner pixel: fewest terms
        ElementMutationCase(gradCase: "normalize (group norm runs)", input: 0, element: nil),
        ElementMutationCase(gradCase: "gelu", input: 0, element: 3),
    ])
    func singleElementMutationIsCaught(_ m: ElementMutationCase) throws {
        let c = try #require(gradCases.first { $0.name == m.gradCase })
        let inputs = c.makeInputs(seed: 1)
        let clean = elementwiseGradientCheck(inputs, seed: 101, c.f)
        #expect(clean.allSatisfy { $0.result.passes() }, "\(c.name): \(clean.filter { !$0.result.passes() })")

        // An element whose partial is at least 10 % of the largest, so 1 % of it is 1 % in the check.
        let partials = clean.filter { $0.input == m.input }.map { Swift.abs($0.result.numerical) }
        let element = m.element ?? partials.firstIndex(of: partials.max()!)!
        #expect(partials[element] >= 0.1 * partials.max()!)
        let mutation = ElementMutation(op: c.mutates!, input: m.input, element: element, factor: 1.01)
        let (checks, directional) = GradMode.$elementMutation.withValue(mutation) {
            (elementwiseGradientCheck(inputs, seed: 101, c.f), gradientCheck(inputs, seed: 101, c.f))
        }
        let failing = checks.filter { !$0.result.passes() }
        let note = "one random direction over all elements gave \(directional)"
        #expect(failing.map { [$0.input, $0.element] } == [[m.input, element]],
                "\(c.name): expected only input \(m.input) element \(element) to fail; failing: \(failing); \(note)")
    }
}
