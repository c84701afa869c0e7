// Checking a gradient against finite differences: the test every op in this package passes.
//
// Three checks, from coarse to fine, all comparing backward() with a central difference
// (f(x + h·v) − f(x − h·v)) / 2h whose f is summed in Double:
//   gradientCheck             one random direction v over all inputs at once: every op's test;
//   parameterGradientCheck    one random direction per parameter tensor of a model, the others
//                             held still: tells which tensor's gradient is wrong;
//   elementwiseGradientCheck  one coordinate at a time: catches a single wrong partial derivative.

/// The outcome of comparing an analytic gradient with a numerical one.
public struct GradCheckResult: CustomStringConvertible {
    /// ⟨∇f, v⟩ from backward().
    public let analytic: Double
    /// (f(x + h·v) − f(x − h·v)) / 2h, with f summed in Double.
    public let numerical: Double
    /// Below this size a difference is judged against `floor` instead of the values themselves.
    public let floor: Double

    public init(analytic: Double, numerical: Double, floor: Double = 1e-4) {
        self.analytic = analytic
        self.numerical = numerical
        self.floor = floor
    }

    /// |analytic − numerical| / max(|analytic|, |numerical|, floor): relative, with a floor so two
    /// values that are both ~0 (within Float noise) count as equal.
    public var relativeError: Double {
        Swift.abs(analytic - numerical) / Swift.max(Swift.abs(analytic), Swift.abs(numerical), floor)
    }
    public func passes(tolerance: Double = 2e-3) -> Bool { relativeError <= tolerance }
    public var description: String {
        "analytic \(analytic), numerical \(numerical), relative error \(relativeError)"
    }
}

/// Σ_i w_i·y_i in Double: the scalar S every check differentiates.
private func weightedSum(_ y: Tensor, _ w: Tensor) -> Double {
    var total = 0.0
    for i in 0..<y.count { total += Double(y.data[i]) * Double(w.data[i]) }
    return total
}

/// Compares backward() with a central difference along one random direction.
///
/// For a function f of the `inputs` (any output shape), we check the scalar
/// S(x) = Σ_i w_i·f(x)_i with fixed random weights w, along a random direction v
/// (one v_j per input, same shapes):
/// ```
/// analytic  = Σ_j ⟨∂S/∂x_j, v_j⟩                      (from backward, seeded with w)
/// numerical = (S(x + h·v) − S(x − h·v)) / 2h            (error O(h²))
/// ```
/// One direction tests every gradient entry at once, weighted by v. S is summed in Double so
/// the subtraction does not lose the difference. Keep inputs away from kinks (|x| near 0 for
/// relu/abs) so a step of h does not cross one.
public func gradientCheck(_ inputs: [Tensor], h: Float = 1e-2, seed: UInt64 = 1,
                          _ f: ([Tensor]) -> Tensor) -> GradCheckResult {
    var rng = RandomGenerator(seed: seed)
    let leaves = inputs.map { Tensor($0.data, shape: $0.shape, requiresGrad: true) }
    let out = f(leaves)
    let w = Tensor.randn(out.shape, using: &rng)
    let directions = inputs.map { Tensor.randn($0.shape, using: &rng) }
    out.backward(seed: w)
    var analytic = 0.0
    for (leaf, v) in zip(leaves, directions) {
        guard let g = leaf.grad else { continue }
        for i in 0..<v.count { analytic += Double(g.data[i]) * Double(v.data[i]) }
    }
    func s(_ sign: Float) -> Double {
        let moved = zip(inputs, directions).map { x, v in
            Tensor(zip(x.data, v.data).map { $0 + sign * h * $1 }, shape: x.shape)
        }
        return weightedSum(withoutGradients { f(moved) }, w)
    }
    let numerical = (s(1) - s(-1)) / (2 * Double(h))
    return GradCheckResult(analytic: analytic, numerical: numerical)
}

