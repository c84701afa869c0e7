// Checks for chapter 6's exercises: tokenizing against the library's `Tokenizer` (and its unknown
// words), cross-attention against `scaledDotProductAttention` on the projected inputs, guidance
// against the library's `classifierFreeGuidance` (Sources/Diffusion/TextConditioning.swift).

import Datasets
import Diffusion
import NN
import Tensor

/// What the learner's `tokenize` did: tokens, the unknown word it threw, or how many words were too many.
public enum TokenizeOutcome: Equatable {
    case tokens([Int])
    case unknown(String)
    case tooMany(Int)
}

public struct Chapter06API {
    public var tokenize: (String, [String], Int) throws -> TokenizeOutcome
    public var crossAttention: (Tensor, Tensor, Tensor, Tensor, Tensor) throws -> Tensor
    public var guidedNoise: (Tensor, Tensor, Float) throws -> Tensor

    public init(tokenize: @escaping (String, [String], Int) throws -> TokenizeOutcome,
                crossAttention: @escaping (Tensor, Tensor, Tensor, Tensor, Tensor) throws -> Tensor,
                guidedNoise: @escaping (Tensor, Tensor, Float) throws -> Tensor) {
        self.tokenize = tokenize; self.crossAttention = crossAttention; self.guidedNoise = guidedNoise
    }
}

public enum Chapter06Checks {
    static let file = "exercises/Chapter06/TextExercises.swift"

    public static let all: [Check<Chapter06API>] = [
        Check("tokenize", file: file, hint: "index in the vocabulary per word, then 0s up to the length; UnknownWord for a word not there") { api in
            let tokenizer = Tokenizer(words: ShapesVocabulary.words, length: ShapesVocabulary.maxWords)
            for prompt in ["red circle top left", "Blue Square", "RED circle", "center", "", "red  circle   top",
                           " green triangle ", "magenta triangle bottom right"] {
                let expected = TokenizeOutcome.tokens(try tokenizer.encode(prompt))
                let actual = try api.tokenize(prompt, tokenizer.vocabulary, tokenizer.length)
                guard actual == expected else {
                    throw WrongAnswer("tokenize(\"\(prompt)\")", expected: "\(expected)", actual: "\(actual)",
                                      hint: "lower-case first; the vocabulary's index 0 is <pad>, so \"red\" is 1; pad with 0 to \(tokenizer.length)")
                }
            }
            for prompt in ["red red red red red", "blue square top left center right"] {
                let count = prompt.split(separator: " ").count
                let actual = try api.tokenize(prompt, tokenizer.vocabulary, tokenizer.length)
                guard actual == .tooMany(count) else {
                    throw WrongAnswer("tokenize(\"\(prompt)\")", expected: "throws TooManyWords(\(count))", actual: "\(actual)",
                                      hint: "a prompt of more than \(tokenizer.length) words is an error, never cut short")
                }
            }
            for (prompt, word) in [("red hexagon", "hexagon"), ("<pad>", "<pad>")] {
                let actual = try api.tokenize(prompt, tokenizer.vocabulary, tokenizer.length)
                guard actual == .unknown(word) else {
                    throw WrongAnswer("tokenize(\"\(prompt)\")", expected: "throws UnknownWord(\"\(word)\")", actual: "\(actual)",
                                      hint: "a word missing from the vocabulary (or the padding token itself) is an error naming the word")
                }
            }
        },
        Check("crossAttention", file: file, hint: "Q = pixels·wq, K = words·wk, V = words·wv; softmax(QKᵀ/√d)·V") { api in
            var rng = RandomGenerator(seed: 602)
            let pixels = Tensor.randn([6, 8], using: &rng), words = Tensor.randn([4, 5], using: &rng)
            let wq = Tensor.randn([8, 3], using: &rng), wk = Tensor.randn([5, 3], using: &rng), wv = Tensor.randn([5, 3], using: &rng)
            let q = pixels.matmul(wq).reshaped([1, 6, 3]), k = words.matmul(wk).reshaped([1, 4, 3]), v = words.matmul(wv).reshaped([1, 4, 3])
            let expected = scaledDotProductAttention(q, k, v).output.reshaped([6, 3])
            let leaf = Tensor(words.data, shape: words.shape, requiresGrad: true)
            let actual = try api.crossAttention(pixels, leaf, wq, wk, wv)
            try expectClose(actual, expected, "crossAttention(pixels [6, 8], words [4, 5], d = 3)",
                            hint: "queries from the pixels, keys and values from the words; scale by 1/√3 before the softmax over the 4 words")
            actual.sum().backward()
            guard leaf.grad != nil else {
                throw WrongAnswer("the gradient reaching the words", expected: "a gradient", actual: "none", hint: "use Tensor ops, not .data")
            }
        },
        Check("guidedNoise", file: file, hint: "unconditional + w·(conditional − unconditional)") { api in
            var rng = RandomGenerator(seed: 603)
            let c = Tensor.randn([2, 3, 4, 4], using: &rng), u = Tensor.randn([2, 3, 4, 4], using: &rng)
            for w: Float in [0, 1, 3, 7.5] {
                try expectClose(try api.guidedNoise(c, u, w), classifierFreeGuidance(conditional: c, unconditional: u, scale: w),
                                "guidedNoise(scale: \(w))", hint: "w = 0 must give the unconditional ε, w = 1 the conditional one")
            }
        },
    ]
}
