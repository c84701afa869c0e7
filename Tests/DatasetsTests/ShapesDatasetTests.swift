// The Shapes data set (Sources/Datasets/ShapesDataset.swift) and the scores of ShapesMetrics.swift:
// batches are seeded, shaped [B, 3, H, W] in −1…1 and uniform over the 162 combinations; the scores
// give the values worked out by hand in the comments.

import Datasets
import Testing
import Tensor

@Suite("Shapes data set")
struct ShapesDatasetTests {
    @Test("a batch is [B, 3, H, W] in −1…1, image i is Shapes.render(specs[i]), at 16×16 and 32×32")
    func batchShape() {
        for size in [16, 32] {
            var data = ShapesDataset(size: size, seed: 1)
            let (images, specs) = data.nextBatch(20)
            #expect(images.shape == [20, 3, size, size])
            #expect(specs.count == 20)
            #expect(images.data.allSatisfy { $0 >= -1 && $0 <= 1 })
            for i in [0, 7, 19] {
                #expect(ShapesDataset.image(i, of: images) == Shapes.render(specs[i], size: size))
            }
        }
    }

    @Test("the same seed gives the same batches; another seed, other batches")
    func determinism() {
        var a = ShapesDataset(seed: 7), b = ShapesDataset(seed: 7), c = ShapesDataset(seed: 8)
        for _ in 0..<3 {
            let x = a.nextBatch(16), y = b.nextBatch(16), z = c.nextBatch(16)
            #expect(x.images.data == y.images.data && x.specs == y.specs)
            #expect(x.specs != z.specs)
        }
        // batch(using:) draws only from the generator it is given.
        let data = ShapesDataset(seed: 99)
        var r1 = RandomGenerator(seed: 5), r2 = RandomGenerator(seed: 5)
        #expect(data.batch(8, using: &r1).specs == data.batch(8, using: &r2).specs)
    }

    @Test("combinations are drawn uniformly: 16,200 draws give each of the 162 between 60 and 140 times")
    func uniform() {
        // Each count is Binomial(16200, 1/162): mean 100, sd √(100 · 161/162) ≈ 9.97; 60…140 is ±4 sd,
        // so with a fixed seed a correct sampler passes and a biased one (say one colour at 2×) fails.
        let data = ShapesDataset(seed: 3)
        var rng = RandomGenerator(seed: 3)
        var counts = [Int](repeating: 0, count: 162)
        for _ in 0..<16_200 {
            let spec = data.randomSpec(using: &rng)
            counts[spec.combination.index] += 1
            #expect(ShapeSpec.randomSizes.contains(spec.size))
        }
        #expect(counts.allSatisfy { (60...140).contains($0) }, "counts \(counts.min()!)…\(counts.max()!)")
    }

    @Test("excluded combinations are never drawn, every other one is")
    func holdout() {
        let held = Set(ShapeCombination.matching(color: .blue, kind: .triangle))  // 9 positions
        #expect(held.count == 9)
        var data = ShapesDataset(seed: 4, excluding: held)
        #expect(data.combinations.count == 153)
        let seen = Set(data.nextBatch(2000).specs.map(\.combination))
        // 2,000 draws over 153: each is missed with probability (152/153)^2000 ≈ e^−13.
        #expect(seen.isDisjoint(with: held))
        #expect(seen.count == 153)
    }

    @Test("combinations: 162 in index order, captions, matching, prompts")
    func combinations() {
        #expect(ShapeCombination.all.count == 162 && ShapeCombination.count == 162)
        #expect(ShapeCombination.all.enumerated().allSatisfy { $0.offset == $0.element.index })
        #expect(ShapeCombination.matching(color: .red).count == 27)            // 3 shapes × 9 positions
        #expect(ShapeCombination.matching(kind: .square, position: .top).count == 6)  // 6 colours
        let spec = ShapeSpec(kind: .circle, color: .red, position: .topLeft)
        #expect(spec.combination.caption == "red circle top left" && spec.caption == spec.combination.caption)
        #expect(ShapePrompt(color: .red, position: .topLeft).caption == "red top left")
        #expect(ShapePrompt().caption == "")
        #expect(ShapePrompt(kind: .circle).isSatisfied(by: spec.combination))
        #expect(!ShapePrompt(color: .blue).isSatisfied(by: spec.combination))
    }
}

@Suite("Shapes metrics")
struct ShapesMetricsTests {
    let redCircleTopLeft = ShapeCombination(color: .red, kind: .circle, position: .topLeft)
    let blueSquareCenter = ShapeCombination(color: .blue, kind: .square, position: .center)

    @Test("hand-worked: validity 3/4, 2 combinations, TV 160/162")
    func handWorked() {
        let m = ShapesMetrics([.shape(redCircleTopLeft), .shape(redCircleTopLeft), .shape(blueSquareCenter),
                               .notAShape(.noise)])
        #expect(m.count == 4 && m.validCount == 3 && m.validity == 0.75)
        #expect(m.combinationsSeen == 2 && m.colorsSeen == 2 && m.shapesSeen == 2 && m.positionsSeen == 2)
        #expect(m.rejections == [.noise: 1])
        // Among the 3 valid: p̂ = 2/3 for red circle top left, 1/3 for blue square center, 0 for the
        // other 160. TV = ½ [(2/3 − 1/162) + (1/3 − 1/162) + 160 · 1/162] = ½ [1 + 158/162] = 160/162.
        #expect(abs(m.totalVariation - 160.0 / 162) < 1e-12)
        #expect(abs(m.coverage - 2.0 / 162) < 1e-12)
    }

