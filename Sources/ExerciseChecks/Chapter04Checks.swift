// Checks for chapter 4's exercises: the embedding against the library's `sinusoidalEmbedding`
// (Sources/Diffusion/TimeEmbedding.swift), the scale-and-shift against the formula computed element
// by element, the loss bookkeeping against a loop over the examples.

import Diffusion
import NN
import Tensor

public struct Chapter04API {
    public var sinusoidalEmbedding: ([Int], Int) throws -> Tensor
    public var injectTime: (Tensor, Tensor) throws -> Tensor
    public var meanLossByRange: ([Float], [Int], [Range<Int>]) throws -> [Double?]

    public init(sinusoidalEmbedding: @escaping ([Int], Int) throws -> Tensor,
                injectTime: @escaping (Tensor, Tensor) throws -> Tensor,
                meanLossByRange: @escaping ([Float], [Int], [Range<Int>]) throws -> [Double?]) {
        self.sinusoidalEmbedding = sinusoidalEmbedding; self.injectTime = injectTime; self.meanLossByRange = meanLossByRange
    }
}

public enum Chapter04Checks {
    static let file = "exercises/Chapter04/TimeExercises.swift"

    public static let all: [Check<Chapter04API>] = [
        Check("sinusoidalEmbedding", file: file, hint: "sines of all half frequencies first, then cosines; ω_i = 10000^(−i/(half − 1))") { api in
            var rng = RandomGenerator(seed: 401)
            for d in [4, 6, 32] {
                let t = [0, 1, 999] + (0..<5).map { _ in rng.int(in: 0..<1000) }
                let expected = Diffusion.sinusoidalEmbedding(t, dimension: d)
                let actual = try api.sinusoidalEmbedding(t, d)
                try expectClose(actual, expected, tolerance: 1e-4, "sinusoidalEmbedding(\(t), dimension: \(d))",
                                hint: "row k is emb(t[k]); the first d/2 entries are sin(t·ω_i), the last d/2 cos(t·ω_i); at t = 0 that is [0…0, 1…1]")
            }
        },
        Check("injectTime", file: file, hint: "(1 + s)·h + b, s = first C columns, b = last C, each broadcast over H and W") { api in
            var rng = RandomGenerator(seed: 402)
            let (b, c, hw) = (2, 3, 4)
            let h = Tensor.randn([b, c, 2, 2], using: &rng), scaleShift = Tensor.randn([b, 2 * c], using: &rng)
            var expected = [Float](repeating: 0, count: h.count)
            for n in 0..<b {
                for ch in 0..<c {
                    let s = scaleShift.data[n * 2 * c + ch], shift = scaleShift.data[n * 2 * c + c + ch]
                    for p in 0..<hw { let i = (n * c + ch) * hw + p; expected[i] = (1 + s) * h.data[i] + shift }
                }
            }
            let hLeaf = Tensor(h.data, shape: h.shape, requiresGrad: true)
            let actual = try api.injectTime(hLeaf, scaleShift)
            try expectClose(actual, Tensor(expected, shape: h.shape), "injectTime(h [2, 3, 2, 2], scaleShift [2, 6])",
                            hint: "scale first, then shift; the scales are columns 0..<C of scaleShift and the shifts C..<2C; add 1 to the scale")
            actual.sum().backward()
            guard hLeaf.grad != nil else {
                throw WrongAnswer("the gradient reaching h", expected: "a gradient", actual: "none",
                                  hint: "use Tensor ops (reshaped, split, *, +), not .data")
            }
        },
        Check("meanLossByRange", file: file, hint: "for each range, average the losses whose t is in it; nil for an empty range") { api in
            var rng = RandomGenerator(seed: 403)
            let n = 200
            let t = (0..<n).map { _ in rng.int(in: 0..<600) }
            let losses = (0..<n).map { _ in rng.uniform() }
            let ranges: [Range<Int>] = [0..<100, 100..<300, 300..<600, 600..<1000]
            var expected: [Double?] = []
            for r in ranges {
                var sum = 0.0, count = 0
                for k in 0..<n where r.contains(t[k]) { sum += Double(losses[k]); count += 1 }
                expected.append(count == 0 ? nil : sum / Double(count))
            }
            let actual = try api.meanLossByRange(losses, t, ranges)
            let matches = actual.count == expected.count && zip(actual, expected).allSatisfy { a, e in
                switch (a, e) {
                case (nil, nil): return true
                case let (x?, y?): return Swift.abs(x - y) < 1e-9
                default: return false
                }
            }
            guard matches else {
                throw WrongAnswer("meanLossByRange over \(n) examples with t in 0..<600",
                                  expected: "\(expected)", actual: "\(actual)",
                                  hint: "a range is half-open (contains lowerBound, not upperBound); [600, 1000) holds no example here, so nil")
            }
        },
    ]
}
