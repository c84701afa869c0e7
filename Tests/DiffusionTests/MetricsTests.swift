// Pins the energy distance (V-statistic) on inputs small enough to work by hand.

import Testing
@testable import Diffusion
import Tensor

@Suite("Energy distance")
struct MetricsTests {
    @Test("one point each: 2·‖x − y‖")
    func single() {
        // X = {(0, 0)}, Y = {(3, 4)}: 2·5 − 0 − 0 = 10.
        #expect(energyDistance(Tensor([0, 0], shape: [1, 2]), Tensor([3, 4], shape: [1, 2])) == 10)
    }

    @Test("pairs include i = j (V-statistic), by hand in 1-D")
    func vStatistic() {
        // X = {0, 2}, Y = {1}: E|X − Y| = (1 + 1)/2 = 1; E|X − X′| over all 4 pairs = (0 + 2 + 2 + 0)/4 = 1;
        // E|Y − Y′| = 0. D² = 2·1 − 1 − 0 = 1. (A U-statistic, leaving out i = j, would give 2 − 2 − 0 = 0.)
        #expect(Swift.abs(energyDistance(Tensor([0, 2], shape: [2, 1]), Tensor([1], shape: [1, 1])) - 1) < 1e-12)
        // A sample against itself: 2·1 − 1 − 1 = 0. Symmetric: D²(Y, X) = D²(X, Y).
        #expect(energyDistance(Tensor([0, 2], shape: [2, 1]), Tensor([0, 2], shape: [2, 1])) == 0)
        #expect(energyDistance(Tensor([1], shape: [1, 1]), Tensor([0, 2], shape: [2, 1]))
                == energyDistance(Tensor([0, 2], shape: [2, 1]), Tensor([1], shape: [1, 1])))
    }

    @Test("standardised by the data's statistics, by hand")
    func standardised() {
        // Data {(0, 0), (2, 2)}: mean (1, 1), population sd (1, 1), so it becomes {(−1, −1), (1, 1)};
        // the sample (1, 1) becomes (0, 0). E‖X − Y‖ = √2; E‖Y − Y′‖ = (0 + 2√2 + 2√2 + 0)/4 = √2;
        // E‖X − X′‖ = 0. D² = 2√2 − 0 − √2 = √2 = 1.4142136.
        let d = energyDistance(Tensor([1, 1], shape: [1, 2]), toData: Tensor([0, 0, 2, 2], shape: [2, 2]))
        #expect(Swift.abs(d - 2.0.squareRoot()) < 1e-6)
        // Scaling everything by 10 changes nothing.
        let scaled = energyDistance(Tensor([10, 10], shape: [1, 2]), toData: Tensor([0, 0, 20, 20], shape: [2, 2]))
        #expect(Swift.abs(scaled - d) < 1e-6)
    }

    @Test("edge energy: by hand on a 2×3 image, 0 on a flat one, and a 3-tap blur of a step edge lowers it")
    func edgeEnergyByHand() {
        // [[0, 1, 3], [2, 2, 2]]: horizontal pairs (1, 4, 0, 0), vertical pairs (4, 1, 1) → 11 over 7 pairs.
        #expect(abs(edgeEnergy(Tensor([0, 1, 3, 2, 2, 2], shape: [1, 1, 2, 3])) - 11.0 / 7) < 1e-12)
        #expect(edgeEnergy(Tensor(repeating: 0.3, shape: [2, 3, 4, 4])) == 0)
        // A step from −1 to 1 across 8 columns, and the same step smoothed by [¼, ½, ¼] along the row.
        let step = (0..<8).map { Float($0 < 4 ? -1 : 1) }
        let blurred: [Float] = (0..<8).map { (x: Int) -> Float in
            let left: Float = step[max(x - 1, 0)], right: Float = step[min(x + 1, 7)]
            return 0.25 * left + 0.5 * step[x] + 0.25 * right
        }
        let sharp = edgeEnergy(Tensor(Array(repeating: step, count: 4).flatMap { $0 }, shape: [1, 1, 4, 8]))
        let soft = edgeEnergy(Tensor(Array(repeating: blurred, count: 4).flatMap { $0 }, shape: [1, 1, 4, 8]))
        #expect(abs(sharp - 4 * 4 / 52.0) < 1e-12 && soft < sharp / 1.5, "sharp \(sharp), blurred \(soft)")
    }
}
