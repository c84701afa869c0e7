// Chapter 5's paired Shapes: the two shapes never touch, the checker reads ≥ 99 % of clean pairs
// back exactly, flags a pair of different colours as breaking the rule, and rejects noise and blanks.

import Testing
@testable import Datasets
import Tensor

@Suite("Paired Shapes (chapter 5)")
struct PairedShapesTests {
    let data = PairedShapesDataset()

    @Test("the left shape stays in x < 8 and the right one in x ≥ 8 (2,000 random pairs)")
    func halvesSeparate() {
        var rng = RandomGenerator(seed: 1)
        for _ in 0..<2000 {
            let (l, r) = data.randomSpecs(using: &rng)
            let left = Shapes.render(l, size: 16), right = Shapes.render(r, size: 16)
            for c in 0..<3 { for y in 0..<16 { for x in 0..<16 {
                let i = (c * 16 + y) * 16 + x
                if x >= 8 { #expect(left[i] == -1) } else { #expect(right[i] == -1) }
            } } }
        }
    }

    @Test("the checker reads ≥ 99 % of 1,000 clean pairs exactly, and every one keeps the rule")
    func readsCleanPairs() {
        var rng = RandomGenerator(seed: 2)
        let (images, pairs) = data.batch(1000, using: &rng)
        let verdicts = PairedShapesDataset.describe(batch: images)
        let exact = zip(verdicts, pairs).filter { $0.0.pair == $0.1 }.count
        #expect(exact >= 990, "read back \(exact)/1000")
        let m = PairMetrics(verdicts)
        #expect(m.validCount >= 990 && m.ruleKeptCount == m.validCount)
        // 1,000 uniform draws of 486 pairs cover 486·(1 − (485/486)^1000) ≈ 423 on average.
        #expect(m.pairsSeen > 380 && m.colorsSeen == 6 && m.leftSeen == 54 && m.rightSeen == 54, "\(m)")
        // Uniform data sit at the TV floor of a perfect sampler (within chance); one colour only is far above it.
        #expect(m.totalVariation < 1.3 * m.expectedTV, "\(m)")
        let redOnly = PairMetrics(verdicts.filter { $0.pair?.color == .red })
        // Of the 54 left (and right) shapes only the 9 red ones appear, each more often than 1/54, so
        // Σ|p̂ − 1/54| = (1 − 9/54) over them + 45·(1/54) over the rest, and TV = ½(45/54 + 45/54) = 5/6 exactly.
        #expect(redOnly.leftSeen == 9 && redOnly.rightSeen == 9)
        #expect(Swift.abs(redOnly.totalVariation - 5.0 / 6) < 1e-9 && redOnly.totalVariation > 3 * redOnly.expectedTV, "\(redOnly)")
    }

    @Test("two shapes of different colours are a valid pair that breaks the rule")
    func differentColours() {
        let left = ShapeSpec(kind: .circle, color: .red, position: .topLeft, jitter: SIMD2(-0.5, 0), size: 0.42)
        let right = ShapeSpec(kind: .square, color: .blue, position: .bottomRight, jitter: SIMD2(0.5, 0), size: 0.42)
        let v = PairedShapesDataset.describe(data.render(left, right), size: 16)
        #expect(v.isValid && !v.keepsRule && v.pair == nil)
        #expect(v.description.contains("colours differ"), "\(v)")
        let same = PairedShapesDataset.describe(data.render(left, ShapeSpec(kind: .square, color: .red, position: .bottomRight,
                                                                             jitter: SIMD2(0.5, 0), size: 0.42)), size: 16)
        #expect(same.pair == ShapePair(color: .red, leftKind: .circle, leftRow: 0, rightKind: .square, rightRow: 2))
    }

    @Test("noise, a blank image and a single shape are not valid pairs")
    func rejects() {
        var rng = RandomGenerator(seed: 3)
        for _ in 0..<50 {
            let noise = Tensor.randn([3 * 256], using: &rng).data
            #expect(!PairedShapesDataset.describe(noise, size: 16).isValid)
        }
        #expect(!PairedShapesDataset.describe([Float](repeating: -1, count: 768), size: 16).isValid)
        let one = Shapes.render(ShapeSpec(kind: .circle, color: .green, position: .left, jitter: SIMD2(-0.5, 0), size: 0.42), size: 16)
        let v = PairedShapesDataset.describe(one, size: 16)
        #expect(!v.isValid && v.description.hasPrefix("right:"), "\(v)")
    }
}
