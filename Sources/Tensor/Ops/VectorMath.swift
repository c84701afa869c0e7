// exp and the logistic sigmoid on 8 floats at a time.
//
// The UNet's SiLU calls σ(x) on every activation, forward and backward, and the C library's
// expf works on one float per call. This is the classic Cephes expf (S. Moshier), written on
// SIMD8<Float>: reduce x = n·ln2 + r with |r| ≤ ln2/2, approximate e^r by a degree-6
// polynomial, and scale by 2^n by writing n into the float's exponent bits. Relative error
// about 1e-7 (a unit or two in the last place), checked against Foundation.exp in the tests.

@inline(__always)
func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Clamp, so that 2^n below stays within a float's exponents: the smallest result is
    // e^−87.33 ≈ 1.2e−38, and from x ≈ 88.38 (where n reaches 128) the result is +inf (e^x itself
    // overflows a float from 88.72 on). Written as
    // two masked selects: the standard library's `clamped` and `pointwiseMin/Max` go lane by lane
    // (they order NaNs), which made this function 9× slower; here a NaN stays NaN.
    let high = SIMD8<Float>(repeating: 88.72), low = SIMD8<Float>(repeating: -87.33)
    let below = x.replacing(with: high, where: x .> high)
    let x = below.replacing(with: low, where: below .< low)
    // n = round(x / ln 2) without a float-to-int conversion (Swift's generic SIMD conversion is
    // scalarised and cost 18 % of a UNet step): adding 1.5·2²³ rounds to an integer and leaves
    // it in the low bits of the mantissa.
    let shifter = SIMD8<Float>(repeating: 12_582_912)
    let t = x * 1.442_695_04 + shifter
    let n = t - shifter
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4               // x − n·ln2, ln2 split in two for precision
    var p = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let er = p * r * r + r + 1                                       // e^r
    let nBits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(shifter, to: SIMD8<Int32>.self)  // n
    return er * unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD8<Float>.self)  // · 2^n
}

/// σ(x) = 1/(1 + e^−x) on 8 lanes. For very negative x, e^−x saturates at 3.4e38 and σ ≈ 0.
@inline(__always)
func sigmoid8(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + exp8(-x)) }

/// Applies a SIMD function to `n` floats (8 at a time; the tail through a padded vector).
@inline(__always)
func vectorMap(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>,
               _ f: (SIMD8<Float>) -> SIMD8<Float>) {
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: SIMD8<Float>.self)
        i += 8
    }
    if i < range.upperBound {
        var v = SIMD8<Float>()
        for k in 0..<(range.upperBound - i) { v[k] = x[i + k] }
        let out = f(v)
        for k in 0..<(range.upperBound - i) { y[i + k] = out[k] }
    }
}

extension Tensor {
    /// Elementwise `f` through SIMD8 lanes on the kernel threads.
    @inline(__always)
    func vectorMapped(_ f: (SIMD8<Float>) -> SIMD8<Float>) -> [Float] {
        data.withUnsafeBufferPointer { xb in
            makeArray(count) { y in parallelRanges(count) { r in vectorMap(xb.baseAddress!, y, r, f) } }
        }
    }
}
