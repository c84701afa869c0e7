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
    /// colour, shape, position words, dropCaption, dropAttribute, rng -> the kept words
    public var promptDropout: (String, String, String, Double, Double, inout RandomGenerator) throws -> [String?]
    /// network, x, t, tokens, empty prompt, w -> the guided output
    public var guidedOutput: ((Tensor, [Int], [[Int]]) -> Tensor, Tensor, [Int], [[Int]], [Int], Float) throws -> Tensor
    /// x0, noise, ᾱ per example -> v
    public var velocityTarget: (Tensor, Tensor, [Float]) throws -> Tensor

    public init(tokenize: @escaping (String, [String], Int) throws -> TokenizeOutcome,
                crossAttention: @escaping (Tensor, Tensor, Tensor, Tensor, Tensor) throws -> Tensor,
                guidedNoise: @escaping (Tensor, Tensor, Float) throws -> Tensor,
                promptDropout: @escaping (String, String, String, Double, Double, inout RandomGenerator) throws -> [String?],
                guidedOutput: @escaping ((Tensor, [Int], [[Int]]) -> Tensor, Tensor, [Int], [[Int]], [Int], Float) throws -> Tensor,
                velocityTarget: @escaping (Tensor, Tensor, [Float]) throws -> Tensor) {
        self.tokenize = tokenize; self.crossAttention = crossAttention; self.guidedNoise = guidedNoise
        self.promptDropout = promptDropout; self.guidedOutput = guidedOutput; self.velocityTarget = velocityTarget
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
        Check("promptDropout", kind: .build, file: file, hint: "four draws always: u₀ < dropCaption drops all; u₁, u₂, u₃ ≥ dropAttribute keep colour, shape, position") { api in
            // 2,000 examples from the same generator as the library's dropout: every prompt must agree.
            var mine = RandomGenerator(seed: 604), reference = RandomGenerator(seed: 604), pick = RandomGenerator(seed: 605)
            for i in 0..<2000 {
                let c = ShapeCombination.all[pick.int(in: 0..<162)]
                let expected = ShapePrompt.dropped(from: c, dropCaption: 0.1, dropAttribute: 0.15, using: &reference)
                let words = try api.promptDropout(c.color.word, c.kind.word, c.position.words, 0.1, 0.15, &mine)
                let actual = words.count == 3 ? [words[0], words[1], words[2]] : []
                let want = [expected.color?.word, expected.kind?.word, expected.position.map { _ in c.position.words }]
                guard actual == want else {
                    throw WrongAnswer("promptDropout, example \(i) (\(c.caption))", expected: "\(want)", actual: "\(words)",
                                      hint: "draw all four numbers before deciding; a dropped caption drops all three; keep when u ≥ dropAttribute")
                }
            }
        },
        Check("guidedOutput", kind: .build, file: file, hint: "w = 1: conditional call; w = 0: empty-prompt call; else one call on [x; x], then out_∅ + w·(out_c − out_∅)") { api in
            var rng = RandomGenerator(seed: 606)
            let x = Tensor.randn([3, 2, 4, 4], using: &rng), t = [5, 500, 900]
            let tokens = [[1, 7, 0, 0], [2, 0, 0, 0], [3, 8, 10, 12]], empty = [0, 0, 0, 0]
            // A stand-in network whose output depends on x, t and the tokens of each example.
            var calls: [Int] = []
            let network: (Tensor, [Int], [[Int]]) -> Tensor = { x, t, tokens in
                calls.append(x.shape[0])
                let perExample = zip(t, tokens).map { Float($0) / 1000 + Float($1.reduce(0, +)) / 10 }
                return x * 0.5 + Tensor(perExample, shape: [t.count, 1, 1, 1])
            }
            for w: Float in [0, 1, 3, 7.5] {
                calls = []
                let actual = try api.guidedOutput(network, x, t, tokens, empty, w)
                let made = calls
                calls = []
                let conditional = network(x, t, tokens), unconditional = network(x, t, [[Int]](repeating: empty, count: 3))
                let expected = w == 1 ? conditional : w == 0 ? unconditional
                    : classifierFreeGuidance(conditional: conditional, unconditional: unconditional, scale: w)
                try expectClose(actual, expected, "guidedOutput at w = \(w)", hint: "out_∅ + w·(out_c − out_∅); w = 0 is the empty prompt's output")
                let want = w == 0 || w == 1 ? [3] : [6]
                guard made == want else {
                    throw WrongAnswer("the network calls at w = \(w)", expected: "one call on a batch of \(want[0])", actual: "calls on batches \(made)",
                                      hint: "stack [x; x] with [tokens; empty prompts] and call the network once")
                }
            }
        },
        Check("velocityTarget", kind: .build, file: file, hint: "v = √ᾱ·ε − √(1 − ᾱ)·x0, one ᾱ per example") { api in
            var rng = RandomGenerator(seed: 607)
            let schedule = NoiseSchedule.linear()
            let x0 = Tensor.randn([3, 2, 4, 4], using: &rng), noise = Tensor.randn([3, 2, 4, 4], using: &rng)
            let t = [0, 400, 999]
            try expectClose(try api.velocityTarget(x0, noise, t.map { schedule.alphaBar[$0] }),
                            DDPM.velocity(x0: x0, noise: noise, t: t, schedule: schedule), "velocityTarget at t = 0, 400, 999",
                            hint: "ε is weighted by √ᾱ and x0 by −√(1 − ᾱ): at t = 0 v is almost ε, at t = 999 almost −x0")
        },
    ]
}
