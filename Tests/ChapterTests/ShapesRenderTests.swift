// The Shapes renderer (Sources/Datasets/Shapes.swift): what a rendered image must look like,
// checked on the pixels, over many random specs at 16×16 and 32×32.

import Datasets
import Foundation
import Testing
import Tensor

/// A rendered image, [3, n, n] in −1…1, with the measurements the tests need.
private struct Rendered {
    let spec: ShapeSpec
    let n: Int
    let chw: [Float]

    init(_ spec: ShapeSpec, size n: Int) {
        self.spec = spec; self.n = n
        chw = Shapes.render(spec, size: n)
    }

    func value(_ c: Int, _ x: Int, _ y: Int) -> Float { chw[(c * n + y) * n + x] }
    /// The largest channel, mapped back to 0…1: how much of the pixel the shape covers.
    func coverage(_ x: Int, _ y: Int) -> Float { ((0..<3).map { value($0, x, y) }.max()! + 1) / 2 }

    /// Bounding box of the pixels the shape touches at all (coverage > 0).
    var box: (x0: Int, y0: Int, x1: Int, y1: Int) {
        var b = (x0: n, y0: n, x1: -1, y1: -1)
        for y in 0..<n {
            for x in 0..<n where coverage(x, y) > 0 {
                b = (min(b.x0, x), min(b.y0, y), max(b.x1, x), max(b.y1, y))
            }
        }
        return b
    }

    /// Width and height of the box of pixels at least a quarter covered.
    var litExtent: (w: Int, h: Int) {
        var b = (x0: n, y0: n, x1: -1, y1: -1)
        for y in 0..<n {
            for x in 0..<n where coverage(x, y) >= 0.25 {
                b = (min(b.x0, x), min(b.y0, y), max(b.x1, x), max(b.y1, y))
            }
        }
        return (b.x1 - b.x0 + 1, b.y1 - b.y0 + 1)
    }
}

private func randomSpecs(_ count: Int, seed: UInt64) -> [ShapeSpec] {
    var rng = RandomGenerator(seed: seed)
    return (0..<count).map { _ in Shapes.random(using: &rng) }
}

@Suite("Shapes renderer")
struct ShapesRenderTests {
    @Test("values lie in −1…1, the background is exactly black, and only the shape's colour channels light up")
    func colourAndBackground() {
        for spec in randomSpecs(200, seed: 1) {
            let r = Rendered(spec, size: 16)
            #expect(r.chw.allSatisfy { $0 >= -1 && $0 <= 1 })
            // The image corner farthest from the shape's centre is far outside it.
            let c = spec.center
            let fx = c.x < 0.5 ? 15 : 0, fy = c.y < 0.5 ? 15 : 0
            #expect((0..<3).allSatisfy { r.value($0, fx, fy) == -1 }, "corner (\(fx), \(fy)) of \(spec.caption) is not black")
            // Channels the colour leaves off stay −1 everywhere (pure colours, no blending).
            for ch in 0..<3 where spec.color.rgb[ch] == 0 {
                #expect(r.chw[(ch * 256)..<((ch + 1) * 256)].allSatisfy { $0 == -1 }, "\(spec.caption): channel \(ch) lit")
            }
        }
    }

    @Test("the pixel at the shape's middle is the pure colour, fully covered")
    func pureColourAtCentre() {
        for spec in randomSpecs(200, seed: 2) {
            for n in [16, 32] {
                let r = Rendered(spec, size: n)
                // The middle: the bounding-box centre for circle and square; for the triangle its
                // centroid, a third of the way up from the base (r/3 below the box centre), where it
                // is 2r/3 ≥ 2.1 px wide to each side at 16×16, so the pixel holding it is covered.
                var p = spec.center
                if spec.kind == .triangle { p.y += spec.size / 6 }
                let x = Int(p.x * Float(n)), y = Int(p.y * Float(n))
                let pixel = (0..<3).map { r.value($0, x, y) }
                let expected = spec.color.rgb.map { 2 * $0 - 1 }
                #expect(pixel == expected, "\(spec.caption) at \(n)×\(n): pixel (\(x), \(y)) is \(pixel), expected \(expected)")
            }
        }
    }

    @Test("every shape is at least 6 px across at 16×16 (and 12 at 32×32)")
    func bigEnough() {
        for spec in randomSpecs(300, seed: 3) {
            for (n, least) in [(16, 6), (32, 12)] {
                let e = Rendered(spec, size: n).litExtent
                #expect(e.w >= least && e.h >= least, "\(spec.caption) size \(spec.size) at \(n)×\(n): \(e.w)×\(e.h) pixels")
                #expect(e.w <= n / 2 + 1 && e.h <= n / 2 + 1, "\(spec.caption) at \(n)×\(n) too big: \(e.w)×\(e.h)")
            }
        }
    }