/// Checks a model's gradient one parameter tensor at a time: for each tensor p_k, a random
/// direction v_k moves p_k alone while every other parameter stays put,
/// ```
/// analytic_k  = ⟨∂S/∂p_k, v_k⟩                              (one backward for all k)
/// numerical_k = (S(p_k + h·v_k) − S(p_k − h·v_k)) / 2h       (two forwards per k)
/// ```
/// with S = Σ_i w_i·f()_i summed in Double. A gradient that is wrong for one tensor fails that
/// tensor's check however many other tensors the model has, which one direction over all of them
/// would dilute. `f` computes with the `parameters` (tensors that require gradients); they are
/// moved in place and restored bit-for-bit, and their `grad` is left as it was found.
/// Returns one result per parameter, in order.
///
/// The Float rounding in S is the same size for every tensor, so each result is judged relative
/// to max(|its own values|, 1 % of the largest |numerical_k|): a tensor whose derivative along
/// v_k is under 1 % of the model's largest (a key bias, which softmax ignores, has exactly 0) is
/// checked to that absolute accuracy instead of failing on noise.
public func parameterGradientCheck(_ parameters: [Tensor], h: Float = 1e-2, seed: UInt64 = 1,
                                   _ f: () -> Tensor) -> [GradCheckResult] {
    var rng = RandomGenerator(seed: seed)
    let savedGrads = parameters.map(\.grad)
    defer { for (p, g) in zip(parameters, savedGrads) { p.grad = g } }
    for p in parameters { p.grad = nil }
    let out = f()
    let w = Tensor.randn(out.shape, using: &rng)
    out.backward(seed: w)
    let raw = parameters.map { p in
        let v = Tensor.randn(p.shape, using: &rng)
        var analytic = 0.0
        if let g = p.grad {
            for i in 0..<p.count { analytic += Double(g.data[i]) * Double(v.data[i]) }
        }
        let original = p.data
        defer { p.data = original }
        func s(_ sign: Float) -> Double {
            p.data = zip(original, v.data).map { $0 + sign * h * $1 }
            return weightedSum(withoutGradients { f() }, w)
        }
        return (analytic, (s(1) - s(-1)) / (2 * Double(h)))
    }
    let floor = Swift.max(0.01 * (raw.map { Swift.abs($0.1) }.max() ?? 0), 1e-4)
    return raw.map { GradCheckResult(analytic: $0.0, numerical: $0.1, floor: floor) }
}

/// One coordinate of `elementwiseGradientCheck`: input number `input`, flat index `element`.
public struct ElementGradCheck: CustomStringConvertible {
    public let input: Int
    public let element: Int
    public let result: GradCheckResult
    public var description: String { "input \(input) element \(element): \(result)" }
}

/// Checks every partial derivative on its own: for each element e of each input,
/// ```
/// analytic  = ∂S/∂x[e]                                  (one backward for all e)
/// numerical = (S(x + h·1_e) − S(x − h·1_e)) / 2h         (two forwards per element)
/// ```
/// with S = Σ_i w_i·f(x)_i summed in Double. Costs two forward passes per element, so it is for
/// small inputs; it catches a single wrong partial derivative, which one random direction over
/// n elements sees diluted about √n times. Float noise in S is about the same for every element,
/// so each element is judged relative to max(|its own value|, 10 % of the largest |partial| of
/// its input): a partial under a tenth of the largest is checked to that absolute accuracy.
public func elementwiseGradientCheck(_ inputs: [Tensor], h: Float = 1e-2, seed: UInt64 = 1,
                                     _ f: ([Tensor]) -> Tensor) -> [ElementGradCheck] {
    var rng = RandomGenerator(seed: seed)
    let leaves = inputs.map { Tensor($0.data, shape: $0.shape, requiresGrad: true) }
    let out = f(leaves)
    let w = Tensor.randn(out.shape, using: &rng)
    out.backward(seed: w)
    var checks: [ElementGradCheck] = []
    for (j, x) in inputs.enumerated() {
        let g = leaves[j].grad?.data ?? [Float](repeating: 0, count: x.count)
        var numerical: [Double] = []
        for e in 0..<x.count {
            func s(_ sign: Float) -> Double {
                var moved = inputs
                var data = x.data
                data[e] += sign * h
                moved[j] = Tensor(data, shape: x.shape)
                return weightedSum(withoutGradients { f(moved) }, w)
            }
            numerical.append((s(1) - s(-1)) / (2 * Double(h)))
        }
        let floor = Swift.max(0.1 * (numerical.map { Swift.abs($0) }.max() ?? 0), 1e-4)
        for e in 0..<x.count {
            checks.append(ElementGradCheck(input: j, element: e,
                                           result: GradCheckResult(analytic: Double(g[e]), numerical: numerical[e], floor: floor)))
        }
    }
    return checks
}
