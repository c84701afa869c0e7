// Shapes: the course's image data. One filled shape — circle, square or triangle (apex up) — in a
// pure colour on a black background, placed in one cell of a 3×3 grid, antialiased, 16×16 pixels by
// default (32×32 works the same: every length is a fraction of the image side). Each image has a
// caption made of the words that describe it, "red circle top left", which the text-conditioned
// chapters use as prompts and the checker uses to grade what a model drew.
//
// This file is the renderer: a `ShapeSpec` says what to draw, `Shapes.render` draws it,
// `Shapes.random` draws a spec from the package's seeded generator.
//
// Geometry, in unit coordinates (the image is [0, 1] × [0, 1], x to the right, y down):
//   - the shape's bounding box is `size` × `size`, `size` in 0.4…0.5 for random shapes (6.4 to 8
//     pixels at 16×16: "at least 6 px across");
//   - its centre (the centre of the bounding box) lies inside the grid cell of its position, at
//     least 1/16 of the side (one pixel at 16×16) from the cell's edges, and far enough from the
//     image's edges that the whole shape is visible; `jitter` picks the spot in that range;
//   - the triangle is isosceles, base `size` at the bottom, apex at the top centre.
// A pixel's value is the fraction of it the shape covers (measured on a 4 × 4 grid of subsamples)
// times the colour, then mapped from 0…1 to −1…1, the range the diffusion models work in.
import Tensor

/// The three shapes.
public enum ShapeKind: String, CaseIterable, Sendable {
    case circle, square, triangle
    /// The caption word.
    public var word: String { rawValue }
}

/// The six pure colours: every RGB channel is either off or fully on.
public enum ShapeColor: String, CaseIterable, Sendable {
    case red, green, blue, yellow, cyan, magenta
    /// The caption word.
    public var word: String { rawValue }
    /// The colour's channels, each 0 or 1.
    public var rgb: [Float] {
        switch self {
        case .red: return [1, 0, 0]
        case .green: return [0, 1, 0]
        case .blue: return [0, 0, 1]
        case .yellow: return [1, 1, 0]
        case .cyan: return [0, 1, 1]
        case .magenta: return [1, 0, 1]
        }
    }
}

/// The nine cells of a 3×3 grid over the image, row by row from the top left.
public enum ShapePosition: Int, CaseIterable, Sendable {
    case topLeft, top, topRight, left, center, right, bottomLeft, bottom, bottomRight

    /// 0 (top), 1 (middle), 2 (bottom).
    public var row: Int { rawValue / 3 }
    /// 0 (left), 1 (middle), 2 (right).
    public var column: Int { rawValue % 3 }

    public init(row: Int, column: Int) {
        guard (0..<3).contains(row), (0..<3).contains(column) else {
            fatalError("ShapePosition(row: \(row), column: \(column)): row and column must be 0, 1 or 2")
        }
        self.init(rawValue: row * 3 + column)!
    }

    /// The caption words: "top left", "top", …, "center", …, "bottom right".
    public var words: String {
        switch self {
        case .topLeft: return "top left"
        case .top: return "top"
        case .topRight: return "top right"
        case .left: return "left"
        case .center: return "center"
        case .right: return "right"
        case .bottomLeft: return "bottom left"
        case .bottom: return "bottom"
        case .bottomRight: return "bottom right"
        }
    }
}

/// What one Shapes image shows. Lengths are fractions of the image side, so one spec renders the
/// same picture at 16×16 and at 32×32.
public struct ShapeSpec: Equatable, Hashable, Sendable {
    public var kind: ShapeKind
    public var color: ShapeColor
    public var position: ShapePosition
    /// Where the centre sits in the range its cell allows, per axis in −1…1: 0 is the middle of
    /// that range, −1 its left (top) end, +1 its right (bottom) end.
    public var jitter: SIMD2<Float>
    /// Side of the shape's bounding box, as a fraction of the image side (0.1…0.6).
    public var size: Float

    /// Sizes `Shapes.random` draws from: 6.4 to 8 pixels at 16×16.
    public static let randomSizes: ClosedRange<Float> = 0.4...0.5
    /// The centre keeps this far (a fraction of the side; one pixel at 16×16) from its cell's edges.
    public static let cellMargin: Float = 1.0 / 16

