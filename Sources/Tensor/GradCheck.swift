// Checking a gradient against finite differences: the test every op in this package passes.

/// The outcome of comparing an analytic gradient with a numerical one.
public struct GradCheckResult: CustomStringConvertible {
    /// ⟨∇f, v⟩ from backward().
    public let analytic: Double
    /// (f(x + h·v) − f(x − h·v)) / 2h, with f summed in Double.
    public let numerical: Double
    /// |analytic − numerical| / max(|analytic|, |numerical|, 10⁻⁴): relative, with a floor so two
    /// values that are both ~0 (within Float noise) count as equal.
    public var relativeError: Double {
        Swift.abs(analytic - numerical) / Swift.max(Swift.abs(analytic), Swift.abs(numerical), 1e-4)
    }
    public func passes(tolerance: Double = 2e-3) -> Bool { relativeError <= tolerance }
    public var description: String {
        "analytic \(analytic), numerical \(numerical), relative error \(relativeError)"
    }
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
        let y = withoutGradients { f(moved) }
        var total = 0.0
        for i in 0..<y.count { total += Double(y.data[i]) * Double(w.data[i]) }
        return total
    }
    let numerical = (s(1) - s(-1)) / (2 * Double(h))
    return GradCheckResult(analytic: analytic, numerical: numerical)
}
