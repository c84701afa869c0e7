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

/// Exercise 6.1 — tokenize a prompt.
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

/// Exercise 6.2 — cross-attention, one head, no batch.
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

/// Exercise 6.3 — classifier-free guidance (Ho & Salimans 2022, eq. 6, which writes
/// (1 + w′)·ε_cond − w′·ε_uncond; our w = their w′ + 1):
/// ```
/// ε̃ = ε_uncond + w·(ε_cond − ε_uncond)
/// ```
/// w = 0 returns ε_uncond, w = 1 returns ε_cond. Keep it differentiable (Tensor ops).
public func guidedNoise(conditional: Tensor, unconditional: Tensor, scale w: Float) throws -> Tensor {
    throw NotAttempted()
}
