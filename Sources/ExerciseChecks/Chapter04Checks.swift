// Checks for chapter 4's exercises: the embedding against the library's `sinusoidalEmbedding`
// (Sources/Diffusion/TimeEmbedding.swift), the scale-and-shift element by element and inside the
// library's `ResBlock`, the loss bookkeeping and the noise-level reading against loops over the data.

import Diffusion
import NN
import Tensor

public struct Chapter04API {
    public var sinusoidalEmbedding: ([Int], Int) throws -> Tensor
    public var injectTime: (Tensor, Tensor) throws -> Tensor
    public var meanLossByRange: ([Float], [Int], [Range<Int>]) throws -> [Double?]
    public var noiseVariance: (Tensor, Double) throws -> [Double]
    /// The learner's residual block run on a library `ResBlock`'s layers: (block, x, emb) -> out.
    public var resBlock: (ResBlock, Tensor, Tensor?) throws -> Tensor

    public init(sinusoidalEmbedding: @escaping ([Int], Int) throws -> Tensor,
                injectTime: @escaping (Tensor, Tensor) throws -> Tensor,
                meanLossByRange: @escaping ([Float], [Int], [Range<Int>]) throws -> [Double?],
                noiseVariance: @escaping (Tensor, Double) throws -> [Double],
                resBlock: @escaping (ResBlock, Tensor, Tensor?) throws -> Tensor) {
        self.sinusoidalEmbedding = sinusoidalEmbedding; self.injectTime = injectTime
        self.meanLossByRange = meanLossByRange; self.noiseVariance = noiseVariance
        self.resBlock = resBlock
    }
}

public enum Chapter04Checks {
    static let file = "exercises/Chapter04/TimeExercises.swift"

