// Chapter 5's Shapes variant: two shapes, one in the left column and one in the right column of
// the 3×3 grid, that must share a colour. Distant parts of the image must agree, which is what
// attention is for; the checker reads each half with the single-shape checker and says whether
// the pair keeps the rule.

import Tensor

/// What a paired image shows: one colour, the left shape (column 0) and the right shape (column 2),
/// each in its own row. 6 × 3 × 3 × 3 × 3 = 486 pairs.
public struct ShapePair: Hashable, Sendable, CustomStringConvertible {
    public var color: ShapeColor
    public var leftKind: ShapeKind, leftRow: Int
    public var rightKind: ShapeKind, rightRow: Int

    public init(color: ShapeColor, leftKind: ShapeKind, leftRow: Int, rightKind: ShapeKind, rightRow: Int) {
        self.color = color; self.leftKind = leftKind; self.leftRow = leftRow; self.rightKind = rightKind; self.rightRow = rightRow
    }

    public static let count = 486

    public var left: ShapeCombination { ShapeCombination(color: color, kind: leftKind, position: ShapePosition(row: leftRow, column: 0)) }
    public var right: ShapeCombination { ShapeCombination(color: color, kind: rightKind, position: ShapePosition(row: rightRow, column: 2)) }

    /// "red circle top left and red square bottom right".
    public var description: String { "\(left.caption) and \(right.caption)" }
}

/// The checker's verdict on a paired image: what each half shows, whether that is a valid pair
/// (a clean shape in the left column of the left half and in the right column of the right half),
/// and whether the two share a colour (the rule).
public struct PairDescription: Sendable, CustomStringConvertible {
    public var left: ShapeDescription
    public var right: ShapeDescription

    /// Both halves clean shapes, the left one in column 0 and the right one in column 2.
    public var isValid: Bool {
        guard let l = left.combination, let r = right.combination else { return false }
        return l.position.column == 0 && r.position.column == 2
    }
    /// A valid pair whose shapes share a colour.
    public var keepsRule: Bool { isValid && left.combination!.color == right.combination!.color }
    /// The pair shown, if valid and keeping the rule.
    public var pair: ShapePair? {
        guard keepsRule, let l = left.combination, let r = right.combination else { return nil }
        return ShapePair(color: l.color, leftKind: l.kind, leftRow: l.position.row, rightKind: r.kind, rightRow: r.position.row)
    }

    public var description: String {
        if let pair { return pair.description }
        if isValid { return "\(left) and \(right) (colours differ)" }
        if !left.isValid { return "left: \(left)" }
        if !right.isValid { return "right: \(right)" }
        return "shapes in the wrong columns"
    }
}

/// An endless, seeded stream of paired images (16×16 by default): the same renderer as `ShapesDataset`.
///
/// To keep the two shapes apart the sizes are 0.40–0.45 of the side (6.4–7.2 px at 16×16) and the
/// left shape's horizontal jitter is drawn from the left half of its range, the right one's from
/// the right half: the left shape ends before x = 7.6 px and the right one starts after 8.4 px, so
/// the halves x < 8 and x ≥ 8 each hold exactly one shape.
public struct PairedShapesDataset: Sendable {
    public let size: Int

    public init(size: Int = Shapes.defaultSize) {
        guard size >= 8, size % 2 == 0 else { fatalError("PairedShapesDataset: size must be even and at least 8, got \(size)") }
        self.size = size
    }

    public static let sizes: ClosedRange<Float> = 0.40...0.45

    /// The two specs of one random pair, drawn from `rng`: colour, left kind and row, right kind and
    /// row, then each shape's jitter (x, y) and size.
    public func randomSpecs(using rng: inout RandomGenerator) -> (left: ShapeSpec, right: ShapeSpec) {
        let color = ShapeColor.allCases[rng.int(in: 0..<6)]
        let lk = ShapeKind.allCases[rng.int(in: 0..<3)], lr = rng.int(in: 0..<3)
        let rk = ShapeKind.allCases[rng.int(in: 0..<3)], rr = rng.int(in: 0..<3)
        let left = ShapeSpec(kind: lk, color: color, position: ShapePosition(row: lr, column: 0),
                             jitter: SIMD2(rng.uniform(in: -1...0), rng.uniform(in: -1...1)), size: rng.uniform(in: Self.sizes))
        let right = ShapeSpec(kind: rk, color: color, position: ShapePosition(row: rr, column: 2),
                              jitter: SIMD2(rng.uniform(in: 0...1), rng.uniform(in: -1...1)), size: rng.uniform(in: Self.sizes))
        return (left, right)
    }

    /// Both shapes in one `[3, size, size]` image: each pixel the brighter of the two renderings.
    public func render(_ left: ShapeSpec, _ right: ShapeSpec) -> [Float] {
        zip(Shapes.render(left, size: size), Shapes.render(right, size: size)).map { Swift.max($0, $1) }
    }

