// The Shapes checker (Sources/Datasets/ShapesChecker.swift) and the scores built on its verdicts
// (ShapesMetrics.swift): it must read clean data set images back exactly, reject noise, blanks and
// malformed shapes, degrade sensibly on noised and blurred images, and the scores must give the
// values worked out by hand below.

import Datasets
import Foundation
import Imaging
import Testing
import Tensor

// MARK: - Helpers (named shapes… so they cannot collide with other files of this test target)

/// `count` seeded data set images of side `size`, with their specs.
func shapesSample(_ count: Int, size: Int, seed: UInt64) -> [(spec: ShapeSpec, chw: [Float])] {
    let data = ShapesDataset(size: size, seed: seed)
    var rng = RandomGenerator(seed: seed)
    return (0..<count).map { _ in
        let spec = data.randomSpec(using: &rng)
        return (spec, Shapes.render(spec, size: size))
    }
}

/// x + σ·ε, ε ~ N(0, 1) per value; not clamped (a model's output is not clamped either).
func shapesNoised(_ chw: [Float], sigma: Float, using rng: inout RandomGenerator) -> [Float] {
    chw.map { $0 + sigma * rng.normal() }
}

/// A 3×3 box blur per channel; at the image's edges it averages the neighbours that exist.
func shapesBlurred(_ chw: [Float], size n: Int) -> [Float] {
    var out = chw
    for c in 0..<3 {
        for y in 0..<n {
            for x in 0..<n {
                var sum: Float = 0, count: Float = 0
                for yy in max(0, y - 1)...min(n - 1, y + 1) {
                    for xx in max(0, x - 1)...min(n - 1, x + 1) { sum += chw[(c * n + yy) * n + xx]; count += 1 }
                }
                out[(c * n + y) * n + x] = sum / count
            }
        }
    }
    return out
}

/// A grid of images, each with its own label above it, `columns` per row, ×`scale`, written to `path`.
func shapesWriteLabelledGrid(_ images: [[Float]], labels: [String], size n: Int, columns: Int,
                             scale: Int = 4, title: String? = nil, path: String) throws {
    var strips: [Image] = []
    for start in stride(from: 0, to: images.count, by: columns) {
        let end = min(start + columns, images.count)
        let row = images[start..<end].map { Optional(Image(chw: $0, channels: 3, height: n, width: n)) }
        let grid = ImageGrid(rows: [row], scale: scale, padding: 4, columnLabels: Array(labels[start..<end]),
                             title: start == 0 ? title : nil)
        strips.append(grid.render())
    }
    var canvas = Image(width: strips.map(\.width).max() ?? 1, height: strips.reduce(0) { $0 + $1.height },
                       channels: 3, color: .darkBackground)
    var y = 0
    for strip in strips { canvas.paste(strip, x: 0, y: y); y += strip.height }
    try canvas.writePNG(to: path)
}

/// How the checker read a set of images whose truth is known.
struct ShapesConfusion: CustomStringConvertible {
    var total = 0, correct = 0
    var rejected: [ShapeRejection: Int] = [:]
    /// Clean verdicts that got an attribute wrong (an image can count under several).
    var wrongColor = 0, wrongKind = 0, wrongPosition = 0
    /// Shape confusion among clean verdicts: kindCounts[truth][read].
    var kindCounts: [ShapeKind: [ShapeKind: Int]] = [:]
    var mistakes: [(chw: [Float], truth: ShapeSpec, read: ShapeDescription)] = []

    mutating func add(_ chw: [Float], truth: ShapeSpec, read: ShapeDescription) {
        total += 1
        switch read {
        case .notAShape(let r):
            rejected[r, default: 0] += 1
            mistakes.append((chw, truth, read))
        case .shape(let c):
            kindCounts[truth.kind, default: [:]][c.kind, default: 0] += 1
            if c == truth.combination { correct += 1; return }
            if c.color != truth.color { wrongColor += 1 }
            if c.kind != truth.kind { wrongKind += 1 }
            if c.position != truth.position { wrongPosition += 1 }
            mistakes.append((chw, truth, read))
        }
    }

