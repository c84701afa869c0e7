// Gradient checks of a whole small model, one parameter tensor at a time, tight enough that a
// backward off by 1 % in any ONE layer fails the checks of that layer's parameters (and of every
// layer before it, whose gradients flow through it), while the layers after it still pass.

import Testing
@testable import NN
import Tensor

/// Conv2d → GroupNorm → SiLU → Linear → multi-head self-attention over the pixels:
/// `[B, 3, 4, 4] -> [B, 8, 4, 4] -> [B, 16, 8] -> [B, 16, 8]`. Small, but every layer kind a
/// diffusion UNet is built from, in the order gradients must flow back through.
struct TinyModel: Module {
    let conv: Conv2d, norm: GroupNorm, linear: Linear, attention: MultiHeadAttention

    init(using rng: inout RandomGenerator) {
        conv = Conv2d(3, 8, kernelSize: 3, padding: 1, using: &rng)
        norm = GroupNorm(groups: 2, channels: 8)
        linear = Linear(8, 8, using: &rng)
        attention = MultiHeadAttention(dim: 8, heads: 2, using: &rng)
        // Every parameter random (GroupNorm starts at γ = 1, β = 0, which hides a swapped γ/β).
        for p in parameters { p.data = Tensor.randn(p.shape, using: &rng).data.map { $0 * 0.5 } }
    }

    var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("conv", conv) + scoped("norm", norm) + scoped("linear", linear) + scoped("attention", attention)
    }

    /// The layers in forward order, the names `callAsFunction(_:corrupting:)` accepts.
    static let layers = ["conv", "norm", "linear", "attention"]

    /// `corrupting`: a layer whose backward is scaled by 1.01 (the gradient leaving it, to its
    /// parameters and to its input alike), for the tests that prove the check notices.
    func callAsFunction(_ x: Tensor, corrupting layer: String? = nil) -> Tensor {
        func mark(_ name: String, _ t: Tensor) -> Tensor { name == layer ? scaleGradient(t, by: 1.01) : t }
        let b = x.shape[0]
        var h = mark("conv", conv(x))                                  // [B, 3, 4, 4] -> [B, 8, 4, 4]
        h = mark("norm", norm(h)).silu()
        let tokens = h.reshaped([b, 8, 16]).permuted([0, 2, 1])        // [B, 8, 4·4] -> [B, 16, 8]
        return mark("attention", attention(mark("linear", linear(tokens))))  // [B, 16, 8]
    }
}

/// The identity forward, k × the gradient backward: y = k·x − (k − 1)·x with the second term
/// detached. (In Float, k·x − (k − 1)·x is x up to a rounding, the same rounding on both sides
/// of a central difference.)
func scaleGradient(_ x: Tensor, by k: Float) -> Tensor { x * k - (x * (k - 1)).detached() }

@Suite("Model gradient checks, per parameter tensor")
struct ModelGradientCheckTests {
    static func setUp() -> (TinyModel, Tensor) {
        var rng = RandomGenerator(seed: 7)
        let model = TinyModel(using: &rng)
        return (model, Tensor.randn([2, 3, 4, 4], using: &rng))
    }

    @Test("every parameter tensor of Conv2d → GroupNorm → SiLU → Linear → attention matches central differences to 2e-3")
    func allTensorsPass() {
        let (model, x) = Self.setUp()
        for seed in [1, 2] as [UInt64] {
            let results = parameterGradientCheck(model.parameters, seed: seed) { model(x) }
            for ((name, _), r) in zip(model.namedParameters, results) {
                #expect(r.passes(), "seed \(seed), \(name): \(r)")
            }
        }
    }

    @Test("a backward off by 1 % in one layer fails that layer's tensors and those before it; later ones pass",
          arguments: TinyModel.layers)
    func oneLayerOffByOnePercent(_ layer: String) {
        let (model, x) = Self.setUp()
        let results = parameterGradientCheck(model.parameters, seed: 1) { model(x, corrupting: layer) }
        let upTo = TinyModel.layers.firstIndex(of: layer)!
        var layerFailures = 0
        for ((name, _), r) in zip(model.namedParameters, results) {
            let owner = TinyModel.layers.firstIndex { name.hasPrefix($0 + ".") }!
            if owner == upTo && !r.passes() { layerFailures += 1 }
            if owner > upTo {
                #expect(r.passes(), "\(layer) corrupted, \(name) is after it and should pass: \(r)")
            } else if Swift.abs(r.numerical) >= 2 * r.floor {
                // Measured well above the floor, 1 % of it is a relative error of 1 %, five times the tolerance.
                #expect(!r.passes(), "\(layer) corrupted, yet \(name) passes: \(r)")
            }
        }
        #expect(layerFailures > 0, "no tensor of \(layer) failed")
    }

    @Test("one primitive off by 1 % inside a layer (attention's exp, in its softmax): the query and key weights fail, the values and output after it pass")
    func primitiveInsideLayer() {
        let (model, x) = Self.setUp()
        let results = GradMode.$mutation.withValue(("exp", 1.01)) {
            parameterGradientCheck(model.parameters, seed: 1) { model(x) }
        }
        for ((name, _), r) in zip(model.namedParameters, results) {
            // The values and the output projection act on the softmax's result (its weights times V),
            // so their gradients do not pass through exp; the query and key weights' gradients pass
            // through nothing else. (Tensors before the attention get part of their gradient through
            // the values, so how much 1 % in exp shows in theirs depends on the model.)
            if name.hasPrefix("attention.value.") || name.hasPrefix("attention.output.") {
                #expect(r.passes(), "\(name) does not depend on exp's backward, yet fails: \(r)")
            } else if name == "attention.query.weight" || name == "attention.key.weight" {
                #expect(!r.passes(), "exp corrupted, yet \(name) passes: \(r)")
            }
        }
    }

    @Test("the check leaves parameters and their gradients as it found them")
    func leavesModelUntouched() {
        let (model, x) = Self.setUp()
        (model(x) * model(x)).sum().backward()
        let data = model.parameters.map { $0.data.map(\.bitPattern) }
        let grads = model.parameters.map { $0.grad!.data.map(\.bitPattern) }
        _ = parameterGradientCheck(model.parameters, seed: 3) { model(x) }
        #expect(model.parameters.map { $0.data.map(\.bitPattern) } == data)
        #expect(model.parameters.map { $0.grad!.data.map(\.bitPattern) } == grads)
    }
}
