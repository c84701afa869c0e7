// What the text-conditioned chapters (6 and 7) share: the tokenizer over the Shapes words, and the
// per-attribute adherence of samples to their prompts, judged by the Shapes checker.

import Datasets
import Diffusion
import Imaging
import Tensor

/// How well samples follow their prompts, per attribute, judged by the Shapes checker.
public struct Adherence {
    public var count = 0, valid = 0, color = 0, kind = 0, position = 0, all = 0
    public var combinations = Set<ShapeCombination>()

    public init() {}

    /// The adherence of samples whose checker verdicts are `verdicts`, sample k asked for `prompts[k]` in full.
    public init(prompts: [ShapeCombination], verdicts: [ShapeDescription]) {
        for (c, v) in zip(prompts, verdicts) { add(prompt: ShapePrompt(c), verdict: v) }
    }

    public mutating func add(prompt: ShapePrompt, verdict: ShapeDescription) {
        count += 1
        guard let c = verdict.combination else { return }
        valid += 1
        combinations.insert(c)
        let okColor = prompt.color.map { $0 == c.color } ?? true
        let okKind = prompt.kind.map { $0 == c.kind } ?? true
        let okPosition = prompt.position.map { $0 == c.position } ?? true
        if okColor { color += 1 }
        if okKind { kind += 1 }
        if okPosition { position += 1 }
        if okColor && okKind && okPosition { all += 1 }
    }

    public func share(_ n: Int) -> Double { count == 0 ? 0 : Double(n) / Double(count) }
}

extension Tokenizer {
    /// The tokenizer over the Shapes captions' words: `<pad>` and the 14 words of
    /// `ShapesVocabulary.words`, 4 tokens a prompt.
    public static let shapes = Tokenizer(words: ShapesVocabulary.words, length: ShapesVocabulary.maxWords)

    /// A prompt's caption as tokens. Every caption the data set writes is in the vocabulary, so this cannot fail.
    public func encode(_ prompt: ShapePrompt) -> [Int] { try! encode(prompt.caption) }
}

/// The six prompts the text chapters show at every guidance scale.
public let showcasePrompts = ["red circle top left", "blue square center", "green triangle bottom right", "yellow circle right",
                              "cyan square top", "magenta triangle left"]

/// The "prompts × guidance scales" figure: one row per prompt, `perCell` samples of it at each scale, all
/// drawn by `draw(tokens, w)` (which should start from the same noise at every scale).
public func guidanceGrid(prompts: [String], scales: [Float], perCell: Int, scale: Int, title: String,
                         draw: ([[Int]], Float) -> Tensor) -> Image {
    let tokens = prompts.flatMap { p in [[Int]](repeating: try! Tokenizer.shapes.encode(p), count: perCell) }
    var rows: [[Image?]] = prompts.map { _ in [] }
    for w in scales {
        let images = draw(tokens, w)
        for row in prompts.indices {
            for k in 0..<perCell { rows[row].append(shapeImage(row * perCell + k, of: images)) }
        }
    }
    return ImageGrid(rows: rows, scale: scale, padding: 3, rowLabels: prompts,
                     columnLabels: scales.flatMap { w in (0..<perCell).map { _ in "w = \(Report.format(Double(w), digits: 2))" } },
                     title: title).render()
}

/// The first `count` samples four a row, each captioned with the prompt it was asked for, and "(missed)"
/// where the checker read something else (the `--mine` comparisons of the text chapters).
public func promptGrid(_ samples: Tensor, prompts: [ShapeCombination], count: Int) -> Image {
    let verdicts = ShapesChecker.describe(batch: samples)
    let cells = (0..<count).map { i in
        captioned(shapeImage(i, of: samples), prompts[i].caption + (verdicts[i].combination == prompts[i] ? "" : " (missed)"))
    }
    return ImageGrid(images: cells, columns: 4, scale: 1, padding: 4).render()
}