    @Test("the centre of the drawn shape lies in the 3×3 cell its position names, and matches spec.center")
    func rightCell() {
        var seen = Set<ShapePosition>()
        for spec in randomSpecs(300, seed: 4) {
            seen.insert(spec.position)
            for n in [16, 32] {
                let b = Rendered(spec, size: n).box
                let cx = Float(b.x0 + b.x1 + 1) / 2, cy = Float(b.y0 + b.y1 + 1) / 2  // in pixels
                let cell = Float(n) / 3
                let column = Int(cx / cell), row = Int(cy / cell)
                #expect(row == spec.position.row && column == spec.position.column,
                        "\(spec.caption) at \(n)×\(n): drawn centre (\(cx), \(cy)) is in cell row \(row), column \(column)")
                // The box of touched pixels can be off by under a pixel at each end (subsampling).
                #expect(Swift.abs(cx - spec.center.x * Float(n)) < 1 && Swift.abs(cy - spec.center.y * Float(n)) < 1)
                // The whole shape is inside the image: nothing touches beyond it, so the box is not cut.
                #expect(b.x0 >= 0 && b.y0 >= 0 && b.x1 < n && b.y1 < n)
            }
        }
        #expect(seen.count == 9, "300 random specs should visit all 9 positions, saw \(seen.count)")
    }

    @Test("centres of the same position are jittered, not all identical")
    func jittered() {
        let centres = randomSpecs(300, seed: 5).filter { $0.position == .center }.map(\.center)
        #expect(centres.count > 10)
        let xs = centres.map(\.x)
        #expect(xs.max()! - xs.min()! > 2.0 / 16, "centre-cell x positions span only \(xs.max()! - xs.min()!)")
    }

    @Test("a triangle points up: more light in the bottom half of its box than in the top half")
    func triangleApexUp() {
        let triangles = randomSpecs(300, seed: 6).filter { $0.kind == .triangle }
        #expect(triangles.count > 50)
        for spec in triangles {
            let r = Rendered(spec, size: 16)
            let b = r.box
            let mid = Float(b.y0 + b.y1 + 1) / 2
            var top: Float = 0, bottom: Float = 0
            for y in b.y0...b.y1 {
                for x in b.x0...b.x1 {
                    // A pixel row split by the midline counts half to each side.
                    let c = r.coverage(x, y)
                    if Float(y) + 1 <= mid { top += c } else if Float(y) >= mid { bottom += c } else { top += c / 2; bottom += c / 2 }
                }
            }
            // Apex up: the top half holds 1/4 of the area, the bottom half 3/4.
            #expect(bottom > 2 * top, "\(spec.caption): top \(top), bottom \(bottom)")
        }
        // And a square, for contrast, is balanced.
        let square = Rendered(ShapeSpec(kind: .square, color: .red, position: .center), size: 16)
        var top: Float = 0, bottom: Float = 0
        for y in 0..<16 { for x in 0..<16 { if y < 8 { top += square.coverage(x, y) } else { bottom += square.coverage(x, y) } } }
        #expect(Swift.abs(top - bottom) < 0.01)
    }

    @Test("circle, square and triangle of the same spec differ in area as π/4 : 1 : 1/2 of the box")
    func areas() {
        func area(_ kind: ShapeKind) -> Float {
            let r = Rendered(ShapeSpec(kind: kind, color: .green, position: .center, size: 0.5), size: 32)
            return (0..<32).flatMap { y in (0..<32).map { x in r.coverage(x, y) } }.reduce(0, +)
        }
        let box: Float = 16 * 16  // size 0.5 of 32 pixels
        #expect(Swift.abs(area(.square) / box - 1) < 0.02)
        #expect(Swift.abs(area(.circle) / box - Float.pi / 4) < 0.02)
        #expect(Swift.abs(area(.triangle) / box - 0.5) < 0.02)
    }

    @Test("deterministic from the seed: same seed, same specs and pixels; another seed, other specs")
    func deterministic() {
        let a = randomSpecs(20, seed: 7), b = randomSpecs(20, seed: 7), c = randomSpecs(20, seed: 8)
        #expect(a == b)
        #expect(a != c)
        #expect(a.map { Shapes.render($0) } == b.map { Shapes.render($0) })
    }

    @Test("captions are colour, shape, position words")
    func captions() {
        #expect(ShapeSpec(kind: .circle, color: .red, position: .topLeft).caption == "red circle top left")
        #expect(ShapeSpec(kind: .triangle, color: .cyan, position: .center).caption == "cyan triangle center")
        #expect(ShapeSpec(kind: .square, color: .magenta, position: .bottom).caption == "magenta square bottom")
        #expect(ShapePosition(row: 2, column: 2) == .bottomRight)
    }

    @Test("32×32 draws the same picture as 16×16, at twice the resolution")
    func scales() {
        for spec in randomSpecs(50, seed: 9) {
            let small = Rendered(spec, size: 16), big = Rendered(spec, size: 32)
            #expect(big.chw.count == 3 * 32 * 32)
            // Averaging each 2×2 block of the 32×32 image gives the 16×16 one, up to antialiasing
            // error: 4 subsamples per axis measure an edge's coverage to within 1/8 of a pixel at
            // 16×16 and 1/16 at 32×32, so an edge pixel may differ by 3/16 of coverage (0.375 in
            // −1…1), a pixel crossed by two edges by twice that; most pixels differ by nothing.
            var worst: Float = 0, total: Float = 0
            for c in 0..<3 {
                for y in 0..<16 {
                    for x in 0..<16 {
                        let avg = (big.value(c, 2 * x, 2 * y) + big.value(c, 2 * x + 1, 2 * y)
                                   + big.value(c, 2 * x, 2 * y + 1) + big.value(c, 2 * x + 1, 2 * y + 1)) / 4
                        worst = max(worst, Swift.abs(avg - small.value(c, x, y)))
                        total += Swift.abs(avg - small.value(c, x, y))
                    }
                }
            }
            #expect(worst <= 0.75, "\(spec.caption): 16×16 and downsampled 32×32 differ by \(worst) in one value")
            #expect(total / 768 < 0.02, "\(spec.caption): 16×16 and downsampled 32×32 differ by \(total / 768) on average")
        }
    }
}
