// The Shapes prompt language: the words captions are made of, and the grammar that reads a prompt
// back into what it asks for (`ShapePrompt`). Chapter 6's tokenizer (Sources/Diffusion/
// TextConditioning.swift) is built from `ShapesVocabulary.words`; the checker's verdicts are
// compared with what `ShapePrompt.parse` says a prompt asked for.

/// The words of Shapes captions: six colours, three shapes and five position words, which name
/// the nine cells of the 3×3 grid alone ("top", "left", "center") or in pairs ("top left").
public enum ShapesVocabulary {
    /// The 14 caption words in a fixed order: red green blue yellow cyan magenta, circle square
    /// triangle, top bottom left right center.
    public static let words: [String] = ShapeColor.allCases.map(\.word) + ShapeKind.allCases.map(\.word)
        + ["top", "bottom", "left", "right", "center"]

    /// The most words a prompt has: colour, shape and up to two position words.
    public static let maxWords = 4

    /// The words of a prompt: lower-cased, split at spaces, tabs and commas (repeats ignored).
    public static func words(in prompt: String) -> [String] {
        prompt.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
    }
}

/// A prompt with a word the vocabulary does not have, too many words, or words that contradict
/// each other.
public struct PromptError: Error, CustomStringConvertible {
    public let prompt: String
    public let problem: String

    public init(prompt: String, problem: String) {
        self.prompt = prompt
        self.problem = problem
    }

    public var description: String { "prompt \"\(prompt)\": \(problem)" }
}

extension ShapePrompt {
    /// What a prompt asks for: "red circle top left" → red, circle, .topLeft; "left" → .left;
    /// "top" → .top; "" → nothing. Case and extra spaces are ignored, and the words may come in any
    /// order. Errors: a word not in `ShapesVocabulary.words` (the message lists them), more than
    /// `ShapesVocabulary.maxWords` words, two colours, two shapes, or clashing positions ("top
    /// bottom", "center left").
    public static func parse(_ prompt: String) throws -> ShapePrompt {
        let words = ShapesVocabulary.words(in: prompt)
        guard words.count <= ShapesVocabulary.maxWords else {
            throw PromptError(prompt: prompt, problem: "\(words.count) words; a prompt has at most \(ShapesVocabulary.maxWords) (colour, shape, position)")
        }
        var result = ShapePrompt()
        var row: Int?, column: Int?, center = false
        for word in words {
            if let c = ShapeColor(rawValue: word) {
                guard result.color == nil else { throw PromptError(prompt: prompt, problem: "two colours") }
                result.color = c
            } else if let k = ShapeKind(rawValue: word) {
                guard result.kind == nil else { throw PromptError(prompt: prompt, problem: "two shapes") }
                result.kind = k
            } else {
                let (r, c): (Int?, Int?)
                switch word {
                case "top": (r, c) = (0, nil)
                case "bottom": (r, c) = (2, nil)
                case "left": (r, c) = (nil, 0)
                case "right": (r, c) = (nil, 2)
                case "center": (r, c) = (nil, nil); center = true
                default:
                    throw PromptError(prompt: prompt, problem: "unknown word '\(word)'; the vocabulary is: "
                                      + ShapesVocabulary.words.joined(separator: ", "))
                }
                if let r { guard row == nil else { throw PromptError(prompt: prompt, problem: "two vertical positions") }; row = r }
                if let c { guard column == nil else { throw PromptError(prompt: prompt, problem: "two horizontal positions") }; column = c }
            }
        }
        if center, row != nil || column != nil { throw PromptError(prompt: prompt, problem: "'center' with another position word") }
        if center || row != nil || column != nil { result.position = ShapePosition(row: row ?? 1, column: column ?? 1) }
        return result
    }
}
