// Forward values worked by hand, and broadcasting against a naive reference.

import Foundation
import Testing
@testable import Tensor

@Suite("Op values")
struct OpValueTests {
    @Test("matmul 2x3 · 3x2, worked by hand")
    func matmulByHand() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])
        // [1·7+2·9+3·11, 1·8+2·10+3·12; 4·7+5·9+6·11, 4·8+5·10+6·12] = [58, 64; 139, 154]
        #expect(a.matmul(b).data == [58, 64, 139, 154])
        #expect(a.matmul(b.transposed().detached(), transposeOther: true).data == [58, 64, 139, 154])
    }

    @Test("conv2d: a 3x3 kernel of ones sums each neighbourhood (zero padding)")
    func convByHand() {
        let x = Tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])  // 1 2 3 / 4 5 6 / 7 8 9
        let w = Tensor.ones([1, 1, 3, 3])
        // corner (0,0): 1+2+4+5 = 12; centre: 45; (0,1): 1+2+3+4+5+6 = 21
        let y = x.conv2d(w, padding: 1)
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.data == [12, 21, 16, 27, 45, 33, 24, 39, 28])
        // stride 2 picks the corners of that map: 12, 16, 24, 28
        #expect(x.conv2d(w, stride: 2, padding: 1).data == [12, 16, 24, 28])
    }

    @Test("softmax, log-softmax: hand values and stability at huge logits")
    func softmaxValues() {
        // softmax([0, ln 3]) = [1/4, 3/4]
        let s = Tensor([0, Float(3).squareRoot() * Float(3).squareRoot()].map { $0 == 0 ? 0 : Float(1.0986123) }, shape: [2]).softmax()
        #expect(Swift.abs(s.data[0] - 0.25) < 1e-6 && Swift.abs(s.data[1] - 0.75) < 1e-6)
        let big = Tensor([1000, 1000], shape: [1, 2])
        #expect(big.softmax().data == [0.5, 0.5])
        let ls = big.logSoftmax().data  // log(1/2) = −0.693147
        #expect(ls.allSatisfy { Swift.abs($0 + 0.693147) < 1e-5 })
    }

    @Test("reductions by hand")
    func reductions() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(x.sum().item == 21)
        #expect(x.sum(axes: [0]).data == [5, 7, 9])
        #expect(x.sum(axes: [1], keepDims: true).shape == [2, 1])
        #expect(x.mean(axes: [1]).data == [2, 5])
        // variance of [1,2,3] = ((−1)² + 0 + 1²)/3 = 2/3
        #expect(Swift.abs(x.variance(axes: [1]).data[0] - 2.0 / 3.0) < 1e-6)
        #expect(x.max(axis: 0).data == [4, 5, 6])
        #expect(x.max(axis: -1, keepDims: true).shape == [2, 1])
    }

    @Test("fused normalisation agrees with the composed reference, forward and backward")
    func normalizeMatchesReference() {
        var rng = RandomGenerator(seed: 12)
        let x = Tensor.randn([4, 6, 5, 5], using: &rng) * 3 + 1
        let g = Tensor.randn(x.shape, using: &rng)
        let a = Tensor(x.data, shape: x.shape, requiresGrad: true), b = Tensor(x.data, shape: x.shape, requiresGrad: true)
        let ya = a.normalizedRows(length: 75, epsilon: 1e-5), yb = b.normalizedRowsReference(length: 75, epsilon: 1e-5)
        #expect(zip(ya.data, yb.data).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
        ya.backward(seed: g); yb.backward(seed: g)
        #expect(zip(a.grad!.data, b.grad!.data).allSatisfy { Swift.abs($0 - $1) < 1e-4 })
    }

    @Test("runs standardised eight at a time have the bits of each run standardised alone, forward and backward")
    func normalizeLanesMatchOneRun() {
        // 11 runs: one block of eight lanes and three runs done alone; each run's numbers of a
        // different scale, so a lane that read another run's elements would show.
        var rng = RandomGenerator(seed: 21)
        let (runs, length) = (11, 37)
        let x = Tensor((0..<(runs * length)).map { i in Float(i / length + 1) * rng.normal() + Float(i / length) },
                       shape: [runs, length])
        let g = Tensor.randn(x.shape, using: &rng)
        let all = Tensor(x.data, shape: x.shape, requiresGrad: true)
        let y = all.normalizedRows(length: length, epsilon: 1e-5)
        y.backward(seed: g)
        for run in 0..<runs {
            let slice = run * length..<(run + 1) * length
            let one = Tensor(Array(x.data[slice]), shape: [1, length], requiresGrad: true)
            let yOne = one.normalizedRows(length: length, epsilon: 1e-5)
            yOne.backward(seed: Tensor(Array(g.data[slice]), shape: [1, length]))
            let (sameValue, sameGradient) = (Array(y.data[slice]) == yOne.data, Array(all.grad!.data[slice]) == one.grad!.data)
            #expect(sameValue, "run \(run): forward")
            #expect(sameGradient, "run \(run): backward")
        }
    }

    @Test("the fused GroupNorm has the bits of the composed standardise · γ + β: output and the gradients of x, γ and β")
    func groupNormFusedIsTheComposedToTheBit() {
        // Runs a multiple of the 8 lanes and not, 1×1 and 1×W images, one example, several groups.
        let cases: [([Int], Int)] = [([2, 8, 5, 7], 4), ([3, 6, 4, 4], 3), ([1, 4, 1, 1], 2), ([2, 4, 1, 6], 2),
                                     ([5, 32, 8, 8], 8), ([1, 3, 3, 2], 1)]
        var rng = RandomGenerator(seed: 23)
        for (shape, groups) in cases {
            let c = shape[1]
            let x0 = Tensor.randn(shape, using: &rng) * 2 + 0.5, g = Tensor.randn(shape, using: &rng)
            let gamma0 = Tensor.randn([c], using: &rng), beta0 = Tensor.randn([c], using: &rng)
            func leaves() -> (Tensor, Tensor, Tensor) {
                (Tensor(x0.data, shape: shape, requiresGrad: true), Tensor(gamma0.data, shape: [c], requiresGrad: true),
                 Tensor(beta0.data, shape: [c], requiresGrad: true))
            }
            let (xa, ga, ba) = leaves(), (xb, gb, bb) = leaves()
            let fused = xa.groupNormalized(groups: groups, scale: ga, shift: ba, epsilon: 1e-5)
            let length = x0.count / (shape[0] * groups)
            let composed = xb.normalizedRows(length: length, epsilon: 1e-5) * gb.reshaped([1, c, 1, 1]) + bb.reshaped([1, c, 1, 1])
            fused.backward(seed: g); composed.backward(seed: g)
            let same = [fused.data == composed.data, xa.grad!.data == xb.grad!.data,
                        ga.grad!.data == gb.grad!.data, ba.grad!.data == bb.grad!.data]
            #expect(same == [true, true, true, true], "\(shape), \(groups) groups: output, ∂x, ∂γ, ∂β the same: \(same)")
        }
    }

    @Test("conv2d with its bias has the bits of conv2d + bias broadcast: output and the gradients of x, w and b")
    func convBiasIsTheAddedBias() {
        // Through the indirect product (3×3, 16 channels; 32×33 planes take its staged stores), the
        // direct loops (3 output channels), the GEMM (1×1) and a stride-2 convolution.
        let cases: [([Int], [Int], Int, Int)] = [([2, 8, 9, 11], [16, 8, 3, 3], 1, 1), ([2, 8, 32, 33], [16, 8, 3, 3], 1, 1),
                                                ([2, 8, 9, 11], [3, 8, 3, 3], 1, 1), ([2, 8, 9, 11], [16, 8, 1, 1], 1, 0),
                                                ([2, 8, 9, 11], [16, 8, 3, 3], 2, 1)]
        var rng = RandomGenerator(seed: 24)
        for (xShape, wShape, stride, padding) in cases {
            let x0 = Tensor.randn(xShape, using: &rng), w0 = Tensor.randn(wShape, using: &rng) * 0.3
            let b0 = Tensor.randn([wShape[0]], using: &rng) * 5
            func leaves() -> (Tensor, Tensor, Tensor) {
                (Tensor(x0.data, shape: x0.shape, requiresGrad: true), Tensor(w0.data, shape: w0.shape, requiresGrad: true),
                 Tensor(b0.data, shape: b0.shape, requiresGrad: true))
            }
            let (xa, wa, ba) = leaves(), (xb, wb, bb) = leaves()
            let fused = xa.conv2d(wa, bias: ba, stride: stride, padding: padding)
            let added = xb.conv2d(wb, stride: stride, padding: padding) + bb.reshaped([1, wShape[0], 1, 1])
            let g = Tensor.randn(fused.shape, using: &rng)
            fused.backward(seed: g); added.backward(seed: g)
            let same = [fused.data == added.data, xa.grad!.data == xb.grad!.data, wa.grad!.data == wb.grad!.data,
                        ba.grad!.data == bb.grad!.data]
            #expect(same == [true, true, true, true], "x \(xShape), w \(wShape), stride \(stride): output, ∂x, ∂w, ∂b the same: \(same)")
        }
    }

    @Test("sums over an outer axis and over inner runs, on 1, 2 and 3 threads, have the bits of the plain serial loops")
    func sumSpreadOverThreadsKeepsItsOrder() {
        var rng = RandomGenerator(seed: 22)
        let shape = [9, 5, 40, 41]  // summed to [1, 5, 1, 1]: first over axis 0, then over the 40·41 pixels
        let x = Tensor.randn(shape, using: &rng) * 10
        // The order the kernel documents: elementwise over axis 0 in order, then each channel's
        // pixels in blocks of 1,024 (8 Float lanes within a block, block totals in Double).
        let (n, c, p) = (shape[0], shape[1], shape[2] * shape[3])
        var planes = [Float](repeating: 0, count: c * p)
        for k in 0..<n { for t in 0..<(c * p) { planes[t] += x.data[k * c * p + t] } }
        var expected = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            var total = 0.0, k = 0
            while k < p {
                let end = Swift.min(k + 1024, p)
                var acc = SIMD8<Float>()
                while k + 8 <= end {
                    acc += SIMD8<Float>((0..<8).map { planes[ch * p + k + $0] }); k += 8
                }
                var s = acc.sum()
                while k < end { s += planes[ch * p + k]; k += 1 }
                total += Double(s)
            }
            expected[ch] = Float(total)
        }
        for threads in [1, 2, 3] {
            let got = Parallel.withThreads(threads) { x.sum(to: [1, c, 1, 1]).data }
            #expect(got == expected, "\(threads) threads: \(got) vs \(expected)")
        }
    }

    @Test("the SIMD exp agrees with the C library's to a few ulp over its range, and σ saturates cleanly")
    func simdExp() {
        let xs = stride(from: Float(-87), through: 88, by: 0.37).map { $0 }
        let got = Tensor(xs, shape: [xs.count]).exp().data
        for (x, y) in zip(xs, got) {
            let want = Foundation.exp(Double(x))
            #expect(Swift.abs(Double(y) - want) <= 3e-7 * want, "exp(\(x)) = \(y), libm says \(want)")
        }
        // Outside the range the input is clamped: +inf above (e^x overflows a float), the smallest
        // normal float below (not 0, not garbage from an exponent out of range); NaN stays NaN.
        let edges = Tensor([1000, -1000, .infinity, -.infinity, .nan], shape: [5]).exp().data
        #expect(edges[0] == .infinity && edges[2] == .infinity, "exp(1000) = \(edges[0]), exp(inf) = \(edges[2])")
        #expect(edges[1] > 1.1e-38 && edges[1] < 1.3e-38 && edges[3] == edges[1], "exp(-1000) = \(edges[1]), exp(-inf) = \(edges[3])")
        #expect(edges[4].isNaN, "exp(nan) = \(edges[4])")
        let s = Tensor([-200, -30, 0, 30, 200], shape: [5]).sigmoid().data
        #expect(s[0] == 0 || s[0] < 1e-38)
        #expect(Swift.abs(s[1] - 9.357623e-14) < 1e-18)  // σ(−30) = 1/(1 + e³⁰) = 9.3576e−14
        #expect(s[2] == 0.5 && s[3] == 1 && s[4] == 1)
    }

    @Test("long sums are accurate: 10⁶ copies of 0.1")
    func longSum() {
        let x = Tensor(repeating: 0.1, shape: [1_000_000])
        #expect(Swift.abs(x.sum().item - 100_000) < 1)
    }

    @Test("pool and upsample by hand")
    func resampling() {
        let x = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        #expect(x.avgPool2x2().data == [2.5])
        #expect(x.upsampleNearest2x().data == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    @Test("permute, slice, concat, gather move the right elements")
    func movement() {
        let x = Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])
        #expect(x.transposed().data == [0, 3, 1, 4, 2, 5])
        #expect(x.slice(axis: 1, 1..<3).data == [1, 2, 4, 5])
        #expect(Tensor.concat([x, x.slice(axis: 1, 0..<1)], axis: 1).data == [0, 1, 2, 0, 3, 4, 5, 3])
        #expect(x.gather(rows: [1, 1, 0]).data == [3, 4, 5, 3, 4, 5, 0, 1, 2])
        #expect(x.reshaped([3, -1]).shape == [3, 2])
        let y = Tensor((0..<24).map(Float.init), shape: [2, 3, 4]).permuted([2, 0, 1])
        #expect(y.shape == [4, 2, 3])
        #expect(y[3, 1, 2] == 12 + 2 * 4 + 3)  // y[k, i, j] = x[i, j, k] = 12i + 4j + k
    }

    @Test("activation values by hand")
    func activations() {
        let x = Tensor([-1, 0, 2], shape: [3])
        #expect(x.relu().data == [0, 0, 2])
        // σ(0) = 0.5; silu(2) = 2/(1+e⁻²) = 1.761594
        #expect(x.sigmoid().data[1] == 0.5)
        #expect(Swift.abs(x.silu().data[2] - 1.761594) < 1e-5)
        // gelu(−1) with the tanh approximation: −0.5·(1 + tanh(0.79788·(−1.044715))) = −0.158808
        #expect(Swift.abs(x.gelu().data[0] + 0.158808) < 1e-5)
    }

    /// A naive broadcasting reference: for each output index, read the matching input elements.
    static func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (shape: [Int], data: [Float]) {
        let n = Swift.max(a.rank, b.rank)
        let pa = [Int](repeating: 1, count: n - a.rank) + a.shape
        let pb = [Int](repeating: 1, count: n - b.rank) + b.shape
        let shape = zip(pa, pb).map { Swift.max($0, $1) }
        let total = shape.reduce(1, *)
        var out: [Float] = []
        for flat in 0..<total {
            var rem = flat, ia = 0, ib = 0, sa = 1, sb = 1
            for d in stride(from: n - 1, through: 0, by: -1) {
                let k = rem % shape[d]; rem /= shape[d]
                ia += (pa[d] == 1 ? 0 : k) * sa; sa *= pa[d]
                ib += (pb[d] == 1 ? 0 : k) * sb; sb *= pb[d]
            }
            out.append(f(a.data[ia], b.data[ib]))
        }
        return (shape, out)
    }

    @Test("broadcasting agrees with the naive reference on random compatible shapes")
    func broadcastingProperty() {
        var rng = RandomGenerator(seed: 7)
        for _ in 0..<300 {
            let rank = rng.int(in: 0..<5)
            let full = (0..<rank).map { _ in rng.int(in: 1..<5) }
            func variant() -> [Int] {
                let dropped = rng.int(in: 0..<(rank + 1))
                return full.dropFirst(dropped).map { rng.int(in: 0..<3) == 0 ? 1 : $0 }
            }
            let a = Tensor.randn(variant(), using: &rng), b = Tensor.randn(variant(), using: &rng)
            let expected = Self.naiveBroadcast(a, b, *)
            let got = a * b
            #expect(got.shape == expected.shape, "\(a.shape) * \(b.shape)")
            #expect(got.data == expected.data, "\(a.shape) * \(b.shape)")
            let sub = a - b
            #expect(sub.data == Self.naiveBroadcast(a, b, -).data, "\(a.shape) - \(b.shape)")
            // expand agrees too
            #expect(a.expand(to: expected.shape).data == Self.naiveBroadcast(a, Tensor.zeros(expected.shape), { x, _ in x }).data)
        }
    }
}
