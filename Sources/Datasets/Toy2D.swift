// Chapter 2 — the 2-D toy distributions a first diffusion model learns: two moons, a spiral and
// two concentric rings. Points are drawn with the package's seeded generator and standardised
// (zero mean, unit variance per coordinate), so a network sees inputs of the same size as the
// N(0, I) noise the forward process ends in.

import Foundation
import Tensor

/// A 2-D toy distribution. `sample(_:using:)` returns standardised points `[n, 2]`.
///
/// The raw shapes (before standardising), with Gaussian jitter of sd `noise` on each coordinate:
/// - **moons**: two interleaved half circles of radius 1 (scikit-learn's `make_moons`): the upper
///   (cos θ, sin θ) and the lower (1 − cos θ, 0.5 − sin θ), θ uniform in [0, π], half the points each.
/// - **spiral**: one arm, two turns: angle θ = π/2 + 4π·√u (u uniform, so points spread evenly
///   along the arm's length), radius r = θ/(4.5π), point r·(cos θ, sin θ).
/// - **rings**: circles of radius 1 and 0.5 around the origin; each point picks the outer ring with
///   probability 2/3 (the rings' share of the total length), so density along the curve is even.
///
/// Standardising uses each distribution's own mean and standard deviation, measured once on
/// 100,000 points of a fixed seed (`statistics`). Fresh samples are then zero-mean and unit
/// variance to within sampling error (about ±0.01 for 10,000 points).
public enum Toy2D: String, CaseIterable, Sendable {
    case moons, spiral, rings

    /// The Gaussian jitter added to the raw shape, in raw units.
    public var noise: Double {
        switch self {
        case .moons: return 0.06
        case .spiral: return 0.03
        case .rings: return 0.04
        }
    }

    /// One raw (unstandardised) point.
    public func rawPoint(using rng: inout RandomGenerator) -> (Double, Double) {
        let x: Double, y: Double
        switch self {
        case .moons:
            let theta = Double(rng.uniform()) * Double.pi
            if rng.uniform() < 0.5 {
                (x, y) = (cos(theta), sin(theta))
            } else {
                (x, y) = (1 - cos(theta), 0.5 - sin(theta))
            }
        case .spiral:
            let theta = Double.pi / 2 + 4 * Double.pi * Double(rng.uniform()).squareRoot()
            let r = theta / (4.5 * Double.pi)
            (x, y) = (r * cos(theta), r * sin(theta))
        case .rings:
            let radius = rng.uniform() < 2.0 / 3.0 ? 1.0 : 0.5
            let theta = Double(rng.uniform()) * 2 * Double.pi
            (x, y) = (radius * cos(theta), radius * sin(theta))
        }
        return (x + noise * Double(rng.normal()), y + noise * Double(rng.normal()))
    }

    /// `count` standardised points, `[count, 2]`.
    public func sample(_ count: Int, using rng: inout RandomGenerator) -> Tensor {
        let (mean, sd) = statistics
        var values = [Float](repeating: 0, count: 2 * count)
        for i in 0..<count {
            let (x, y) = rawPoint(using: &rng)
            values[2 * i] = Float((x - mean.0) / sd.0)
            values[2 * i + 1] = Float((y - mean.1) / sd.1)
        }
        return Tensor(values, shape: [count, 2])
    }

    /// The raw distribution's mean and standard deviation per coordinate, measured on 100,000
    /// points drawn with seed 2024 (computed once per process, in Double).
    public var statistics: (mean: (Double, Double), sd: (Double, Double)) {
        switch self {
        case .moons: return Toy2DStatistics.moons
        case .spiral: return Toy2DStatistics.spiral
        case .rings: return Toy2DStatistics.rings
        }
    }

    fileprivate func measureStatistics() -> (mean: (Double, Double), sd: (Double, Double)) {
        var rng = RandomGenerator(seed: 2024)
        let n = 100_000
        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0
        for _ in 0..<n {
            let (x, y) = rawPoint(using: &rng)
            sx += x; sy += y; sxx += x * x; syy += y * y
        }
        let mx = sx / Double(n), my = sy / Double(n)
        return ((mx, my), ((sxx / Double(n) - mx * mx).squareRoot(), (syy / Double(n) - my * my).squareRoot()))
    }
}

/// Lazily measured, once per process (static lets are initialised on first use, thread-safely).
private enum Toy2DStatistics {
    static let moons = Toy2D.moons.measureStatistics()
    static let spiral = Toy2D.spiral.measureStatistics()
    static let rings = Toy2D.rings.measureStatistics()
}
