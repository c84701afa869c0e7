// `unlistedTrainableTensors`: every NN layer lists all it trains, and a module that forgets a
// parameter — directly, inside an optional, inside an array of `any Layer` — is caught by path.

import Testing
@testable import NN
import Tensor

/// A block that forgets its gate: `gate` takes part in the forward pass but not in `namedParameters`.
struct ForgetfulBlock: Layer {
    let projection: Linear
    let gate: Tensor  // [out], trainable
    let buffer: Tensor  // a fixed table, not trainable: must not be reported

    init(_ n: Int, using rng: inout RandomGenerator) {
        projection = Linear(n, n, using: &rng)
        gate = Tensor.ones([n], requiresGrad: true)
        buffer = Tensor.zeros([n])
    }

    var namedParameters: [(name: String, tensor: Tensor)] { scoped("projection", projection) }
    func callAsFunction(_ x: Tensor) -> Tensor { projection(x) * gate + buffer }
}

/// A stack that forgets its optional head, and holds a forgetful block among `any Layer`s.
struct ForgetfulStack: Module {
    let layers: [any Layer]
    let head: Linear?
    let tied: Tensor  // the first layer's weight stored a second time: listed, so not reported

    init(using rng: inout RandomGenerator) {
        let first = Linear(4, 4, using: &rng)
        layers = [first, SiLU(), ForgetfulBlock(4, using: &rng)]
        head = Linear(4, 2, using: &rng)
        tied = first.weight
    }

    var namedParameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { scoped("layers.\($0.offset)", $0.element) }
    }
}

/// A class-based module holding a dictionary of layers, listed correctly.
final class Registry: Module {
    let blocks: [String: Linear]
    init(using rng: inout RandomGenerator) { blocks = ["a": Linear(2, 2, using: &rng), "b": Linear(2, 3, using: &rng)] }
    var namedParameters: [(name: String, tensor: Tensor)] {
        blocks.keys.sorted().flatMap { scoped($0, blocks[$0]!) }
    }
}

@Suite("Parameter audit")
struct ParameterAuditTests {
    @Test("every NN layer lists every trainable tensor it holds")
    func everyLayerIsComplete() {
        var rng = RandomGenerator(seed: 1)
        let modules: [(String, Module)] = [
            ("Linear", Linear(3, 4, using: &rng)),
            ("Linear without bias", Linear(3, 4, bias: false, using: &rng)),
            ("Conv2d", Conv2d(3, 4, kernelSize: 3, padding: 1, using: &rng)),
            ("Conv2d without bias", Conv2d(3, 4, kernelSize: 1, bias: false, using: &rng)),
            ("GroupNorm", GroupNorm(groups: 2, channels: 4)),
            ("LayerNorm", LayerNorm(4)),
            ("Embedding", Embedding(10, 4, using: &rng)),
            ("MultiHeadAttention (self)", MultiHeadAttention(dim: 8, heads: 2, using: &rng)),
            ("MultiHeadAttention (cross)", MultiHeadAttention(dim: 8, heads: 2, contextDim: 6, using: &rng)),
            ("Sequential", Sequential([Linear(3, 8, using: &rng), SiLU(), Conv2d(8, 8, kernelSize: 1, using: &rng), GELU(),
                                       Sequential([LayerNorm(8), Linear(8, 2, using: &rng)])])),
            ("a class holding a dictionary", Registry(using: &rng)),
        ]
        for (name, module) in modules {
            #expect(!module.parameters.isEmpty, "\(name) lists no parameters")
            #expect(unlistedTrainableTensors(of: module) == [], "\(name)")
        }
    }

    @Test("a forgotten tensor is found by path: directly, through an optional, through `any Layer` in an array")
    func forgottenTensorsAreFound() {
        var rng = RandomGenerator(seed: 2)
        #expect(unlistedTrainableTensors(of: ForgetfulBlock(4, using: &rng)) == ["gate"])
        #expect(unlistedTrainableTensors(of: ForgetfulStack(using: &rng)) == ["layers[2].gate", "head.weight", "head.bias"])
        // The same block inside the library's Sequential, which trusts each layer's own list.
        #expect(unlistedTrainableTensors(of: Sequential([SiLU(), ForgetfulBlock(3, using: &rng)])) == ["layers[1].gate"])
    }

    @Test("a forgotten gate really is missed by the optimizer (what the audit protects against)")
    func forgottenTensorDoesNotTrain() {
        var rng = RandomGenerator(seed: 3)
        let block = ForgetfulBlock(3, using: &rng)
        let optimizer = SGD(block.parameters, learningRate: 0.1)
        let before = block.gate.data
        let x = Tensor.randn([5, 3], using: &rng)
        block(x).pow(2).mean().backward()
        optimizer.step()
        #expect(block.gate.grad != nil)       // backward reached it…
        #expect(block.gate.data == before)    // …but nothing updated it
    }
}
