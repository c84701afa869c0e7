// Chapter 6 exercises: tokenizing a prompt, cross-attention from pixels to words, and the
// classifier-free guidance combination. Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter06
// The library's versions are in Sources/Diffusion/TextConditioning.swift — try first.

import ExerciseSupport
import NN
import Tensor

/// An unknown word in a prompt. Throw it from `tokenize` (the check looks for it).
public struct UnknownWord: Error {
    public let word: String
    public init(_ word: String) { self.word = word }
}

/// A prompt with more words than there are token slots. Throw it from `tokenize` (the check looks for it).
public struct TooManyWords: Error {
    public let count: Int
    public init(_ count: Int) { self.count = count }
}

/// Exercise 6.1 — tokenize a prompt (warm-up).
///
/// Split `prompt` into words (lower-cased, separated by spaces), map each to its index in
/// `vocabulary` (index 0 is "<pad>", never a word), and pad with 0 to `length` tokens:
/// ```
/// vocabulary ["<pad>", "red", "circle", "top", "left"], "Red circle" -> [1, 2, 0, 0]   (length 4)
/// ```
/// A word not in the vocabulary (or "<pad>" itself) throws `UnknownWord(word)`; more words than
/// `length` throws `TooManyWords(count)` (never cut a prompt silently). Extra spaces between words
/// do not make empty words.
/// Hint: `prompt.lowercased().split(separator: " ")`, `vocabulary.firstIndex(of:)`.
public func tokenize(_ prompt: String, vocabulary: [String], length: Int) throws -> [Int] {
    throw NotAttempted()
}

/// Exercise 6.2 — cross-attention, one head, no batch (warm-up).
///
/// `pixels` `[L, C]` are the image's positions, `words` `[S, D]` the text encoder's tokens. With the
/// projections `wq` `[C, d]`, `wk` `[D, d]`, `wv` `[D, d]` (plain matrices, no bias):
/// ```
/// Q = pixels·wq,  K = words·wk,  V = words·wv
/// out = softmax(Q·Kᵀ/√d)·V          [L, d]: each pixel a mix of the words' values
/// ```
/// Hint: `a.matmul(b)`, `a.matmul(b, transposeOther: true)` for a·bᵀ, `.softmax(axis: -1)`.
public func crossAttention(pixels: Tensor, words: Tensor, wq: Tensor, wk: Tensor, wv: Tensor) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 6.3 (warm-up; your 6.5 can use it) — classifier-free guidance (Ho & Salimans 2022, eq. 6, which writes
/// (1 + w′)·ε_cond − w′·ε_uncond; our w = their w′ + 1):
/// ```
/// ε̃ = ε_uncond + w·(ε_cond − ε_uncond)
/// ```
/// w = 0 returns ε_uncond, w = 1 returns ε_cond. Keep it differentiable (Tensor ops).
public func guidedNoise(conditional: Tensor, unconditional: Tensor, scale w: Float) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 6.4 — caption and attribute dropout (build: `06-text --mine` trains with yours).
///
/// An example's caption has three attributes (colour, shape, position words). For classifier-free
/// guidance the network must also learn the *empty* prompt, and for partial prompts each attribute
/// alone. Draw four uniform numbers from `rng`, always all four and in this order —
/// `Double(rng.uniform())` each:
/// ```
/// u₀ < dropCaption      → the whole caption is dropped: return [nil, nil, nil]
/// u₁ ≥ dropAttribute    → the colour is kept (else nil)
/// u₂ ≥ dropAttribute    → the shape is kept
/// u₃ ≥ dropAttribute    → the position is kept
/// ```
/// Return [colour or nil, shape or nil, position or nil].
/// Hint: draw all four before deciding, so every example uses the generator alike.
public func promptDropout(color: String, shape: String, position: String, dropCaption: Double, dropAttribute: Double,
                          using rng: inout RandomGenerator) throws -> [String?] {
    throw NotAttempted()
}

/// Exercise 6.5 — the guided prediction, one network call (build: `06-text --mine` samples with yours).
///
/// `network(x, t, tokens)` is the text-to-image network (its output: ε̂, or v̂ for a v-model). For
/// the batch x `[B, …]` at steps t, each example asking for `tokens[b]`, with guidance scale w:
/// ```
/// w = 1:  network(x, t, tokens)                                   plain conditional: one call
/// w = 0:  network(x, t, [empty, empty, …])                        the prompt ignored: one call
/// else:   one call on the doubled batch [x; x], t + t, tokens + [empty × B] → [out_c; out_∅], then
///         out = out_∅ + w·(out_c − out_∅)                          Ho & Salimans eq. (6), our w = theirs + 1
/// ```
/// Hint: `Tensor.concat([x, x], axis: 0)` and `.split([B, B], axis: 0)`; never two calls — the
/// check counts them.
public func guidedOutput(network: (Tensor, [Int], [[Int]]) -> Tensor, x: Tensor, t: [Int], tokens: [[Int]], emptyPrompt: [Int],
                         scale w: Float) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 6.6 — the v target (build: `06-text --mine` trains its v-prediction with yours).
///
/// Salimans & Ho 2022, §4 and Appendix D: for clean x0 `[B, …]`, noise ε and each example's ᾱ,
/// ```
/// v = √ᾱ·ε − √(1 − ᾱ)·x0
/// ```
/// Hint: like your 1.3, reshape the B values of √ᾱ and √(1 − ᾱ) to `[B, 1, 1, 1]`.
public func velocityTarget(x0: Tensor, noise: Tensor, alphaBar: [Float]) throws -> Tensor {
    throw NotAttempted()
}
