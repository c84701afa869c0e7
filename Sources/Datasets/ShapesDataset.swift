// The Shapes data set: batches of captioned images for training, deterministic from a seed.
//
// Every image shows one of 6 colours × 3 shapes × 9 positions = 162 combinations. A batch draws the
// combination uniformly (so a model that learns the data sees every combination equally often), then
// the jitter inside the cell and the size at random, and renders with `Shapes.render`.
//
// A data set may hold some combinations out (`excluding:`), so a later chapter can ask whether a
// text-conditioned model composes "blue triangle" without ever having seen one.
//
//     var data = ShapesDataset(size: 16, seed: 42)
//     let (images, specs) = data.nextBatch(64)        // images: [64, 3, 16, 16] in −1…1
//     print(specs[0].caption)                          // "red circle top left"
//
// The checker that reads these images back is in ShapesChecker.swift, the quality measures built on
// it (validity, coverage, distance from uniform, prompt adherence) in ShapesMetrics.swift.
import Tensor

/// One of the 162 things a Shapes image can show: a colour, a shape and a position.
public struct ShapeCombination: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var color: ShapeColor
    public var kind: ShapeKind
    public var position: ShapePosition

    public init(color: ShapeColor, kind: ShapeKind, position: ShapePosition) {
        self.color = color; self.kind = kind; self.position = position
    }

    /// All 162, ordered by colour, then shape, then position (so `all[c.index] == c`).
    public static let all: [ShapeCombination] = ShapeColor.allCases.flatMap { color in
        ShapeKind.allCases.flatMap { kind in
            ShapePosition.allCases.map { ShapeCombination(color: color, kind: kind, position: $0) }
        }
    }
    /// 6 × 3 × 9 = 162.
    public static var count: Int { ShapeColor.allCases.count * ShapeKind.allCases.count * ShapePosition.allCases.count }

    /// This combination's place in `all`, 0..<162.
    public var index: Int {
        let c = ShapeColor.allCases.firstIndex(of: color)!, k = ShapeKind.allCases.firstIndex(of: kind)!
        return (c * ShapeKind.allCases.count + k) * ShapePosition.allCases.count + position.rawValue
    }

    /// "red circle top left", the same words as `ShapeSpec.caption`.
    public var caption: String { "\(color.word) \(kind.word) \(position.words)" }
    public var description: String { caption }

    public static func < (a: ShapeCombination, b: ShapeCombination) -> Bool { a.index < b.index }

    /// The combinations that match every attribute given (nil means any): e.g. all 9 positions of
    /// the red circle with `matching(color: .red, kind: .circle)`, handy for `excluding:`.
    public static func matching(color: ShapeColor? = nil, kind: ShapeKind? = nil,
                                position: ShapePosition? = nil) -> [ShapeCombination] {
        all.filter { c in
            (color.map { $0 == c.color } ?? true) && (kind.map { $0 == c.kind } ?? true)
                && (position.map { $0 == c.position } ?? true)
        }
    }
}

extension ShapeSpec {
    /// What the spec shows, forgetting its jitter and size.
    public var combination: ShapeCombination { ShapeCombination(color: color, kind: kind, position: position) }
}

/// A prompt: any subset of the three attributes ("red", "circle top left", "blue square bottom", or
/// nothing at all). Its caption uses the data set's word order: colour, shape, position.
public struct ShapePrompt: Hashable, Sendable, CustomStringConvertible {
    public var color: ShapeColor?
    public var kind: ShapeKind?
    public var position: ShapePosition?

    public init(color: ShapeColor? = nil, kind: ShapeKind? = nil, position: ShapePosition? = nil) {
        self.color = color; self.kind = kind; self.position = position
    }
    /// The full prompt for one combination.
    public init(_ c: ShapeCombination) { self.init(color: c.color, kind: c.kind, position: c.position) }

    /// The prompt an example is trained with (chapter 6): its full caption, with the whole caption
    /// dropped with probability `dropCaption` (the empty prompt, which classifier-free guidance
    /// needs) and each attribute of a kept caption dropped on its own with probability
    /// `dropAttribute` (so partial prompts are learnt too). Four uniform draws from `rng`, always, in
    /// this order: the caption's, then colour's, shape's and position's.
    public static func dropped(from c: ShapeCombination, dropCaption: Double, dropAttribute: Double,
                               using rng: inout RandomGenerator) -> ShapePrompt {
        let dropAll = Double(rng.uniform()) < dropCaption
        let keepColor = Double(rng.uniform()) >= dropAttribute
        let keepKind = Double(rng.uniform()) >= dropAttribute
        let keepPosition = Double(rng.uniform()) >= dropAttribute
        if dropAll { return ShapePrompt() }
        return ShapePrompt(color: keepColor ? c.color : nil, kind: keepKind ? c.kind : nil, position: keepPosition ? c.position : nil)
    }