    var accuracy: Double { Double(correct) / Double(total) }
    var rejectionRate: Double { Double(rejected.values.reduce(0, +)) / Double(total) }

    var description: String {
        let reasons = ShapeRejection.allCases.compactMap { r in rejected[r].map { "\(r.words) \($0)" } }
        let kinds = ShapeKind.allCases.map { t in
            "\(t.word)→" + ShapeKind.allCases.map { "\(kindCounts[t]?[$0] ?? 0)" }.joined(separator: "/")
        }
        return "correct \(correct)/\(total) (\(String(format: "%.1f", 100 * accuracy)) %), "
            + "rejected \(rejected.values.reduce(0, +)) [\(reasons.joined(separator: ", "))], "
            + "misread colour \(wrongColor), shape \(wrongKind), position \(wrongPosition); "
            + "shape read as circle/square/triangle: \(kinds.joined(separator: " "))"
    }
}

func shapesConfusion(size: Int, count: Int, seed: UInt64,
                     transform: (inout RandomGenerator, [Float]) -> [Float]) -> ShapesConfusion {
    var confusion = ShapesConfusion()
    var rng = RandomGenerator(seed: seed &+ 1000)
    for (spec, chw) in shapesSample(count, size: size, seed: seed) {
        let image = transform(&rng, chw)
        confusion.add(image, truth: spec, read: ShapesChecker.describe(image, size: size))
    }
    return confusion
}

/// "min 0.00 · 50 % 0.01 · 99 % 0.03 · max 0.05".
func shapesQuantiles(_ values: [Float]) -> String {
    guard !values.isEmpty else { return "(none)" }
    let s = values.sorted()
    func q(_ p: Double) -> String { String(format: "%.3f", s[min(s.count - 1, Int(p * Double(s.count - 1)))]) }
    return "min \(q(0)) · 50 % \(q(0.5)) · 99 % \(q(0.99)) · max \(q(1))"
}

// MARK: - Reading clean images

@Suite("Shapes checker")
struct ShapesCheckerTests {
    @Test("reads ≥ 99 % of clean 16×16 data set images exactly (2,000 seeded images)")
    func clean16() {
        let c = shapesConfusion(size: 16, count: 2000, seed: 11) { _, x in x }
        print("clean 16×16:", c)
        #expect(c.accuracy >= 0.99, "\(c)")
    }

    @Test("reads ≥ 99 % of clean 32×32 data set images exactly (1,000 seeded images)")
    func clean32() {
        let c = shapesConfusion(size: 32, count: 1000, seed: 12) { _, x in x }
        print("clean 32×32:", c)
        #expect(c.accuracy >= 0.99, "\(c)")
    }

    @Test("every one of the 162 combinations is read back, at the middle and the corners of its cell")
    func everyCombination() {
        for combo in ShapeCombination.all {
            for jitter in [SIMD2<Float>(0, 0), SIMD2(-1, -1), SIMD2(1, 1), SIMD2(-1, 1), SIMD2(1, -1)] {
                for side: Float in [0.4, 0.5] {
                    let spec = ShapeSpec(kind: combo.kind, color: combo.color, position: combo.position,
                                         jitter: jitter, size: side)
                    let read = ShapesChecker.describe(Shapes.render(spec, size: 16), size: 16)
                    #expect(read == .shape(combo), "\(spec.caption) jitter \(jitter) side \(side) read as \(read)")
                }
            }
        }
    }