    public static let all: [Check<Chapter04API>] = [
        Check("sinusoidalEmbedding", kind: .build, file: file, hint: "sines of all half frequencies first, then cosines; ω_i = 10000^(−i/(half − 1))") { api in
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
            // 1. Element by element, on a tiny input.
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
            // 2. Inside the library's residual block: rebuilt around injectTime, it must give ResBlock's output.
            let block = ResBlock(4, 4, embeddingDim: 6, groups: 2, using: &rng)
            for p in [block.conv2.weight, block.conv2.bias!, block.embedding!.weight, block.embedding!.bias!] {
                p.data = Tensor.randn(p.shape, using: &rng).data.map { 0.3 * $0 }  // they start at 0; make them matter
            }
            let x = Tensor.randn([2, 4, 3, 5], using: &rng), emb = Tensor.randn([2, 6], using: &rng)
            let normalized = block.norm2(block.conv1(block.norm1(x).silu()))            // [2, 4, 3, 5]
            let mine = try api.injectTime(normalized, block.embedding!(emb.silu()))      // scaleShift [2, 8]
            try expectClose(block.conv2(mine.silu()) + x, block(x, emb), "ResBlock(4 → 4) rebuilt around injectTime, x [2, 4, 3, 5]",
                            hint: "h is [B, C, H, W] with H ≠ W here; reshape the scales and shifts to [B, C, 1, 1] so they broadcast over H and W")
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
        Check("noiseVariance", file: file, hint: "v = mean of (x[c, y, i+1] − x[c, y, i])² over c, y and the W − 1 pairs of a row; return (v − v₀)/(2 − v₀) clipped to 0…1") { api in
            var rng = RandomGenerator(seed: 404)
            // Flat images (a bright block in one channel, on −1) noised at known steps of the linear schedule; H ≠ W.
            let (b, c, h, w) = (5, 3, 12, 16)
            var clean = [Float](repeating: -1, count: b * c * h * w)
            for n in 0..<b {
                let top = rng.int(in: 0..<6), left = rng.int(in: 0..<9), ch = rng.int(in: 0..<c)
                for y in top..<(top + 5) { for i in left..<(left + 6) { clean[((n * c + ch) * h + y) * w + i] = 1 } }
            }
            let x0 = Tensor(clean, shape: [b, c, h, w])
            /// v of each image: the mean squared difference of horizontal neighbours, by a plain loop.
            func roughness(_ x: Tensor) -> [Double] {
                (0..<x.shape[0]).map { n in
                    var sum = 0.0, pairs = 0
                    for ch in 0..<c {
                        for y in 0..<h {
                            for i in 0..<(w - 1) {
                                let base = ((n * c + ch) * h + y) * w + i
                                let d = Double(x.data[base + 1]) - Double(x.data[base])
                                sum += d * d; pairs += 1
                            }
                        }
                    }
                    return sum / Double(pairs)
                }
            }
            let v0 = roughness(x0).reduce(0, +) / Double(b)  // these clean images' own roughness
            let schedule = NoiseSchedule.linear()
            let t = [0, 100, 300, 600, 999]
            let xt = schedule.addNoise(x0, t: t, noise: Tensor.randn(x0.shape, using: &rng))
            // A last image of louder noise (standard deviation 1.5) than any step makes: the clip at 1.
            let all = Tensor.concat([xt, Tensor.randn([1, c, h, w], using: &rng) * 1.5], axis: 0)  // [6, 3, 12, 16]
            let expected = roughness(all).map { Swift.min(1, Swift.max(0, ($0 - v0) / (2 - v0))) }
            let actual = try api.noiseVariance(all, v0)
            let close = actual.count == expected.count && zip(actual, expected).allSatisfy { Swift.abs($0 - $1) <= 1e-5 }
            guard close else {
                func show(_ v: [Double]) -> String { "[" + v.map { String(format: "%.5f", $0) }.joined(separator: ", ") + "]" }
                throw WrongAnswer("noiseVariance of 6 images [6, 3, 12, 16] (steps \(t), then one louder than any step), v₀ = \(String(format: "%.5f", v0))",
                                  expected: show(expected), actual: show(actual),
                                  hint: "neighbours along W (one index apart), not H; the mean divides by C·H·(W − 1); clip to 0…1. "
                                      + "For comparison, the true 1 − ᾱ_t of the first five is \(show(t.map { 1 - Double(schedule.alphaBar[$0]) }))")
            }
        },
        Check("resBlock", kind: .build, file: file, hint: "conv1(SiLU(GN₁(x))) → GN₂ → (1 + s)·h + b from SiLU(emb) → conv2(SiLU(·)) → + skip(x)") { api in
            var rng = RandomGenerator(seed: 405)
            // A block that changes the width (so it has a 1×1 skip) and one that does not, both told t,
            // and one not told t. Fresh blocks start with conv2 and the embedding at zero, which would
            // hide half the formula: give every weight random values first.
            let blocks = [ResBlock(8, 16, embeddingDim: 12, using: &rng), ResBlock(8, 8, embeddingDim: 12, using: &rng),
                          ResBlock(8, 8, embeddingDim: nil, using: &rng)]
            for block in blocks { for p in block.parameters { p.data = Tensor.randn(p.shape, using: &rng).data.map { $0 * 0.5 } } }
            let x = Tensor.randn([2, 8, 4, 4], using: &rng), emb = Tensor.randn([2, 12], using: &rng)
            for (i, block) in blocks.enumerated() {
                let told = block.embedding != nil
                let expected = block.forward(x, told ? emb : nil)
                try expectClose(try api.resBlock(block, x, told ? emb : nil), expected,
                                "block \(i + 1): \(block.skip == nil ? "8 → 8 channels" : "8 → 16 channels, 1×1 skip")\(told ? ", told t" : ", not told t")",
                                hint: told ? "SiLU before the embedding's Linear; scale and shift after norm2, then SiLU, then conv2"
                                           : "with no embedding the block is conv1(SiLU(GN₁(x))) → GN₂ → conv2(SiLU(·)) + skip")
            }
        },
    ]
}
