// Layers: values that list their parameters and are called like functions.
//
// A layer is a struct holding its parameter tensors (shared references: the optimizer updates
// them in place through `data`). `namedParameters` lists them with PyTorch-style dotted names
// ("down.0.conv1.weight"), which is what checkpoints store and what `parameterCount` counts.

import Tensor

/// Anything that owns parameters.
public protocol Module {
    /// Every trainable tensor, named relative to this module ("weight", "conv1.bias").
    var namedParameters: [(name: String, tensor: Tensor)] { get }
}

/// A module that maps one tensor to one tensor: `y = layer(x)`.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

extension Module {
    /// The parameters without their names, e.g. for an optimizer.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }
    /// Total number of trainable numbers.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Prefixes child parameter names: `scoped("conv1", conv1)` gives "conv1.weight", "conv1.bias".
public func scoped(_ prefix: String, _ module: Module) -> [(name: String, tensor: Tensor)] {
    module.namedParameters.map { (prefix + "." + $0.name, $0.tensor) }
}

/// Weight initialisers. PyTorch's default for Linear and Conv2d is U(−1/√fanIn, 1/√fanIn) for
/// both weight and bias (kaiming_uniform with a = √5 works out to exactly this bound).
public enum Initializer {
    case uniformFanIn(Int)
    case normal(std: Float)
    case zeros

    public func make(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        switch self {
        case .uniformFanIn(let fanIn):
            let bound = 1 / Float(fanIn).squareRoot()
            return Tensor.uniform(shape, in: -bound...bound, using: &rng, requiresGrad: true)
        case .normal(let std):
            return (Tensor.randn(shape, using: &rng) * std).detached().requiringGrad()
        case .zeros: return Tensor.zeros(shape, requiresGrad: true)
        }
    }
}

/// y = x·Wᵀ + b, over the last axis: `[..., in] -> [..., out]`. Weight `[out, in]` as in PyTorch.
public struct Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using rng: inout RandomGenerator) {
        weight = Initializer.uniformFanIn(inFeatures).make([outFeatures, inFeatures], using: &rng)
        self.bias = bias ? Initializer.uniformFanIn(inFeatures).make([outFeatures], using: &rng) : nil
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = x.matmul(weight, transposeOther: true)  // [..., in] · [out, in]ᵀ -> [..., out]
        return bias.map { y + $0 } ?? y
    }
}

/// 2-D convolution with bias: `[N, Cin, H, W] -> [N, Cout, H', W']`. Weight `[Cout, Cin, k, k]`.
public struct Conv2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, using rng: inout RandomGenerator) {
        let fanIn = inChannels * kernelSize * kernelSize
        weight = Initializer.uniformFanIn(fanIn).make([outChannels, inChannels, kernelSize, kernelSize], using: &rng)
        self.bias = bias ? Initializer.uniformFanIn(fanIn).make([outChannels], using: &rng) : nil
        self.stride = stride
        self.padding = padding
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding)  // the bias added as the output is stored
    }
}

/// Group normalisation (Wu & He 2018): channels split into `groups`; each group of each
/// example is normalised to mean 0, variance 1 over its channels and pixels, then scaled and
/// shifted per channel:
/// ```
/// y = (x − μ_g) / √(σ²_g + ε) · γ_c + β_c
/// ```
/// Independent of batch size, which is why diffusion UNets use it instead of batch norm.
public struct GroupNorm: Layer {
    public let groups: Int
    public let epsilon: Float
    public let weight: Tensor  // γ, [C], starts at 1
    public let bias: Tensor    // β, [C], starts at 0

    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) {
        guard channels % groups == 0 else {
            fatalError("GroupNorm: \(channels) channels cannot be split into \(groups) groups")
        }
        self.groups = groups
        self.epsilon = epsilon
        weight = Tensor.ones([channels], requiresGrad: true)
        bias = Tensor.zeros([channels], requiresGrad: true)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard x.rank >= 2, x.shape[1] == weight.count else {
            fatalError("GroupNorm: expected [N, \(weight.count), ...], got \(x.shape)")
        }
        let c = x.shape[1]
        return Profiler.scope("normalisation") {
            // The fused op for images (the same numbers as the lines below, fewer passes over memory).
            if x.rank == 4 { return x.groupNormalized(groups: groups, scale: weight, shift: bias, epsilon: epsilon) }
            // Each example's group of C/G channels is one contiguous run of C/G·H·W elements.
            let normalized = x.normalizedRows(length: x.count / (x.shape[0] * groups), epsilon: epsilon)
            var channelShape = [Int](repeating: 1, count: x.rank)
            channelShape[1] = c                                       // [C] -> [1, C, 1, 1]
            return normalized * weight.reshaped(channelShape) + bias.reshaped(channelShape)
        }
    }
}

/// Layer normalisation (Ba et al. 2016) over the last axis, with per-feature scale and shift.
public struct LayerNorm: Layer {
    public let epsilon: Float
    public let weight: Tensor
    public let bias: Tensor

    public init(_ features: Int, epsilon: Float = 1e-5) {
        self.epsilon = epsilon
        weight = Tensor.ones([features], requiresGrad: true)
        bias = Tensor.zeros([features], requiresGrad: true)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard x.shape.last == weight.count else { fatalError("LayerNorm: expected last axis \(weight.count), got \(x.shape)") }
        return Profiler.scope("normalisation") { x.normalizedRows(length: weight.count, epsilon: epsilon) * weight + bias }
    }
}

/// A lookup table: token id -> learned vector. `[count, dim]`, initialised N(0, 1) as in PyTorch.
public struct Embedding: Module {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int, using rng: inout RandomGenerator) {
        weight = Initializer.normal(std: 1).make([count, dim], using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    /// ids of shape `idsShape` (e.g. [B, L]) -> `[..., dim]`.
    public func callAsFunction(_ ids: [Int], shape idsShape: [Int]? = nil) -> Tensor {
        for id in ids where id < 0 || id >= weight.shape[0] {
            fatalError("Embedding: id \(id) out of range 0..<\(weight.shape[0])")
        }
        let rows = weight.gather(rows: ids)
        return rows.reshaped((idsShape ?? [ids.count]) + [weight.shape[1]])
    }
}

public struct SiLU: Layer {
    public init() {}
    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.silu() }
}

public struct GELU: Layer {
    public init() {}
    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.gelu() }
}

/// Layers applied in order; parameters named by position ("0.weight", "2.bias") as in PyTorch.
public struct Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { scoped(String($0.offset), $0.element) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}
