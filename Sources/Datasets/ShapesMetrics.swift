// Scores for a pile of generated Shapes images, computed from the checker's verdicts
// (ShapesChecker.swift). One number is never enough: a model that draws one perfect red circle
// every time is 100 % valid, so the scores also ask how much of the data set it covers.
//
//   validity   the fraction of images the checker reads as a clean shape;
//   coverage   how many of the 162 colour × shape × position combinations the valid images show,
//              and per attribute: colours out of 6, shapes out of 3, positions out of 9;
//   TV         the total variation distance between the mix of combinations among valid images
//              and the uniform mix the data set draws from:
//
//                  TV = ½ Σ_k |p̂_k − 1/162|,   p̂_k = (valid images showing k) / (valid images)
//
//              0 is a perfectly even mix, 1 − 1/162 ≈ 0.994 a single combination every time. When the
//              valid images show m combinations, each at least 1/162 of the time, TV = 1 − m/162.
//              Read it against its floor: n images from a perfect sampler still miss some
//              combinations and repeat others by chance, so their TV is well above 0 —
//              `ShapesMetrics.expectedTV(samples:)` (about 0.36 for n = 200). A model at that floor
//              mixes as evenly as the data does.
//
//   adherence  for prompted sampling: the fraction of images that show each requested attribute,
//              and all of them at once (a rejected image matches nothing).

/// Validity, coverage and distance from uniform of a list of checker verdicts.
public struct ShapesMetrics: Sendable, CustomStringConvertible {
    /// Images scored, and how many the checker read as a clean shape.
    public let count: Int
    public let validCount: Int
    /// How many valid images show each combination, indexed by `ShapeCombination.index`.
    public let histogram: [Int]
    /// Distinct combinations (of 162), colours (of 6), shapes (of 3), positions (of 9) among valid images.
    public let combinationsSeen: Int
    public let colorsSeen: Int
    public let shapesSeen: Int
    public let positionsSeen: Int
    /// Why the others were rejected: count per reason.
    public let rejections: [ShapeRejection: Int]

    public init(_ descriptions: [ShapeDescription]) {
        var histogram = [Int](repeating: 0, count: ShapeCombination.count)
        var rejections: [ShapeRejection: Int] = [:]
        var colors = Set<ShapeColor>(), kinds = Set<ShapeKind>(), positions = Set<ShapePosition>()
        for d in descriptions {
            switch d {
            case .shape(let c):
                histogram[c.index] += 1
                colors.insert(c.color); kinds.insert(c.kind); positions.insert(c.position)
            case .notAShape(let r):
                rejections[r, default: 0] += 1
            }
        }
        self.count = descriptions.count
        self.validCount = histogram.reduce(0, +)
        self.histogram = histogram
        self.combinationsSeen = histogram.filter { $0 > 0 }.count
        self.colorsSeen = colors.count
        self.shapesSeen = kinds.count
        self.positionsSeen = positions.count
        self.rejections = rejections
    }

    /// Fraction of images that are a clean shape (0 for an empty list).
    public var validity: Double { count == 0 ? 0 : Double(validCount) / Double(count) }
    /// Fraction of the 162 combinations shown at least once.
    public var coverage: Double { Double(combinationsSeen) / Double(ShapeCombination.count) }

    /// Total variation distance from the uniform mix over the 162 combinations, among valid images:
    /// ½ Σ_k |p̂_k − 1/162|. With no valid image there is no mix to compare; it counts as 1.
    public var totalVariation: Double {
        guard validCount > 0 else { return 1 }
        let u = 1 / Double(ShapeCombination.count), n = Double(validCount)
        return histogram.reduce(0) { $0 + abs(Double($1) / n - u) } / 2
    }

