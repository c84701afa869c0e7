// The package's one source of randomness. Same seed, same numbers, on every platform:
// the algorithms are written out here rather than borrowed from the standard library,
// whose `random(in:)` and `shuffle` may change between Swift versions.

/// A seeded pseudo-random generator: xoshiro256** (Blackman & Vigna 2018), its 256-bit
/// state filled from the seed by SplitMix64. Fast, statistically strong, not cryptographic.
///
/// It is a value type: copying it copies the state, so two copies produce the same stream.
/// Pass it `inout` to whatever draws from it.
public struct RandomGenerator: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Float? = nil

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), from the top 24 bits (every Float in the grid k/2²⁴ equally likely).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in `range`.
    public mutating func uniform(in range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// Standard normal N(0, 1) by the Box–Muller transform, computed in Double; the second value
    /// of each pair is kept for the next call.
    public mutating func normal() -> Float {
        if let spare = spareNormal { spareNormal = nil; return spare }
        let (first, second) = RandomGenerator.boxMuller(next(), next())
        spareNormal = second
        return first
    }

    /// `count` draws of `normal()`: the same numbers, and the generator left in the same state, as
    /// `count` calls. The random bits are drawn in order first; the transforms (a logarithm, a sine
    /// and a cosine a pair, most of the time) then run on the kernel threads, each pair on its own.
    public mutating func normals(_ count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        var first = 0
        if count > 0, let spare = spareNormal { values[0] = spare; spareNormal = nil; first = 1 }
        let pairs = (count - first + 1) / 2
        if pairs == 0 { return values }
        var bits = [UInt64](repeating: 0, count: 2 * pairs)
        for i in 0..<(2 * pairs) { bits[i] = next() }
        // An odd count leaves the last pair's second value over: the spare, as `normal()` keeps it.
        let last = RandomGenerator.boxMuller(bits[2 * pairs - 2], bits[2 * pairs - 1])
        values[first + 2 * (pairs - 1)] = last.0
        if first + 2 * pairs - 1 < count { values[first + 2 * pairs - 1] = last.1 } else { spareNormal = last.1 }
        let chunk = 4096  // pairs a task (fixed: the split does not depend on the thread count)
        bits.withUnsafeBufferPointer { b in
            values.withUnsafeMutableBufferPointer { v in
                let (bits, out) = (b.baseAddress!, v.baseAddress! + first)
                Parallel.forEach((pairs - 1 + chunk - 1) / chunk) { task in
                    for pair in (task * chunk)..<min(pairs - 1, (task + 1) * chunk) {
                        (out[2 * pair], out[2 * pair + 1]) = RandomGenerator.boxMuller(bits[2 * pair], bits[2 * pair + 1])
                    }
                }
            }
        }
        return values
    }

    /// The Box–Muller transform of two draws of 64 bits, computed in Double: (r·cos θ, r·sin θ)
    /// with r = √(−2 ln u₁), θ = 2π·u₂, u₁ in (0, 1] and u₂ in [0, 1) from the top 53 bits.
    @inline(__always)
    private static func boxMuller(_ bits1: UInt64, _ bits2: UInt64) -> (Float, Float) {
        let u1 = (Double(bits1 >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)  // in (0, 1]: log is finite
        let u2 = Double(bits2 >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2 * _log(u1)).squareRoot()
        return (Float(r * _cos(2 * Double.pi * u2)), Float(r * _sin(2 * Double.pi * u2)))
    }

    /// An integer in `range`, without modulo bias (Lemire's multiply-and-reject, 2019).
    public mutating func int(in range: Range<Int>) -> Int {
        precondition(!range.isEmpty, "RandomGenerator.int(in:): empty range")
        let n = UInt64(range.count)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return range.lowerBound + Int(m.high)
    }

    /// Fisher–Yates shuffle in place.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(in: 0..<(i + 1)))
        }
    }
}

extension Tensor {
    /// Independent N(0, 1) draws.
    public static func randn(_ shape: [Int], using rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        Tensor(rng.normals(shapeCount(shape, op: "randn")), shape: shape, requiresGrad: requiresGrad)
    }

    /// Independent uniform draws in `range`.
    public static func uniform(_ shape: [Int], in range: ClosedRange<Float> = 0...1, using rng: inout RandomGenerator,
                               requiresGrad: Bool = false) -> Tensor {
        let n = shapeCount(shape, op: "uniform")
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = rng.uniform(in: range) }
        return Tensor(values, shape: shape, requiresGrad: requiresGrad)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Darwin.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
