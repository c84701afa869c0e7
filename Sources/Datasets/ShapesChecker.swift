// The Shapes checker: reads an image back into words. Given a picture a model drew, it says either
// which of the 162 combinations it shows ("red circle top left") or that it is not a clean shape,
// and why. Chapters grade their samples with it; ShapesMetrics.swift turns its verdicts into scores.
//
// It is a classical pipeline, no learning, every step a few lines:
//
//   1. Light.       Map −1…1 to 0…1 (clamped); a pixel's lightness is its brightest channel.
//   2. Blobs.       Pixels lighter than 1/2 are foreground; group them into 8-connected blobs and
//                   keep the substantial ones (≥ 2 % of the image; specks are left to step 3).
//   3. Background.  Everything farther than one pixel from a substantial blob should be black:
//                   nothing lit is "blank"; a background whose RMS lightness is high is "noise";
//                   two or more substantial blobs are "several blobs".
//   4. Colour.      The mean hue of the blob's confident pixels (lightness ≥ 3/4; each pixel's RGB
//                   divided by its lightness) must lie near one of the six pure colours, else
//                   "impure colour".
//   5. Shape.       The blob's coverage map (the colour's lit channels, 0…1, over the blob and a
//                   one-pixel rim) gives its area and centroid. For each of the three shapes, the
//                   size with that area and the centre with that centroid fix one candidate, drawn
//                   like the renderer draws, sharp and softened by a 3×3 box blur (a model's
//                   samples are often soft); the candidate that differs least from the blob (L1,
//                   relative to the blob's area) names the shape. A size far from the data's is
//                   "wrong size"; a blob no candidate explains is "unclear shape".
//   6. Position.    The grid cell holding the centre of the fitted shape's bounding box. For circle
//                   and square that is the centroid; a triangle's centroid lies a sixth of its side
//                   below its box centre (a third of the way up from the base), more than the one-
//                   pixel margin the renderer keeps from the cell edge, so the fit corrects for it.
//
// Step 5 is template matching rather than a rule on the bounding box (square fill ≈ 1, circle π/4,
// triangle 1/2): at 16×16 a shape is 6–8 pixels across and a bounding box read from thresholded
// pixels is off by up to a pixel per edge, which moves those ratios by ±25 %. Area and centroid,
// summed over antialiased pixels, are exact to a few per cent, and the candidates carry the
// triangle's apex-up asymmetry with them.
//
// The tolerances (`ShapesChecker.Tolerances`) were set from measurements over seeded data set
// images, clean, noised (x + σ·ε) and blurred (3×3 box); the numbers are beside each one, and
// ShapesCheckerTests prints them again.
import Tensor

/// Why an image is not a clean shape.
public enum ShapeRejection: String, CaseIterable, Sendable {
    /// Nothing lit: no blob of lightness above 1/2 covering 2 % of the image.
    case blank
    /// The background is far from black (or the image is lit almost everywhere).
    case noise
    /// Two or more substantial blobs.
    case severalBlobs
    /// One blob, but its mean colour is far from all six pure colours.
    case impureColor
    /// One blob of a clean colour, but too small or too large to be a data set shape.
    case wrongSize
    /// One blob of a clean colour and size, but none of circle, square, triangle fits it.
    case unclearShape

    /// Words for a report: "several blobs".
    public var words: String {
        switch self {
        case .blank: return "blank"
        case .noise: return "noise"
        case .severalBlobs: return "several blobs"
        case .impureColor: return "impure colour"
        case .wrongSize: return "wrong size"
        case .unclearShape: return "unclear shape"
        }
    }
}

/// What the checker sees in an image: one clean shape, or not a clean shape and why.
public enum ShapeDescription: Hashable, Sendable, CustomStringConvertible {
    case shape(ShapeCombination)
    case notAShape(ShapeRejection)

    /// The combination shown, or nil for a rejected image.
    public var combination: ShapeCombination? {
        if case .shape(let c) = self { return c }
        return nil
    }
    public var isValid: Bool { combination != nil }
    /// "red circle top left", or "not a clean shape (several blobs)".
    public var description: String {
        switch self {
        case .shape(let c): return c.caption
        case .notAShape(let r): return "not a clean shape (\(r.words))"
        }
    }
}