    public init(kind: ShapeKind, color: ShapeColor, position: ShapePosition,
                jitter: SIMD2<Float> = .zero, size: Float = 0.45) {
        guard (-1...1).contains(jitter.x), (-1...1).contains(jitter.y) else {
            fatalError("ShapeSpec: jitter must lie in -1...1 on both axes, got (\(jitter.x), \(jitter.y))")
        }
        guard (0.1...0.6).contains(size) else {
            fatalError("ShapeSpec: size must lie in 0.1...0.6 (a fraction of the image side), got \(size)")
        }
        self.kind = kind; self.color = color; self.position = position; self.jitter = jitter; self.size = size
    }

    /// "red circle top left": colour, shape, position.
    public var caption: String { "\(color.word) \(kind.word) \(position.words)" }

    /// The centre of the shape's bounding box in unit coordinates (x right, y down).
    public var center: SIMD2<Float> {
        let r = size / 2
        func axis(_ cell: Int, _ j: Float) -> Float {
            let lo = Swift.max(Float(cell) / 3 + ShapeSpec.cellMargin, r)      // inside the cell, shape inside the image
            let hi = Swift.min(Float(cell + 1) / 3 - ShapeSpec.cellMargin, 1 - r)
            let mid = (lo + hi) / 2, half = Swift.max(0, hi - lo) / 2
            return mid + j * half
        }
        return SIMD2(axis(position.column, jitter.x), axis(position.row, jitter.y))
    }

    /// Whether the point (x, y), in unit coordinates, is inside the shape.
    @inlinable
    public func contains(x: Float, y: Float, center c: SIMD2<Float>) -> Bool {
        let r = size / 2
        let dx = x - c.x, dy = y - c.y
        switch kind {
        case .circle:
            return dx * dx + dy * dy <= r * r
        case .square:
            return Swift.abs(dx) <= r && Swift.abs(dy) <= r
        case .triangle:
            // Apex at (c.x, c.y − r), base from (c.x − r, c.y + r) to (c.x + r, c.y + r): at depth
            // d = dy + r below the apex the triangle is d wide, so |dx| ≤ d/2.
            let depth = dy + r
            return depth >= 0 && depth <= 2 * r && Swift.abs(dx) <= depth / 2
        }
    }
}

/// The Shapes data set's renderer and sampler.
public enum Shapes {
    /// Image side in pixels, unless asked otherwise.
    public static let defaultSize = 16
    /// Antialiasing: each pixel is sampled on a `subsamples` × `subsamples` grid.
    public static let subsamples = 4

    /// A random spec: shape, colour and position uniformly, then jitter uniform in −1…1 per axis and
    /// size uniform in `ShapeSpec.randomSizes`, drawn in that order from `rng`.
    public static func random(using rng: inout RandomGenerator) -> ShapeSpec {
        let kind = ShapeKind.allCases[rng.int(in: 0..<ShapeKind.allCases.count)]
        let color = ShapeColor.allCases[rng.int(in: 0..<ShapeColor.allCases.count)]
        let position = ShapePosition.allCases[rng.int(in: 0..<ShapePosition.allCases.count)]
        let jx = rng.uniform(in: -1...1), jy = rng.uniform(in: -1...1)
        let size = rng.uniform(in: ShapeSpec.randomSizes)
        return ShapeSpec(kind: kind, color: color, position: position, jitter: SIMD2(jx, jy), size: size)
    }

    /// Draws `spec` as a `size` × `size` RGB image, channel-planar ([3, size, size], the value for
    /// channel c, row y, column x at `(c * size + y) * size + x`), in −1…1: black is −1, a fully
    /// covered pixel of a lit channel is +1, an edge pixel lies in between.
    public static func render(_ spec: ShapeSpec, size: Int = defaultSize) -> [Float] {
        guard size >= 8 else { fatalError("Shapes.render: size must be at least 8 pixels, got \(size)") }
        let c = spec.center
        let n = Float(size), s = subsamples
        let rgb = spec.color.rgb
        let plane = size * size
        var out = [Float](repeating: -1, count: 3 * plane)
        for y in 0..<size {
            for x in 0..<size {
                var inside = 0
                for sy in 0..<s {
                    let v = (Float(y) + (Float(sy) + 0.5) / Float(s)) / n
                    for sx in 0..<s {
                        let u = (Float(x) + (Float(sx) + 0.5) / Float(s)) / n
                        if spec.contains(x: u, y: v, center: c) { inside += 1 }
                    }
                }
                let coverage = Float(inside) / Float(s * s)
                for ch in 0..<3 { out[ch * plane + y * size + x] = 2 * coverage * rgb[ch] - 1 }
            }
        }
        return out
    }
}
