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