/// The checker's verdict with the measurements behind it (for reports and for choosing tolerances).
/// Measurements the pipeline did not reach before rejecting are nil.
public struct ShapeAnalysis: Sendable {
    public var description: ShapeDescription
    /// Substantial blobs found (step 2).
    public var blobCount: Int
    /// RMS lightness (0…1) of the pixels farther than one pixel from every substantial blob (step 3).
    public var backgroundRMS: Float
    /// Mean hue (RGB over lightness) of the blob's confident pixels and its distance to the nearest pure colour (step 4).
    public var meanColor: SIMD3<Float>?
    public var colorDistance: Float?
    /// The fitted shape's side, as a fraction of the image side (step 5).
    public var side: Float?
    /// L1 misfit of each candidate, in `ShapeKind.allCases` order, relative to the blob's area (step 5).
    public var misfits: [Float]?
    /// The fitted shape's bounding-box centre, unit coordinates (x right, y down) (step 6).
    public var center: SIMD2<Float>?
}

/// Reads Shapes images back into colour, shape and position. See the file header for the pipeline.
public enum ShapesChecker {
    /// The thresholds, each with the measurement that set it. Lightness and colour are on 0…1.
    public enum Tolerances {
        /// A pixel is foreground when its lightness exceeds this: half covered.
        public static let foreground: Float = 0.5
        /// Pixels this light are "confident" and set the blob's colour (edge pixels are dimmer).
        public static let confident: Float = 0.75
        /// A blob is substantial from this fraction of the image's pixels (5 px at 16×16). The
        /// smallest data set shape, a triangle of side 0.4, covers 8 % (20 px at 16×16).
        public static let minBlobFraction: Float = 0.02
        /// Largest background RMS lightness accepted. Measured (max over 500 images at 16×16, 200 at
        /// 32×32): clean 0.006 (a triangle's faint apex pixel can sit two pixels from its blob);
        /// x + σ·ε about 0.56·σ: σ = 0.1 0.065, σ = 0.2 0.128, σ = 0.3 0.195, σ = 0.5 0.24–0.32;
        /// 3×3 box blur 0.054; pure N(0, 1) noise far above. So σ ≤ 0.3 passes, σ = 0.5 does not.
        public static let backgroundRMS: Float = 0.22
        /// Largest distance from the blob's mean hue to the nearest pure colour. Two pure colours are
        /// ≥ 1 apart. Measured max: clean and blurred 0.000; σ = 0.1 0.06, 0.2 0.11, 0.3 0.17
        /// (clamping at 0 lifts the off channels). Orange (1, ½, 0) is 0.5 away and rejected.
        public static let colorDistance: Float = 0.35
        /// Accepted sides of the fitted shape (fraction of the image side). The data set draws
        /// 0.4…0.5; fits land within 0.015 of the truth clean, 0.024 at σ = 0.3, 0.031 blurred.
        public static let side: ClosedRange<Float> = 0.3...0.6
        /// Largest L1 misfit of the best candidate, relative to the blob's area (each candidate is
        /// tried sharp and 3×3-box-softened, the better counts, so a soft sample is not "unclear").
        /// Measured max of the true shape: clean 0.011 (16×16) / 0.004 (32×32); σ = 0.1 0.10,
        /// 0.2 0.18, 0.3 0.25 / 0.16; blurred 0.20 / 0.08. The best *wrong* candidate of a clean
        /// image scores ≥ 0.13. Shapes that are none of the three score: apex-down or apex-left
        /// triangle 0.36, a 1.5:1 rectangle 0.33, a plus 0.37, a 2:1 ellipse 0.43. A diamond
        /// (0.17) and a 1.3:1 ellipse (0.16) pass as circles: at 16×16 they nearly are.
        public static let misfit: Float = 0.3
    }

    /// What image `chw` shows: `[3, size, size]` channel-planar, nominally in −1…1 (values outside
    /// are clamped, as a PNG writer would).
    public static func describe(_ chw: [Float], size: Int) -> ShapeDescription {
        analyze(chw, size: size).description
    }

    /// Describes each image of a [B, 3, H, W] batch.
    public static func describe(batch images: Tensor) -> [ShapeDescription] {
        guard images.rank == 4, images.shape[1] == 3, images.shape[2] == images.shape[3] else {
            fatalError("ShapesChecker.describe(batch:): need a [B, 3, H, H] tensor, got shape \(images.shape)")
        }
        return (0..<images.shape[0]).map { describe(ShapesDataset.image($0, of: images), size: images.shape[2]) }
    }