    /// "red circle top left"; "" when nothing is asked for.
    public var caption: String {
        [color?.word, kind?.word, position?.words].compactMap { $0 }.joined(separator: " ")
    }
    public var description: String { caption.isEmpty ? "(no prompt)" : caption }

    /// Whether `c` has every requested attribute.
    public func isSatisfied(by c: ShapeCombination) -> Bool {
        (color.map { $0 == c.color } ?? true) && (kind.map { $0 == c.kind } ?? true)
            && (position.map { $0 == c.position } ?? true)
    }
}

/// An endless, seeded stream of Shapes images.
///
/// Deterministic: two data sets made with the same size, seed and exclusions give the same batches
/// in the same order, on every platform (the renderer and the generator use no platform maths).
/// Each image costs one `Shapes.render`, about 4,000 point-in-shape tests at 16×16.
public struct ShapesDataset {
    /// Image side in pixels (16 by default; 32 works the same).
    public let size: Int
    public let seed: UInt64
    /// The combinations this data set draws from, in `ShapeCombination.all` order: all 162 unless
    /// some were held out.
    public let combinations: [ShapeCombination]
    /// The generator `nextBatch` draws from, seeded with `seed`.
    public var rng: RandomGenerator

    /// - Parameters:
    ///   - size: image side in pixels, at least 8.
    ///   - seed: seeds the data set's own generator (`nextBatch`).
    ///   - excluding: combinations never drawn, e.g. `Set(ShapeCombination.matching(color: .blue, kind: .triangle))`.
    public init(size: Int = Shapes.defaultSize, seed: UInt64, excluding: Set<ShapeCombination> = []) {
        guard size >= 8 else { fatalError("ShapesDataset: size must be at least 8 pixels, got \(size)") }
        let kept = ShapeCombination.all.filter { !excluding.contains($0) }
        guard !kept.isEmpty else { fatalError("ShapesDataset: excluding all 162 combinations leaves nothing to draw") }
        self.size = size
        self.seed = seed
        self.combinations = kept
        self.rng = RandomGenerator(seed: seed)
    }

    /// One random spec: a combination uniformly from `combinations`, then jitter uniform in −1…1
    /// (x, then y) and size uniform in `ShapeSpec.randomSizes`, drawn in that order.
    public func randomSpec(using rng: inout RandomGenerator) -> ShapeSpec {
        let c = combinations[rng.int(in: 0..<combinations.count)]
        let jx = rng.uniform(in: -1...1), jy = rng.uniform(in: -1...1)
        let side = rng.uniform(in: ShapeSpec.randomSizes)
        return ShapeSpec(kind: c.kind, color: c.color, position: c.position, jitter: SIMD2(jx, jy), size: side)
    }

    /// `count` images drawn with `rng`: a [count, 3, size, size] tensor in −1…1, and what each shows
    /// (`specs[i].caption` is image i's caption).
    public func batch(_ count: Int, using rng: inout RandomGenerator) -> (images: Tensor, specs: [ShapeSpec]) {
        guard count >= 1 else { fatalError("ShapesDataset.batch: count must be at least 1, got \(count)") }
        let specs = (0..<count).map { _ in randomSpec(using: &rng) }
        return (render(specs), specs)
    }

    /// The next `count` images from the data set's own generator.
    public mutating func nextBatch(_ count: Int) -> (images: Tensor, specs: [ShapeSpec]) {
        batch(count, using: &rng)
    }

    /// Renders specs into one [specs.count, 3, size, size] tensor.
    public func render(_ specs: [ShapeSpec]) -> Tensor {
        let per = 3 * size * size
        var data = [Float](repeating: -1, count: specs.count * per)
        for (i, spec) in specs.enumerated() {
            let image = Shapes.render(spec, size: size)
            data.replaceSubrange((i * per)..<((i + 1) * per), with: image)
        }
        return Tensor(data, shape: [specs.count, 3, size, size])  // [B, 3, H, W]
    }

    /// Image `i` of a [B, 3, H, W] batch as the channel-planar array the checker reads.
    public static func image(_ i: Int, of images: Tensor) -> [Float] {
        guard images.rank == 4, images.shape[1] == 3, (0..<images.shape[0]).contains(i) else {
            fatalError("ShapesDataset.image: need index \(i) of a [B, 3, H, W] tensor, got shape \(images.shape)")
        }
        let per = images.shape[1] * images.shape[2] * images.shape[3]
        return Array(images.data[(i * per)..<((i + 1) * per)])
    }
}
