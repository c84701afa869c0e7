// What the text-conditioned chapters (6 and 7) share: the tokenizer over the Shapes words, and the
// per-attribute adherence of samples to their prompts, judged by the Shapes checker.

import Datasets
import Diffusion

/// How well samples follow their prompts, per attribute, judged by the Shapes checker.
public struct Adherence {
    public var count = 0, valid = 0, color = 0, kind = 0, position = 0, all = 0
    public var combinations = Set<ShapeCombination>()

    public init() {}

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