    /// The TV a perfect sampler scores on average with `n` valid images over `categories` equally
    /// likely combinations. Each count X_k is Binomial(n, 1/K), so
    ///
    ///     E[TV] = ½ Σ_k E|X_k/n − 1/K| = (K/2) Σ_{x=0…n} P(X = x) |x/n − 1/K|
    ///
    /// summed exactly (the pmf by the recurrence P(x+1) = P(x)·(n−x)/(x+1)·p/(1−p)). For K = 162:
    /// n = 100 gives 0.54, 200 gives 0.36, 500 gives 0.22, 1,000 gives 0.16; it falls like 1/√n.
    public static func expectedTV(samples n: Int, categories k: Int = ShapeCombination.count) -> Double {
        guard n > 0 else { return 1 }
        guard k > 1 else { return 0 }
        let p = 1 / Double(k)
        var pmf = pow1p(-p, n)  // P(X = 0) = (1 − p)^n
        var mean: Double = 0
        for x in 0...n {
            mean += pmf * abs(Double(x) / Double(n) - p)
            pmf *= Double(n - x) / Double(x + 1) * p / (1 - p)
        }
        return Double(k) / 2 * mean
    }

    /// (1 + a)^n by repeated squaring, without Foundation.
    private static func pow1p(_ a: Double, _ n: Int) -> Double {
        var result = 1.0, base = 1 + a, e = n
        while e > 0 {
            if e & 1 == 1 { result *= base }
            base *= base
            e >>= 1
        }
        return result
    }

    /// One line for a report: "valid 97.0 % (194/200) · combinations 120/162 · colours 6/6 · shapes 3/3 ·
    /// positions 9/9 · TV 0.41 (floor 0.37 at n = 194)".
    public var description: String {
        let floor = ShapesMetrics.expectedTV(samples: validCount)
        return "valid \(percent(validity)) (\(validCount)/\(count)) · combinations \(combinationsSeen)/162 · "
            + "colours \(colorsSeen)/6 · shapes \(shapesSeen)/3 · positions \(positionsSeen)/9 · "
            + "TV \(fixed(totalVariation)) (floor \(fixed(floor)) at n = \(validCount))"
    }
}

/// How often prompted images show what was asked for.
public struct ShapeAdherence: Sendable, CustomStringConvertible {
    /// Fraction of the images whose prompt asked for a colour (shape, position) that show that
    /// colour (shape, position); nil when no prompt asked for it.
    public let color: Double?
    public let kind: Double?
    public let position: Double?
    /// Fraction of all images showing everything their prompt asked for (an empty prompt asks only
    /// for a clean shape).
    public let all: Double
    public let count: Int

    /// Pairs prompts[i] with descriptions[i].
    public init(prompts: [ShapePrompt], descriptions: [ShapeDescription]) {
        guard prompts.count == descriptions.count else {
            fatalError("ShapeAdherence: \(prompts.count) prompts but \(descriptions.count) descriptions")
        }
        func rate(_ asked: (ShapePrompt) -> Bool, _ matches: (ShapePrompt, ShapeCombination) -> Bool) -> Double? {
            var n = 0, hits = 0
            for (p, d) in zip(prompts, descriptions) where asked(p) {
                n += 1
                if let c = d.combination, matches(p, c) { hits += 1 }
            }
            return n == 0 ? nil : Double(hits) / Double(n)
        }
        color = rate({ $0.color != nil }, { $0.color == $1.color })
        kind = rate({ $0.kind != nil }, { $0.kind == $1.kind })
        position = rate({ $0.position != nil }, { $0.position == $1.position })
        all = rate({ _ in true }, { $0.isSatisfied(by: $1) }) ?? 0
        count = prompts.count
    }

    /// Every image drawn for the same prompt.
    public init(prompt: ShapePrompt, descriptions: [ShapeDescription]) {
        self.init(prompts: Array(repeating: prompt, count: descriptions.count), descriptions: descriptions)
    }

    /// "colour 95.0 % · shape 90.0 % · position — · all 86.0 % (n = 200)".
    public var description: String {
        func show(_ v: Double?) -> String { v.map(percent) ?? "—" }
        return "colour \(show(color)) · shape \(show(kind)) · position \(show(position)) · all \(percent(all)) (n = \(count))"
    }
}

/// 0.97 → "97.0 %".
private func percent(_ v: Double) -> String { fixed(100 * v, digits: 1) + " %" }

/// A fixed-point string without Foundation: fixed(0.4149) → "0.41".
private func fixed(_ v: Double, digits: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(v) * scale).rounded()
    let whole = Int(r / scale), frac = Int(r - Double(whole) * scale)
    var f = String(frac)
    while f.count < digits { f = "0" + f }
    return (v < 0 && r > 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + f : "")
}
