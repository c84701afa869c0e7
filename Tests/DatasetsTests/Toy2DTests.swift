// The 2-D toy distributions: standardised, seeded, and shaped as documented.

import Foundation
import Testing
import Datasets
import Tensor

@Suite("Toy 2-D datasets")
struct Toy2DTests {
    @Test("standardised: mean ≈ 0 and variance ≈ 1 per coordinate", arguments: Toy2D.allCases)
    func standardised(_ set: Toy2D) {
        var rng = RandomGenerator(seed: 7)
        let points = set.sample(20_000, using: &rng)
        #expect(points.shape == [20_000, 2])
        for k in 0..<2 {
            let v = stride(from: k, to: points.count, by: 2).map { Double(points.data[$0]) }
            let mean = v.reduce(0, +) / Double(v.count)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
            // Sampling error for 20,000 points: sd 0.007 for the mean, ~0.01–0.02 for the variance.
            #expect(Swift.abs(mean) < 0.04, "\(set) coordinate \(k) mean \(mean)")
            #expect(Swift.abs(variance - 1) < 0.06, "\(set) coordinate \(k) variance \(variance)")
        }
    }

    @Test("the same seed gives the same points; another seed different ones", arguments: Toy2D.allCases)
    func seeded(_ set: Toy2D) {
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1), c = RandomGenerator(seed: 2)
        let x = set.sample(100, using: &a)
        #expect(x.data == set.sample(100, using: &b).data)
        #expect(x.data != set.sample(100, using: &c).data)
    }

    @Test("rings: raw radii at 1 (two thirds of the points) and 0.5 (one third)")
    func rings() {
        var rng = RandomGenerator(seed: 3)
        let radii = (0..<6000).map { _ -> Double in let (x, y) = Toy2D.rings.rawPoint(using: &rng); return (x * x + y * y).squareRoot() }
        // Jitter sd 0.04 per coordinate: a point lies within 0.2 (5 sd) of its ring.
        #expect(radii.allSatisfy { Swift.abs($0 - 1) < 0.2 || Swift.abs($0 - 0.5) < 0.2 })
        let outer = Double(radii.filter { $0 > 0.75 }.count) / 6000
        #expect(Swift.abs(outer - 2.0 / 3.0) < 0.03, "outer share \(outer)")  // binomial sd 0.006
    }

    @Test("moons: every raw point lies near one of the two half circles")
    func moons() {
        var rng = RandomGenerator(seed: 4)
        for _ in 0..<3000 {
            let (x, y) = Toy2D.moons.rawPoint(using: &rng)
            // Distance to the upper half circle (centre (0, 0)) and the lower one (centre (1, 0.5)),
            // each of radius 1; jitter sd 0.06, so within 0.35 (≈ 6 sd in 2-D).
            let upper = Swift.abs((x * x + y * y).squareRoot() - 1)
            let lower = Swift.abs(((x - 1) * (x - 1) + (y - 0.5) * (y - 0.5)).squareRoot() - 1)
            #expect(min(upper, lower) < 0.35, "(\(x), \(y))")
        }
    }

    @Test("spiral: raw radius grows with the angle, r = θ/(4.5π) for θ in [π/2, 4.5π]")
    func spiral() {
        var rng = RandomGenerator(seed: 5)
        let radii = (0..<3000).map { _ -> Double in let (x, y) = Toy2D.spiral.rawPoint(using: &rng); return (x * x + y * y).squareRoot() }
        // r spans 1/9 … 1; with jitter 0.03 nothing falls below 0 or far above 1.
        #expect(radii.allSatisfy { $0 < 1.2 })
        #expect(radii.max()! > 0.9 && radii.min()! < 0.2)
    }
}