    /// `count` images `[count, 3, size, size]` in −1…1 and the pair each shows.
    public func batch(_ count: Int, using rng: inout RandomGenerator) -> (images: Tensor, pairs: [ShapePair]) {
        var data: [Float] = []
        data.reserveCapacity(count * 3 * size * size)
        var pairs: [ShapePair] = []
        for _ in 0..<count {
            let (l, r) = randomSpecs(using: &rng)
            data += render(l, r)
            pairs.append(ShapePair(color: l.color, leftKind: l.kind, leftRow: l.position.row, rightKind: r.kind, rightRow: r.position.row))
        }
        return (Tensor(data, shape: [count, 3, size, size]), pairs)
    }

    /// Reads a paired image: the single-shape checker on the left half (the right half blanked to
    /// black) and on the right half (the left half blanked).
    public static func describe(_ chw: [Float], size n: Int) -> PairDescription {
        func half(_ keepLeft: Bool) -> [Float] {
            var out = chw
            for c in 0..<3 {
                for y in 0..<n {
                    for x in 0..<n where (x < n / 2) != keepLeft { out[(c * n + y) * n + x] = -1 }
                }
            }
            return out
        }
        return PairDescription(left: ShapesChecker.describe(half(true), size: n), right: ShapesChecker.describe(half(false), size: n))
    }

    public static func describe(batch images: Tensor) -> [PairDescription] {
        guard images.rank == 4, images.shape[1] == 3, images.shape[2] == images.shape[3] else {
            fatalError("PairedShapesDataset.describe(batch:): need a [B, 3, H, H] tensor, got shape \(images.shape)")
        }
        return (0..<images.shape[0]).map { describe(ShapesDataset.image($0, of: images), size: images.shape[2]) }
    }
}

/// Validity, the rule and coverage of a set of paired samples.
public struct PairMetrics: Sendable, CustomStringConvertible {
    public let count: Int
    public let validCount: Int
    public let ruleKeptCount: Int
    /// Distinct pairs among those keeping the rule (of 486).
    public let pairsSeen: Int
    public let colorsSeen: Int
    /// Distinct left and right single shapes (colour × kind × row, of 54 each).
    public let leftSeen: Int, rightSeen: Int
    /// Total variation distance from uniform of the left shapes' mix and of the right shapes' mix (54
    /// each, among valid pairs), averaged: ½ Σ_k |p̂_k − 1/54|. A model that favours some colours,
    /// kinds or rows scores high; compare with `expectedTV` (a perfect sampler's score at this n).
    public let totalVariation: Double

    public init(_ descriptions: [PairDescription]) {
        count = descriptions.count
        validCount = descriptions.filter(\.isValid).count
        ruleKeptCount = descriptions.filter(\.keepsRule).count
        let pairs = descriptions.compactMap(\.pair)
        pairsSeen = Set(pairs).count
        colorsSeen = Set(pairs.map(\.color)).count
        let valid = descriptions.filter(\.isValid)
        leftSeen = Set(valid.compactMap(\.left.combination)).count
        rightSeen = Set(valid.compactMap(\.right.combination)).count
        func tv(_ shapes: [ShapeCombination]) -> Double {
            guard !shapes.isEmpty else { return 1 }
            var histogram: [ShapeCombination: Int] = [:]
            for s in shapes { histogram[s, default: 0] += 1 }
            let u = 1 / 54.0, n = Double(shapes.count)
            // Combinations never drawn contribute |0 − 1/54| each.
            let seen = histogram.values.reduce(0) { $0 + abs(Double($1) / n - u) }
            return (seen + Double(54 - histogram.count) * u) / 2
        }
        totalVariation = (tv(valid.compactMap(\.left.combination)) + tv(valid.compactMap(\.right.combination))) / 2
    }

    /// The `totalVariation` a perfect sampler scores on average with `validCount` valid pairs.
    public var expectedTV: Double { ShapesMetrics.expectedTV(samples: validCount, categories: 54) }

    public var validity: Double { count == 0 ? 0 : Double(validCount) / Double(count) }
    /// Of the valid pairs, the share whose colours agree.
    public var ruleKept: Double { validCount == 0 ? 0 : Double(ruleKeptCount) / Double(validCount) }

    public var description: String {
        "valid \(Int((validity * 1000).rounded()) / 10) % (\(validCount)/\(count)) · same colour \(ruleKeptCount)/\(validCount) · "
            + "pairs \(pairsSeen)/486 · colours \(colorsSeen)/6 · left shapes \(leftSeen)/54 · right shapes \(rightSeen)/54 · "
            + "TV \(Double(Int((totalVariation * 100).rounded())) / 100) (floor \(Double(Int((expectedTV * 100).rounded())) / 100))"
    }
}