    @Test("the measurements behind the verdicts, clean, noised and blurred (printed; they set the tolerances)")
    func measurements() {
      for size in [16, 32] {
        let sample = shapesSample(size == 16 ? 500 : 200, size: size, seed: 13)
        var rng = RandomGenerator(seed: 14)
        let variants: [(String, ([Float]) -> [Float])] = [
            ("clean", { $0 }),
            ("σ = 0.1", { shapesNoised($0, sigma: 0.1, using: &rng) }),
            ("σ = 0.2", { shapesNoised($0, sigma: 0.2, using: &rng) }),
            ("σ = 0.3", { shapesNoised($0, sigma: 0.3, using: &rng) }),
            ("σ = 0.5", { shapesNoised($0, sigma: 0.5, using: &rng) }),
            ("blur 3×3", { shapesBlurred($0, size: size) }),
        ]
        for (name, transform) in variants {
            var background: [Float] = [], colour: [Float] = [], sideError: [Float] = []
            var bestMisfit: [Float] = [], secondMisfit: [Float] = []
            for (spec, chw) in sample {
                let a = ShapesChecker.analyze(transform(chw), size: size)
                background.append(a.backgroundRMS)
                if let d = a.colorDistance { colour.append(d) }
                if let s = a.side { sideError.append(abs(s - spec.size)) }
                if let m = a.misfits {
                    let truth = m[ShapeKind.allCases.firstIndex(of: spec.kind)!]
                    bestMisfit.append(truth)
                    secondMisfit.append(zip(ShapeKind.allCases, m).filter { $0.0 != spec.kind }.map(\.1).min()!)
                }
            }
            print("""
                \(size)×\(size) \(name): background RMS \(shapesQuantiles(background))
                  colour distance \(shapesQuantiles(colour))
                  |side − true side| \(shapesQuantiles(sideError))
                  misfit of the true shape \(shapesQuantiles(bestMisfit))
                  misfit of the best wrong shape \(shapesQuantiles(secondMisfit))
                """)
        }
      }
    }

    // MARK: Degraded images