    @Test("hand-worked: every combination twice is TV 0; one missing and one doubled is TV 1/162")
    func evenMixes() {
        let twice = ShapesMetrics((ShapeCombination.all + ShapeCombination.all).map { .shape($0) })
        #expect(twice.totalVariation == 0 && twice.combinationsSeen == 162 && twice.coverage == 1)
        // 162 images: combination 0 twice, 161 missing, the rest once. p̂ = 2/162, 0, 1/162:
        // TV = ½ (|2/162 − 1/162| + |0 − 1/162|) = 1/162.
        var list = ShapeCombination.all.map { ShapeDescription.shape($0) }
        list[161] = .shape(ShapeCombination.all[0])
        let m = ShapesMetrics(list)
        #expect(abs(m.totalVariation - 1.0 / 162) < 1e-12 && m.combinationsSeen == 161)
    }

    @Test("mode collapse: one combination 200 times scores coverage 1/162 and TV 1 − 1/162")
    func modeCollapse() {
        let m = ShapesMetrics(Array(repeating: .shape(redCircleTopLeft), count: 200))
        #expect(m.validity == 1)
        #expect(m.combinationsSeen == 1 && m.colorsSeen == 1 && m.shapesSeen == 1 && m.positionsSeen == 1)
        // p̂ = 1 on one combination: TV = ½ [(1 − 1/162) + 161/162] = 1 − 1/162.
        #expect(abs(m.totalVariation - (1 - 1.0 / 162)) < 1e-12)
        #expect(ShapesMetrics([.notAShape(.blank)]).totalVariation == 1)  // nothing valid: no mix, counted as 1
    }

    @Test("the TV floor formula matches simulation from the data set at n = 100, 200, 500")
    func tvFloor() {
        let data = ShapesDataset(seed: 5)
        var rng = RandomGenerator(seed: 5)
        for n in [100, 200, 500] {
            // 200 replicates of n specs from the data set, scored as if the checker read them all.
            let replicates = 200
            var tvs: [Double] = []
            for _ in 0..<replicates {
                let list = (0..<n).map { _ in ShapeDescription.shape(data.randomSpec(using: &rng).combination) }
                tvs.append(ShapesMetrics(list).totalVariation)
            }
            let mean = tvs.reduce(0, +) / Double(replicates)
            let sd = (tvs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(replicates - 1)).squareRoot()
            let formula = ShapesMetrics.expectedTV(samples: n)
            print("TV floor, n = \(n): formula \(formula), simulated \(mean) ± \(sd) (sd over \(replicates))")
            // The mean of 200 replicates has standard error sd/√200 (sd ≈ 0.01–0.02): 0.01 is > 4 se.
            #expect(abs(mean - formula) < 0.01)
        }
        // The values quoted in ShapesMetrics.swift.
        #expect(abs(ShapesMetrics.expectedTV(samples: 200) - 0.36) < 0.005)
        #expect(ShapesMetrics.expectedTV(samples: 1) > 0.99)  // one sample: TV = 1 − 1/162 always
    }

    @Test("a uniform sample of data set images, read by the checker, covers nearly everything and sits at the TV floor")
    func uniformImages() {
        var data = ShapesDataset(seed: 6)
        let (images, _) = data.nextBatch(1000)
        let m = ShapesMetrics(ShapesChecker.describe(batch: images))
        print("1,000 data set images:", m)
        #expect(m.validity == 1)
        #expect(m.colorsSeen == 6 && m.shapesSeen == 3 && m.positionsSeen == 9)
        // 1,000 draws over 162: expected combinations seen 162 · (1 − (161/162)^1000) ≈ 161.7.
        #expect(m.combinationsSeen >= 160)
        #expect(m.totalVariation < ShapesMetrics.expectedTV(samples: 1000) + 0.04)
    }

    @Test("adherence, hand-worked: per attribute over the prompts that ask for it, and all at once")
    func adherence() {
        let prompts = [ShapePrompt(color: .red), ShapePrompt(color: .red, kind: .circle),
                       ShapePrompt(kind: .circle, position: .top), ShapePrompt()]
        let reads: [ShapeDescription] = [
            .shape(ShapeCombination(color: .red, kind: .square, position: .top)),      // red ✓
            .shape(ShapeCombination(color: .blue, kind: .circle, position: .top)),     // red ✗ circle ✓
            .notAShape(.severalBlobs),                                                 // circle ✗ top ✗
            .shape(ShapeCombination(color: .red, kind: .triangle, position: .center)), // nothing asked ✓
        ]
        let a = ShapeAdherence(prompts: prompts, descriptions: reads)
        #expect(a.color == 0.5)     // prompts 0, 1 ask a colour; only 0 matches
        #expect(a.kind == 0.5)      // prompts 1, 2 ask a shape; only 1 matches
        #expect(a.position == 0)    // prompt 2 asks a position; rejected
        #expect(a.all == 0.5)       // prompts 0 and 3 fully satisfied, of 4
        let one = ShapeAdherence(prompt: ShapePrompt(color: .red), descriptions: reads)
        #expect(one.color == 0.5 && one.kind == nil && one.position == nil && one.all == 0.5)
    }
}
