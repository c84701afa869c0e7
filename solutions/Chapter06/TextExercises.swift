// Solutions to chapter 6's exercises (exercises/Chapter06/TextExercises.swift).

import ExerciseSupport
import NN
import Tensor

public struct UnknownWord: Error {
    public let word: String
    public init(_ word: String) { self.word = word }
}

/// A prompt with more words than there are token slots. Throw it from `tokenize` (the check looks for it).
public struct TooManyWords: Error {
    public let count: Int
    public init(_ count: Int) { self.count = count }
}

/// Exercise 6.1: word -> index, padded with 0.
public func tokenize(_ prompt: String, vocabulary: [String], length: Int) throws -> [Int] {
    let words = prompt.lowercased().split(separator: " ")  // split drops the empty pieces between repeated spaces
    guard words.count <= length else { throw TooManyWords(words.count) }
    let ids = try words.map { word -> Int in
        guard let id = vocabulary.firstIndex(of: String(word)), id != 0 else { throw UnknownWord(String(word)) }
        return id
    }
    return ids + [Int](repeating: 0, count: Swift.max(0, length - ids.count))
}

/// Exercise 6.2: softmax((pixels·wq)(words·wk)ᵀ/√d)·(words·wv).
public func crossAttention(pixels: Tensor, words: Tensor, wq: Tensor, wk: Tensor, wv: Tensor) throws -> Tensor {
    let q = pixels.matmul(wq), k = words.matmul(wk), v = words.matmul(wv)          // [L, d], [S, d], [S, d]
    let d = Float(q.shape[1])
    return (q.matmul(k, transposeOther: true) * (1 / d.squareRoot())).softmax(axis: -1).matmul(v)  // [L, S]·[S, d] -> [L, d]
}

/// Exercise 6.3: ε_u + w·(ε_c − ε_u).
public func guidedNoise(conditional: Tensor, unconditional: Tensor, scale w: Float) throws -> Tensor {
    unconditional + (conditional - unconditional) * w
}

/// Solution 6.4 — four draws (caption, colour, shape, position), then keep what survived.
public func promptDropout(color: String, shape: String, position: String, dropCaption: Double, dropAttribute: Double,
                          using rng: inout RandomGenerator) throws -> [String?] {
    let dropAll = Double(rng.uniform()) < dropCaption
    let keep = (0..<3).map { _ in Double(rng.uniform()) >= dropAttribute }
    if dropAll { return [nil, nil, nil] }
    return zip([color, shape, position], keep).map { $1 ? $0 : nil }
}

/// Solution 6.5 — one call (conditional, unconditional, or both halves of a doubled batch), then eq. (6).
public func guidedOutput(network: (Tensor, [Int], [[Int]]) -> Tensor, x: Tensor, t: [Int], tokens: [[Int]], emptyPrompt: [Int],
                         scale w: Float) throws -> Tensor {
    let b = x.shape[0]
    if w == 1 { return network(x, t, tokens) }
    if w == 0 { return network(x, t, [[Int]](repeating: emptyPrompt, count: b)) }
    let both = network(Tensor.concat([x, x], axis: 0), t + t, tokens + [[Int]](repeating: emptyPrompt, count: b))  // [2B, …]
    let parts = both.split([b, b], axis: 0)
    return try guidedNoise(conditional: parts[0], unconditional: parts[1], scale: w)
}

/// Solution 6.6 — v = √ᾱ·ε − √(1 − ᾱ)·x0, one ᾱ per example.
public func velocityTarget(x0: Tensor, noise: Tensor, alphaBar: [Float]) throws -> Tensor {
    let shape = [alphaBar.count] + [Int](repeating: 1, count: x0.rank - 1)    // [B, 1, …]
    return Tensor(alphaBar.map { $0.squareRoot() }, shape: shape) * noise - Tensor(alphaBar.map { (1 - $0).squareRoot() }, shape: shape) * x0
}