    @Test("noised images, x + σ·ε: confusion printed; σ ≤ 0.2 read ≥ 98 %, σ = 0.3 ≥ 90 %, never misread")
    func lightNoise() throws {
        var mistakes: [(chw: [Float], label: String)] = []
        // σ = 0.4 and 0.5 are past "light": measured and printed only (bound 0), they fill the figure.
        for (sigma, bound) in [(Float(0.1), 0.98), (0.2, 0.98), (0.3, 0.9), (0.4, 0), (0.5, 0)] {
            for size in [16, 32] {
                let c = shapesConfusion(size: size, count: size == 16 ? 1000 : 300, seed: 21) { rng, x in
                    shapesNoised(x, sigma: sigma, using: &rng)
                }
                print("σ = \(sigma), \(size)×\(size):", c)
                #expect(c.accuracy >= bound, "σ = \(sigma), \(size)×\(size): \(c)")
                // A noised image is never read as a *different* clean shape more than 1 % of the time.
                #expect(Double(c.total - c.correct) - c.rejectionRate * Double(c.total) <= 0.01 * Double(c.total),
                        "σ = \(sigma), \(size)×\(size): \(c)")
                if size == 16 {
                    mistakes += c.mistakes.prefix(9).map { ($0.chw, "s\(sigma) \($0.truth.caption): \($0.read)") }
                }
            }
        }
        if !mistakes.isEmpty {
            try shapesWriteLabelledGrid(mistakes.map(\.chw), labels: mistakes.map(\.label), size: 16, columns: 6,
                                        title: "noised images the checker rejects or misreads (s = sigma)",
                                        path: NSTemporaryDirectory() + "shapes-checker-noise-errors.png")
        }
    }

    @Test("3×3 box-blurred images: confusion printed; ≥ 95 % read (the checker also tries softened candidates)")
    func blur() throws {
        var mistakes: [(chw: [Float], label: String)] = []
        for size in [16, 32] {
            let c = shapesConfusion(size: size, count: size == 16 ? 1000 : 300, seed: 22) { _, x in
                shapesBlurred(x, size: size)
            }
            print("blur 3×3, \(size)×\(size):", c)
            // Without the softened candidates this was 55 % at 16×16 (blurred triangles "unclear",
            // blurred squares read as circles); colour and position survive a blur in any case.
            #expect(c.accuracy >= 0.95, "\(c)")
            #expect(c.wrongColor == 0 && c.wrongPosition <= c.total / 100, "\(c)")
            if size == 16 { mistakes = c.mistakes.prefix(18).map { ($0.chw, "\($0.truth.caption): \($0.read)") } }
        }
        if !mistakes.isEmpty {
            try shapesWriteLabelledGrid(mistakes.map(\.chw), labels: mistakes.map(\.label), size: 16, columns: 6,
                                        title: "blurred images the checker rejects or misreads",
                                        path: NSTemporaryDirectory() + "shapes-checker-blur-errors.png")
        }
    }

    // MARK: Rejections

    @Test("rejects ≥ 99 % of pure Gaussian noise images, 16×16 and 32×32")
    func pureNoise() {
        var rng = RandomGenerator(seed: 31)
        for size in [16, 32] {
            var reasons: [ShapeRejection: Int] = [:]
            var accepted: [String] = []
            let count = 500
            for _ in 0..<count {
                let noise = (0..<(3 * size * size)).map { _ in rng.normal() }
                switch ShapesChecker.describe(noise, size: size) {
                case .notAShape(let r): reasons[r, default: 0] += 1
                case .shape(let c): accepted.append(c.caption)
                }
            }
            print("pure N(0, 1) noise, \(size)×\(size): rejected \(count - accepted.count)/\(count) \(reasons)")
            #expect(accepted.count * 100 <= count, "accepted as shapes: \(accepted)")
        }
    }

    @Test("rejects every blank image as blank: black, below black, black with faint noise")
    func blank() {
        var rng = RandomGenerator(seed: 32)
        for size in [16, 32] {
            let n = 3 * size * size
            var images: [[Float]] = [[Float](repeating: -1, count: n), [Float](repeating: -3, count: n)]
            for _ in 0..<200 { images.append((0..<n).map { _ in -1 + 0.05 * rng.normal() }) }
            for image in images {
                #expect(ShapesChecker.describe(image, size: size) == .notAShape(.blank))
            }
        }
        // An image lit everywhere is not blank but noise; NaN counts as unlit.
        #expect(ShapesChecker.describe([Float](repeating: 1, count: 768), size: 16) == .notAShape(.noise))
        #expect(ShapesChecker.describe([Float](repeating: .nan, count: 768), size: 16) == .notAShape(.blank))
    }

    @Test("rejects two shapes, impure colours, wrong sizes and shapes that are none of the three")
    func malformed() {
        let n = 16
        func render(_ kind: ShapeKind, _ color: ShapeColor, _ position: ShapePosition, side: Float = 0.45) -> [Float] {
            Shapes.render(ShapeSpec(kind: kind, color: color, position: position, size: side), size: n)
        }
        // Two shapes in one image (their pixelwise maximum).
        let two = zip(render(.circle, .red, .topLeft), render(.square, .blue, .bottomRight)).map { max($0, $1) }
        #expect(ShapesChecker.describe(two, size: n) == .notAShape(.severalBlobs))
        // White, orange, and grey-ish versions of a square: not among the six colours.
        let square = render(.square, .red, .center)
        let plane = n * n
        for rgb: [Float] in [[1, 1, 1], [1, 0.5, 0], [0.6, 0.6, 0.6], [1, 0, 0.5]] {
            var image = square
            for c in 0..<3 { for i in 0..<plane { image[c * plane + i] = -1 + (square[i] + 1) * rgb[c] } }
            #expect(ShapesChecker.describe(image, size: n) == .notAShape(.impureColor), "colour \(rgb)")
        }
        // Half red, half green: each pixel pure, the blob not one colour.
        var halves = square
        for y in 0..<n { for x in 0..<(n / 2) { halves[y * n + x] = -1; halves[plane + y * n + x] = square[y * n + x] } }
        #expect(ShapesChecker.describe(halves, size: n) == .notAShape(.impureColor))
        // Too small (side 0.25, 4 px) and too large (an 11 × 11 px square, side 0.69).
        #expect(ShapesChecker.describe(render(.square, .green, .center, side: 0.25), size: n) == .notAShape(.wrongSize))
        var big = [Float](repeating: -1, count: 3 * plane)
        for y in 2..<13 { for x in 2..<13 { big[plane + y * n + x] = 1 } }
        #expect(ShapesChecker.describe(big, size: n) == .notAShape(.wrongSize))
        // An apex-up triangle is read; the same upside down is none of the three.
        let up = render(.triangle, .yellow, .center, side: 0.5)
        var down = up
        for c in 0..<3 { for y in 0..<n { for x in 0..<n { down[(c * n + y) * n + x] = up[(c * n + (n - 1 - y)) * n + x] } } }
        #expect(ShapesChecker.describe(up, size: n) == .shape(ShapeCombination(color: .yellow, kind: .triangle, position: .center)))
        #expect(ShapesChecker.describe(down, size: n) == .notAShape(.unclearShape))
    }

    @Test("shapes that are none of the three are unclear; a diamond and a slightly oval disc pass as circles")
    func otherShapes() {
        let n = 16
        /// A red antialiased shape on black from a point-in-shape test in pixel coordinates.
        func draw(_ inside: (Float, Float) -> Bool) -> [Float] {
            var out = [Float](repeating: -1, count: 3 * n * n)
            for y in 0..<n {
                for x in 0..<n {
                    var k = 0
                    for sy in 0..<4 {
                        for sx in 0..<4 where inside(Float(x) + (Float(sx) + 0.5) / 4, Float(y) + (Float(sy) + 0.5) / 4) { k += 1 }
                    }
                    out[y * n + x] = -1 + 2 * Float(k) / 16
                }
            }
            return out
        }
        let unclear: [(String, (Float, Float) -> Bool)] = [
            ("bar 10×3", { x, y in abs(x - 8) <= 5 && abs(y - 8) <= 1.5 }),
            ("ring", { x, y in let d = ((x - 8) * (x - 8) + (y - 8) * (y - 8)).squareRoot(); return d >= 2.5 && d <= 4.5 }),
            ("apex-left triangle", { x, y in let d = x - 4; return d >= 0 && d <= 8 && abs(y - 8) <= d / 2 }),
            ("plus", { x, y in (abs(x - 8) <= 1.5 && abs(y - 8) <= 4.5) || (abs(y - 8) <= 1.5 && abs(x - 8) <= 4.5) }),
            ("half disc", { x, y in (x - 8) * (x - 8) + (y - 10) * (y - 10) <= 25 && y <= 10 }),
            ("ellipse 2:1", { x, y in (x - 8) * (x - 8) / 25 + (y - 8) * (y - 8) / 6.25 <= 1 }),
            ("rectangle 1.5:1", { x, y in abs(x - 8) <= 4.5 && abs(y - 8) <= 3 }),
        ]
        for (name, inside) in unclear {
            let a = ShapesChecker.analyze(draw(inside), size: n)
            print("\(name): \(a.description), misfits circle/square/triangle \(a.misfits ?? [])")
            #expect(a.description == .notAShape(.unclearShape), "\(name) read as \(a.description)")
        }
        // Known leniency: at 16×16 these are within the tolerance of the circle.
        for (name, inside) in [("diamond", { (x: Float, y: Float) in abs(x - 8) + abs(y - 8) <= 4.5 }),
                               ("ellipse 1.3:1", { (x: Float, y: Float) in (x - 8) * (x - 8) / 20 + (y - 8) * (y - 8) / 12 <= 1 })] {
            let a = ShapesChecker.analyze(draw(inside), size: n)
            print("\(name): \(a.description), misfits circle/square/triangle \(a.misfits ?? [])")
            #expect(a.description.combination?.kind == .circle)
        }
    }

    @Test("describe(batch:) reads a data set batch like describe does image by image")
    func batchDescribe() {
        var data = ShapesDataset(size: 16, seed: 33)
        let (images, specs) = data.nextBatch(50)
        let reads = ShapesChecker.describe(batch: images)
        #expect(reads == specs.map { .shape($0.combination) })
    }

    // MARK: Figure

    @Test("writes a captioned grid of data set images to look at (/tmp/shapes-grid.png)")
    func grid() throws {
        let sample = shapesSample(48, size: 16, seed: 41)
        try shapesWriteLabelledGrid(sample.map(\.chw), labels: sample.map(\.spec.caption), size: 16, columns: 8,
                                    title: "Shapes 16x16", path: NSTemporaryDirectory() + "shapes-grid.png")
        let big = shapesSample(16, size: 32, seed: 42)
        try shapesWriteLabelledGrid(big.map(\.chw), labels: big.map(\.spec.caption), size: 32, columns: 8, scale: 3,
                                    title: "Shapes 32x32", path: NSTemporaryDirectory() + "shapes-grid-32.png")
    }
}