    /// The verdict and the measurements behind it.
    public static func analyze(_ chw: [Float], size n: Int) -> ShapeAnalysis {
        let plane = n * n
        guard n >= 8, chw.count == 3 * plane else {
            fatalError("ShapesChecker: need a [3, \(n), \(n)] image of \(3 * plane) values (size ≥ 8), got \(chw.count)")
        }

        // 1. Light: RGB on 0…1 and each pixel's lightness. A non-finite value counts as unlit.
        var rgb = [SIMD3<Float>](repeating: .zero, count: plane)
        for i in 0..<plane {
            for c in 0..<3 {
                let v = (chw[c * plane + i] + 1) / 2
                rgb[i][c] = v.isFinite ? min(max(v, 0), 1) : 0
            }
        }
        let light = rgb.map { $0.max() }

        // 2. Blobs: 8-connected components of the foreground; keep the substantial ones.
        let (label, sizes) = components(light.map { $0 > Tolerances.foreground }, n: n)
        let minPixels = max(3, Int((Tolerances.minBlobFraction * Float(plane)).rounded()))
        let substantial = sizes.indices.filter { sizes[$0] >= minPixels }

        // 3. Background: pixels more than one pixel away from every substantial blob.
        let near = dilate(label.map { $0 >= 0 && sizes[$0] >= minPixels }, n: n)
        var sumSquares: Float = 0, backgroundCount = 0
        for i in 0..<plane where !near[i] { sumSquares += light[i] * light[i]; backgroundCount += 1 }
        let backgroundRMS = backgroundCount > 0 ? (sumSquares / Float(backgroundCount)).squareRoot() : 1
        var result = ShapeAnalysis(description: .notAShape(.blank), blobCount: substantial.count,
                                   backgroundRMS: backgroundRMS)
        // Lit almost everywhere (less than a quarter of the image is background) is noise too; the
        // largest data set shape with its rim leaves over half the image black.
        if backgroundRMS > Tolerances.backgroundRMS || backgroundCount * 4 < plane {
            result.description = .notAShape(.noise)
            return result
        }
        if substantial.isEmpty { return result }  // blank
        if substantial.count > 1 {
            result.description = .notAShape(.severalBlobs)
            return result
        }
        let blob = substantial[0]

        // 4. Colour: the mean hue of the blob's confident pixels (all its pixels if none is confident),
        // each pixel's RGB divided by its lightness first, so a partly covered pixel of pure red,
        // (0.8, 0, 0), counts as (1, 0, 0): brightness was step 2's business.
        var sum = SIMD3<Float>.zero, count = 0
        for i in 0..<plane where label[i] == blob && light[i] >= Tolerances.confident { sum += rgb[i] / light[i]; count += 1 }
        if count == 0 {
            for i in 0..<plane where label[i] == blob { sum += rgb[i] / light[i]; count += 1 }
        }
        let mean = sum / Float(count)
        func distance(_ c: ShapeColor) -> Float {
            let d = mean - SIMD3(c.rgb[0], c.rgb[1], c.rgb[2])
            return (d * d).sum().squareRoot()
        }
        let color = ShapeColor.allCases.min { distance($0) < distance($1) }!
        result.meanColor = mean
        result.colorDistance = distance(color)
        if distance(color) > Tolerances.colorDistance {
            result.description = .notAShape(.impureColor)
            return result
        }

        // 5. Shape: the coverage map of the blob and its rim, read through the colour's lit channels.
        let lit = SIMD3(color.rgb[0], color.rgb[1], color.rgb[2])
        let rim = dilate(label.map { $0 == blob }, n: n)
        var coverage = [Float](repeating: 0, count: plane)
        var area: Float = 0, moment = SIMD2<Float>.zero  // in pixels
        for y in 0..<n {
            for x in 0..<n where rim[y * n + x] {
                let c = (rgb[y * n + x] * lit).sum() / lit.sum()
                coverage[y * n + x] = c
                area += c
                moment += c * SIMD2(Float(x) + 0.5, Float(y) + 0.5)
            }
        }
        let unitArea = area / Float(plane)                  // fraction of the image
        let centroid = moment / (area * Float(n))           // unit coordinates
        var best = (kind: ShapeKind.circle, misfit: Float.infinity, side: Float(0), center: SIMD2<Float>.zero)
        var misfits: [Float] = []
        for kind in ShapeKind.allCases {
            // Area of a shape of side s: circle π s²/4, square s², triangle s²/2.
            let side: Float
            var center = centroid
            switch kind {
            case .circle: side = (4 * unitArea / Float.pi).squareRoot()
            case .square: side = unitArea.squareRoot()
            case .triangle: side = (2 * unitArea).squareRoot(); center.y -= side / 6
            }
            let sharp = candidate(kind, side: side, center: center, n: n)
            let m = min(misfit(coverage, sharp), misfit(coverage, boxBlurred(sharp, n: n)))
            misfits.append(m)
            if m < best.misfit { best = (kind, m, side, center) }
        }
        result.side = best.side
        result.misfits = misfits
        result.center = best.center
        if !Tolerances.side.contains(best.side) {
            result.description = .notAShape(.wrongSize)
            return result
        }
        if best.misfit > Tolerances.misfit {
            result.description = .notAShape(.unclearShape)
            return result
        }

        // 6. Position: the cell holding the fitted box centre.
        func cell(_ u: Float) -> Int { min(max(Int((u * 3).rounded(.down)), 0), 2) }
        let position = ShapePosition(row: cell(best.center.y), column: cell(best.center.x))
        result.description = .shape(ShapeCombination(color: color, kind: best.kind, position: position))
        return result
    }

    /// A candidate's coverage map: a `kind` of this side (clamped to 0.1…0.6) and bounding-box centre,
    /// drawn the way `Shapes.render` draws (4 × 4 subsamples per pixel), n × n, 0…1.
    static func candidate(_ kind: ShapeKind, side: Float, center: SIMD2<Float>, n: Int) -> [Float] {
        let shape = ShapeSpec(kind: kind, color: .red, position: .center, size: min(max(side, 0.1), 0.6))
        let s = Shapes.subsamples, r = shape.size / 2
        var out = [Float](repeating: 0, count: n * n)
        // Only the pixels the shape's bounding box touches can be covered.
        func range(_ c: Float) -> ClosedRange<Int>? {
            let lo = max(0, Int(((c - r) * Float(n)).rounded(.down))), hi = min(n - 1, Int(((c + r) * Float(n)).rounded(.down)))
            return lo <= hi ? lo...hi : nil
        }
        guard let xs = range(center.x), let ys = range(center.y) else { return out }
        for y in ys {
            for x in xs {
                var inside = 0
                for sy in 0..<s {
                    let v = (Float(y) + (Float(sy) + 0.5) / Float(s)) / Float(n)
                    for sx in 0..<s {
                        let u = (Float(x) + (Float(sx) + 0.5) / Float(s)) / Float(n)
                        if shape.contains(x: u, y: v, center: center) { inside += 1 }
                    }
                }
                out[y * n + x] = Float(inside) / Float(s * s)
            }
        }
        return out
    }

    /// Σ|coverage − candidate| / Σ coverage: how badly the candidate explains the coverage map.
    static func misfit(_ coverage: [Float], _ candidate: [Float]) -> Float {
        var difference: Float = 0, area: Float = 0
        for i in coverage.indices { difference += abs(coverage[i] - candidate[i]); area += coverage[i] }
        return difference / area
    }

    /// A 3×3 box blur of an n × n map; at the edges it averages the neighbours that exist.
    static func boxBlurred(_ map: [Float], n: Int) -> [Float] {
        var out = map
        for y in 0..<n {
            for x in 0..<n {
                var sum: Float = 0, count: Float = 0
                for yy in max(0, y - 1)...min(n - 1, y + 1) {
                    for xx in max(0, x - 1)...min(n - 1, x + 1) { sum += map[yy * n + xx]; count += 1 }
                }
                out[y * n + x] = sum / count
            }
        }
        return out
    }

    /// 8-connected components of `mask` (n × n, row-major): each pixel's component (−1 off the
    /// mask) and each component's pixel count, components numbered in scan order.
    static func components(_ mask: [Bool], n: Int) -> (label: [Int], sizes: [Int]) {
        var label = [Int](repeating: -1, count: n * n)
        var sizes: [Int] = []
        var stack: [Int] = []
        for start in 0..<(n * n) where mask[start] && label[start] < 0 {
            let id = sizes.count
            var count = 0
            label[start] = id
            stack.append(start)
            while let p = stack.popLast() {
                count += 1
                let px = p % n, py = p / n
                for dy in -1...1 {
                    for dx in -1...1 {
                        let x = px + dx, y = py + dy
                        guard x >= 0, x < n, y >= 0, y < n else { continue }
                        let q = y * n + x
                        if mask[q] && label[q] < 0 { label[q] = id; stack.append(q) }
                    }
                }
            }
            sizes.append(count)
        }
        return (label, sizes)
    }

    /// `mask` grown by one pixel in all eight directions.
    static func dilate(_ mask: [Bool], n: Int) -> [Bool] {
        var out = mask
        for y in 0..<n {
            for x in 0..<n where mask[y * n + x] {
                for yy in max(0, y - 1)...min(n - 1, y + 1) {
                    for xx in max(0, x - 1)...min(n - 1, x + 1) { out[yy * n + xx] = true }
                }
            }
        }
        return out
    }
}
