// The fast `conv2dForward` / `conv2dBackward` against the loop oracles `conv2dForwardNaive` /
// `conv2dBackwardNaive`, on every geometry the kernels special-case.
//
// Tolerance: fast and naive add the same products in different orders (GEMM blocks, then
// col2im, then groups of images), so a value may differ by rounding. Summing t products in
// any order errs by at most about t·eps·Σ|products| (eps = 2^-24), and Σ|products| is the
// same convolution run on |input|, |weight|, |gradOutput|; we allow 2·t·eps·Σ|products|.
import Testing
@testable import Tensor

/// Seeded inputs in [-1, 1) from the package's generator, so every run tests the same numbers.
extension RandomGenerator {
    fileprivate mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in uniform(in: -1...1) } }
}

/// One convolution's operands, and the kernels run on them.
private struct ConvCase {
    let g: Conv2dGeometry
    var input: [Float], weight: [Float], gradOutput: [Float]
    var inputCount: Int { g.batch * g.inChannels * g.height * g.width }
    var weightCount: Int { g.outChannels * g.inChannels * g.kernelH * g.kernelW }
    var outputCount: Int { g.batch * g.outChannels * g.outHeight * g.outWidth }

    init(_ g: Conv2dGeometry, seed: UInt64 = 7) {
        self.g = g
        var rng = RandomGenerator(seed: seed)
        input = []; weight = []; gradOutput = []
        input = rng.array(inputCount)
        weight = rng.array(weightCount)
        gradOutput = rng.array(outputCount)
    }

    /// This case with every operand replaced by its absolute value (for the error bound).
    var absolute: ConvCase {
        var c = self
        c.input = input.map(abs); c.weight = weight.map(abs); c.gradOutput = gradOutput.map(abs)
        return c
    }

    /// Output of the naive kernel or the fast one; `direct` nil lets the kernel choose its method,
    /// `columnBudget` nil uses the default groups.
    func forward(naive: Bool = false, direct: Bool? = nil, columnBudget: Int? = nil, implicit: Bool = true,
                 indirect: Bool = true) -> [Float] {
        var out = [Float](repeating: .nan, count: outputCount)  // must be overwritten
        input.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { y in
            if naive {
                conv2dForwardNaive(g, input: x.baseAddress!, weight: w.baseAddress!, output: y.baseAddress!)
            } else if direct == nil && columnBudget == nil && implicit && indirect {
                conv2dForward(g, input: x.baseAddress!, weight: w.baseAddress!, output: y.baseAddress!)  // the public API
            } else {
                conv2dForward(g, input: x.baseAddress!, weight: w.baseAddress!, output: y.baseAddress!,
                              direct: direct, columnBudget: columnBudget ?? defaultColumnBudget, implicitColumns: implicit,
                              indirect: indirect)
            }
        } } }
        return out
    }

    /// (gradInput, gradWeight) of the fast or naive kernel; a gradient not asked for is nil.
    func backward(naive: Bool = false, direct: Bool? = nil, columnBudget: Int? = nil, partBudget: Int? = nil,
                  implicit: Bool = true, indirect: Bool = true, wantInput: Bool = true, wantWeight: Bool = true)
        -> (input: [Float]?, weight: [Float]?) {
        var gx = [Float](repeating: .nan, count: inputCount), gw = [Float](repeating: .nan, count: weightCount)
        input.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in gradOutput.withUnsafeBufferPointer { dy in
            gx.withUnsafeMutableBufferPointer { dx in gw.withUnsafeMutableBufferPointer { dw in
                let px = wantInput ? dx.baseAddress : nil, pw = wantWeight ? dw.baseAddress : nil
                if naive {
                    conv2dBackwardNaive(g, input: x.baseAddress!, weight: w.baseAddress!, gradOutput: dy.baseAddress!,
                                        gradInput: px, gradWeight: pw)
                } else if direct == nil && columnBudget == nil && partBudget == nil && implicit && indirect {
                    conv2dBackward(g, input: x.baseAddress!, weight: w.baseAddress!, gradOutput: dy.baseAddress!,
                                   gradInput: px, gradWeight: pw)  // the public API
                } else {
                    conv2dBackward(g, input: x.baseAddress!, weight: w.baseAddress!, gradOutput: dy.baseAddress!,
                                   gradInput: px, gradWeight: pw, direct: direct,
                                   columnBudget: columnBudget ?? defaultColumnBudget,
                                   partBudget: partBudget ?? defaultPartBudget, implicitColumns: implicit, indirect: indirect)
                }
            } }
        } } }
        return (wantInput ? gx : nil, wantWeight ? gw : nil)
    }
}

/// Expects |actual − expected| ≤ 2·terms·eps·bound + tiny, element by element.
private func expectClose(_ actual: [Float], _ expected: [Float], bound: [Float], terms: Int, _ what: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    let eps = Float.ulpOfOne / 2
    var worst = 0, worstExcess: Float = -.infinity
    for i in 0..<expected.count {
        let tolerance = 2 * Float(terms) * eps * bound[i] + 1e-30
        let excess = abs(actual[i] - expected[i]) - tolerance
        if !(excess <= worstExcess) { worst = i; worstExcess = excess }  // NaN counts as worst
    }
    #expect(worstExcess <= 0, "\(what)[\(worst)]: fast \(actual[worst]) vs naive \(expected[worst])",
            sourceLocation: sourceLocation)
}

private func geometry(_ n: Int, _ cin: Int, _ h: Int, _ w: Int, _ cout: Int, k: Int, kw: Int? = nil,
                      stride: Int = 1, pad: Int = 0) -> Conv2dGeometry {
    Conv2dGeometry(batch: n, inChannels: cin, height: h, width: w, outChannels: cout,
                   kernelH: k, kernelW: kw ?? k, stride: stride, padding: pad)
}

/// The geometries: each special case of the lowering, and awkward sizes.
private let cases: [(String, Conv2dGeometry)] = [
    ("3x3 pad 1", geometry(3, 3, 5, 5, 4, k: 3, pad: 1)),
    ("3x3 pad 1, batch 1", geometry(1, 17, 5, 3, 3, k: 3, pad: 1)),
    ("3x3 stride 2 pad 1", geometry(3, 3, 7, 6, 5, k: 3, stride: 2, pad: 1)),
    ("3x3 stride 2 no pad", geometry(3, 2, 5, 5, 3, k: 3, stride: 2)),
    ("3x3 stride 2 no pad, even size", geometry(1, 3, 17, 6, 2, k: 3, stride: 2)),
    ("1x1 pointwise", geometry(3, 17, 5, 3, 4, k: 1)),
    ("1x1 pointwise, batch 1", geometry(1, 3, 3, 17, 17, k: 1)),
    ("1x1 stride 2", geometry(3, 3, 5, 5, 2, k: 1, stride: 2)),
    ("1x1 pad 1", geometry(1, 3, 3, 3, 2, k: 1, pad: 1)),
    ("2x2 stride 2", geometry(3, 3, 6, 4, 3, k: 2, stride: 2)),
    ("2x2 stride 2, odd size", geometry(1, 1, 5, 17, 1, k: 2, stride: 2)),
    ("non-square 5x17", geometry(3, 3, 5, 17, 3, k: 3, pad: 1)),
    ("non-square kernel 3x1", geometry(3, 3, 5, 3, 2, k: 3, kw: 1, pad: 1)),
    ("1 channel 1x1 image", geometry(3, 1, 1, 1, 1, k: 3, pad: 1)),
    ("3x1 image", geometry(1, 3, 3, 1, 17, k: 3, pad: 1)),
    ("17 channels 17x5", geometry(3, 17, 17, 5, 3, k: 3, pad: 1)),
    ("pad 2 beyond the image", geometry(1, 3, 1, 3, 2, k: 3, stride: 2, pad: 2)),
    ("kernel as large as the image", geometry(3, 3, 5, 5, 2, k: 5)),
]

@Suite("Conv2d kernel")
struct Conv2dKernelTests {
    /// Fast forward and both gradients within rounding of the oracles: by im2col + GEMM with the
    /// default groups and with groups of one and of two images (several GEMMs, the weight gradient
    /// summed over groups), and by the direct loops where they apply (stride 1, Cout <= 4).
    @Test(arguments: cases.indices)
    func fastMatchesNaive(_ index: Int) {
        let (name, g) = cases[index]
        let c = ConvCase(g, seed: UInt64(index) + 1), abs = c.absolute
        let expected = c.forward(naive: true), bound = abs.forward(naive: true)
        let (expectedDx, expectedDw) = c.backward(naive: true)
        let (boundDx, _) = abs.backward(naive: true)
        let (_, boundDw) = abs.backward(naive: true)
        let imageColumns = g.inChannels * g.kernelH * g.kernelW * g.outHeight * g.outWidth
        // (nil, nil): the public entry points, which choose for themselves.
        var methods: [(direct: Bool?, budget: Int?)] = [(nil, nil), (false, defaultColumnBudget), (false, imageColumns),
                                                         (false, 2 * imageColumns)]
        if DirectConv.suits(g) { methods.append((true, nil)) }
        for (direct, budget) in methods {
            let label = "\(name), " + (direct == nil ? "public API" : direct! ? "direct"
                                        : "GEMM, column budget \(budget!)")
            expectClose(c.forward(direct: direct, columnBudget: budget), expected, bound: bound,
                        terms: g.inChannels * g.kernelH * g.kernelW, "\(label): output")
            let (dx, dw) = c.backward(direct: direct, columnBudget: budget)
            expectClose(dx!, expectedDx!, bound: boundDx!, terms: g.outChannels * g.kernelH * g.kernelW,
                        "\(label): gradInput")
            expectClose(dw!, expectedDw!, bound: boundDw!, terms: g.batch * g.outHeight * g.outWidth,
                        "\(label): gradWeight")
        }
    }

    /// Asking for one gradient gives exactly the numbers it has when both are asked for.
    @Test(arguments: [0, 2, 5], [false, true])
    func oneGradientAlone(_ index: Int, direct: Bool) {
        let c = ConvCase(cases[index].1)
        if direct && !DirectConv.suits(c.g) { return }
        let both = c.backward(direct: direct)
        #expect(c.backward(direct: direct, wantWeight: false).input! == both.input!)
        #expect(c.backward(direct: direct, wantInput: false).weight! == both.weight!)
    }

    /// A hand-worked value: a 3×3 all-ones kernel with padding 1 on a 2×2 image of ones sums
    /// the 4 pixels each output sees (every 3×3 window covers the whole image): output 4
    /// everywhere. With dy = 1, each weight tap sees as many pixels as it overlaps: the centre
    /// 4, an edge tap 2, a corner tap 1; each input pixel is seen by 4 outputs through 4 taps.
    @Test func handWorked() {
        let g = geometry(1, 1, 2, 2, 1, k: 3, pad: 1)
        var c = ConvCase(g)
        c.input = [1, 1, 1, 1]; c.weight = [Float](repeating: 1, count: 9); c.gradOutput = [1, 1, 1, 1]
        #expect(c.forward() == [4, 4, 4, 4])
        let (dx, dw) = c.backward()
        #expect(dx! == [4, 4, 4, 4])
        #expect(dw! == [1, 2, 1, 2, 4, 2, 1, 2, 1])
    }

    /// The GEMM reading the im2col columns in place gives the bits of the GEMM on the written-out
    /// columns (so weights trained either way are the same), on every geometry above, with one
    /// group of images and with several, on every vector path, and at shapes whose products run
    /// on both threads and whose k is cut into several blocks.
    @Test func implicitColumnsAreTheWrittenColumnsToTheBit() {
        let big = [geometry(6, 40, 9, 11, 33, k: 3, pad: 1), geometry(4, 7, 12, 12, 70, k: 3, stride: 2, pad: 2),
                   geometry(3, 64, 8, 8, 20, k: 1)]
        for (name, g) in cases.map({ ($0.0, $0.1) }) + big.map({ ("\($0)", $0) }) where g.batch > 0 && g.outChannels > 0 {
            let c = ConvCase(g)
            let imageColumns = g.inChannels * g.kernelH * g.kernelW * g.outHeight * g.outWidth
            let imagePadded = g.inChannels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding)
            // The last budget gives the indirect forward one image per group.
            for budget in [defaultColumnBudget, 2 * imageColumns, imagePadded] {
                for path in GemmPath.available {
                    GemmPath.with(path) {
                        let implicit = (c.forward(direct: false, columnBudget: budget),
                                        c.backward(direct: false, columnBudget: budget))
                        let written = (c.forward(direct: false, columnBudget: budget, implicit: false),
                                       c.backward(direct: false, columnBudget: budget, implicit: false))
                        #expect(implicit.0 == written.0, "\(name): forward, budget \(budget), \(path.name)")
                        #expect(implicit.1.weight! == written.1.weight!, "\(name): weight gradient, budget \(budget), \(path.name)")
                        #expect(implicit.1.input! == written.1.input!, "\(name): input gradient, budget \(budget), \(path.name)")
                    }
                }
            }
        }
    }

    /// The forward convolution and the weight gradient through the indirect product (operands
    /// swapped, pixels read in place) have the bits of `gemm` on the implicit columns, on every
    /// geometry it takes (K >= 64, not 1×1): with several k blocks (K > 256, and groups wider than
    /// 256 pixels), outputs staged (P >= 1,024) and not, Cout not a multiple of the tile's channels,
    /// strides 1 and 2, groups of one image and of several (the weight gradient summed over them;
    /// the forward's groups, counted in padded planes, differ from the GEMM's), on every vector
    /// path and on 1 and 2 threads.
    @Test func indirectProductsAreTheGEMMsToTheBit() {
        let shapes = [geometry(3, 8, 9, 11, 5, k: 3, pad: 1), geometry(2, 40, 9, 11, 33, k: 3, pad: 1),
                      geometry(3, 32, 8, 8, 64, k: 3, pad: 1), geometry(2, 7, 33, 32, 20, k: 3, pad: 1),
                      geometry(4, 7, 12, 12, 70, k: 3, stride: 2, pad: 2), geometry(2, 17, 17, 5, 3, k: 5, pad: 2)]
        var taken = 0
        for (name, g) in cases.map({ ($0.0, $0.1) }) + shapes.map({ ("\($0)", $0) }) where g.batch > 0 && g.outChannels > 0 {
            let plan = ConvLowering(g, columnBudget: defaultColumnBudget, implicitColumns: true)
            guard IndirectConv.suits(plan) else { continue }
            taken += 1
            let c = ConvCase(g)
            let imageColumns = g.inChannels * g.kernelH * g.kernelW * g.outHeight * g.outWidth
            let imagePadded = g.inChannels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding)
            // The last budget gives the indirect forward one image per group.
            for budget in [defaultColumnBudget, 2 * imageColumns, imagePadded] {
                for path in GemmPath.available {
                    for threads in [1, 2] {
                        let (indirect, product, indirectDw, productDw) = GemmPath.with(path) {
                            Parallel.withThreads(threads) {
                                (c.forward(direct: false, columnBudget: budget),
                                 c.forward(direct: false, columnBudget: budget, indirect: false),
                                 c.backward(direct: false, columnBudget: budget, wantInput: false).weight!,
                                 c.backward(direct: false, columnBudget: budget, indirect: false, wantInput: false).weight!)
                            }
                        }
                        let (same, sameDw) = (indirect == product, indirectDw == productDw)
                        #expect(same, "\(name): forward, budget \(budget), \(path.name), \(threads) threads")
                        #expect(sameDw, "\(name): weight gradient, budget \(budget), \(path.name), \(threads) threads")
                    }
                }
            }
        }
        #expect(taken >= 6, "only \(taken) geometries went through the indirect product")
    }

    /// The direct loops (few output channels) add each output's terms in the documented order,
    /// whatever they compute side by side: forward, each output plane over the input channels in
    /// order, each value's taps in (ky, kx) order (8 along a row at a time, then the row's tail);
    /// the weight gradient, each tap's sum over the examples in order of 8-lane sums plus a tail.
    /// Written out here plane by plane, as the plainest loops, and compared to the bit.
    @Test func directLoopsKeepTheirOrder() {
        for g in [geometry(2, 6, 7, 13, 3, k: 3, pad: 1), geometry(3, 5, 9, 8, 4, k: 3, pad: 1), geometry(1, 2, 6, 11, 1, k: 3, pad: 1)] {
            let c = ConvCase(g)
            let (h, w, p, oh, ow) = (g.height, g.width, g.padding, g.outHeight, g.outWidth)
            let pw = w + 2 * p
            func padded(_ n: Int, _ ci: Int) -> [Float] {
                var out = [Float](repeating: 0, count: (h + 2 * p) * pw)
                for y in 0..<h { for x in 0..<w { out[(y + p) * pw + x + p] = c.input[((n * g.inChannels + ci) * h + y) * w + x] } }
                return out
            }
            var y = [Float](repeating: 0, count: g.batch * g.outChannels * oh * ow)
            var dw = [Float](repeating: 0, count: g.outChannels * g.inChannels * 9)
            for n in 0..<g.batch {
                for ci in 0..<g.inChannels {
                    let xp = padded(n, ci)
                    for co in 0..<g.outChannels {
                        let taps = Array(c.weight[((co * g.inChannels + ci) * 9)..<((co * g.inChannels + ci + 1) * 9)])
                        for oy in 0..<oh {
                            var x = 0
                            while x < ow {
                                let lanes = x + 8 <= ow ? 8 : 1
                                for l in 0..<lanes {
                                    let at = ((n * g.outChannels + co) * oh + oy) * ow + x + l
                                    var v = y[at]
                                    for k in 0..<9 { v.addProduct(taps[k], xp[(oy + k / 3) * pw + x + l + k % 3]) }
                                    y[at] = v
                                }
                                x += lanes
                            }
                        }
                    }
                }
            }
            for ci in 0..<g.inChannels {
                for n in 0..<g.batch {
                    let xp = padded(n, ci)
                    for co in 0..<g.outChannels {
                        for k in 0..<9 {
                            var acc = SIMD8<Float>(), tail: Float = 0
                            for oy in 0..<oh {
                                var x = 0
                                while x + 8 <= ow {
                                    for l in 0..<8 {
                                        acc[l].addProduct(c.gradOutput[((n * g.outChannels + co) * oh + oy) * ow + x + l],
                                                          xp[(oy + k / 3) * pw + x + l + k % 3])
                                    }
                                    x += 8
                                }
                                while x < ow {
                                    tail.addProduct(c.gradOutput[((n * g.outChannels + co) * oh + oy) * ow + x], xp[(oy + k / 3) * pw + x + k % 3])
                                    x += 1
                                }
                            }
                            dw[(co * g.inChannels + ci) * 9 + k] += acc.sum() + tail
                        }
                    }
                }
            }
            let (sameOutput, sameWeights) = (c.forward(direct: true) == y, c.backward(direct: true, wantInput: false).weight! == dw)
            #expect(sameOutput, "\(g): output")
            #expect(sameWeights, "\(g): weight gradient")
        }
    }

    /// When an image's output pixels fill whole k blocks (P a multiple of 256, as at 16×16 and
    /// 32×32), the weight gradient has the same bits however the images are grouped (the backward
    /// rounds its groups of one-image parts up to an even size on that promise), through the
    /// indirect product and through `gemm`, on 1 and 2 threads. Where P is not (9×11 here), the
    /// groups do change the bits, so the check can fail.
    @Test func weightGradientIgnoresTheGroupsWhenImagesFillWholeBlocks() {
        for (g, fills) in [(geometry(6, 8, 16, 16, 16, k: 3, pad: 1), true), (geometry(6, 8, 9, 11, 16, k: 3, pad: 1), false)] {
            let c = ConvCase(g)
            let imageColumns = g.inChannels * g.kernelH * g.kernelW * g.outHeight * g.outWidth
            for indirect in [true, false] {
                let one = c.backward(direct: false, columnBudget: imageColumns, indirect: indirect, wantInput: false).weight!
                for images in [2, 3, 6] {
                    for threads in [1, 2] {
                        let grouped = Parallel.withThreads(threads) {
                            c.backward(direct: false, columnBudget: images * imageColumns, indirect: indirect, wantInput: false).weight!
                        }
                        let label = "\(g), groups of \(images), indirect \(indirect), \(threads) threads"
                        if fills {
                            #expect(grouped == one, "\(label)")
                        } else if images == 3 {
                            #expect(grouped != one, "\(label): the groups should change the bits here")
                        }
                    }
                }
            }
        }
    }

    /// The input gradient computed in parts of one, two or three images (several parts side by
    /// side on the threads) has the bits of the whole group's, and the weight gradient is untouched,
    /// on 1 and 2 threads: through col2im (3×3, stride 2, pointwise in groups) and with one group of
    /// images and several. Groups of 3 one-image parts are rounded up to 4 only where that keeps the
    /// bits (16×16 here, P = 256); at 17×13 they must stay 3.
    @Test func inputGradientInPartsIsTheWholeGroupsToTheBit() {
        for g in [geometry(7, 17, 17, 13, 32, k: 3, pad: 1), geometry(6, 64, 8, 8, 48, k: 1),
                  geometry(5, 9, 16, 16, 24, k: 3, stride: 2, pad: 1), geometry(5, 3, 1, 3, 2, k: 3, stride: 2, pad: 2),
                  geometry(7, 4, 16, 16, 8, k: 3, pad: 1)] {
            let c = ConvCase(g)
            let imageColumns = g.inChannels * g.kernelH * g.kernelW * g.outHeight * g.outWidth
            for columnBudget in [defaultColumnBudget, 3 * imageColumns, 4 * imageColumns] {
                let whole = c.backward(direct: false, columnBudget: columnBudget, partBudget: Int.max / 2, indirect: false)
                for images in [1, 2, 3] {
                    for threads in [1, 2] {
                        let parts = Parallel.withThreads(threads) {
                            c.backward(direct: false, columnBudget: columnBudget, partBudget: images * imageColumns, indirect: false)
                        }
                        let label = "\(g), groups of \(columnBudget / imageColumns) images, parts of \(images), \(threads) threads"
                        let (sameInput, sameWeight) = (parts.input! == whole.input!, parts.weight! == whole.weight!)
                        #expect(sameInput, "\(label): input gradient")
                        #expect(sameWeight, "\(label): weight gradient")
                    }
                }
            }
        }
    }

    /// The input gradient of a stride-1 convolution, computed as a convolution of dY through the
    /// indirect product, has the bits of dcols + col2im: with one group of images and one image a
    /// group, on every vector path, on 1 and 2 threads; with padding 0, 1 and 2, 2×2, 3×3 and 5×5
    /// kernels, Cout below, at and above the vector width, and 32×33 planes (the staged stores).
    @Test func indirectInputGradientIsCol2imsToTheBit() {
        let shapes = [geometry(3, 8, 9, 11, 8, k: 3, pad: 1), geometry(2, 40, 9, 11, 33, k: 3, pad: 1),
                      geometry(3, 32, 8, 8, 64, k: 3, pad: 1), geometry(2, 9, 7, 6, 10, k: 3),
                      geometry(2, 8, 6, 7, 12, k: 3, pad: 2), geometry(2, 17, 17, 5, 3, k: 5, pad: 2),
                      geometry(3, 8, 5, 6, 40, k: 2, pad: 1), geometry(2, 16, 32, 33, 16, k: 3, pad: 1)]
        for g in shapes {
            #expect(IndirectInputGradient.suits(g), "\(g) should take the indirect input gradient")
            let c = ConvCase(g)
            let t = IndirectInputGradient.transposed(g)
            let imagePadded = t.inChannels * (t.height + 2 * t.padding) * (t.width + 2 * t.padding)
            for budget in [defaultColumnBudget, imagePadded] {
                for path in GemmPath.available {
                    for threads in [1, 2] {
                        let (indirect, col2im) = GemmPath.with(path) {
                            Parallel.withThreads(threads) {
                                (c.backward(direct: false, columnBudget: budget, wantWeight: false).input!,
                                 c.backward(direct: false, columnBudget: budget, indirect: false, wantWeight: false).input!)
                            }
                        }
                        let same = indirect == col2im
                        #expect(same, "\(g): budget \(budget), \(path.name), \(threads) threads")
                    }
                }
            }
        }
        for g in [geometry(3, 8, 9, 11, 8, k: 3, stride: 2, pad: 1), geometry(1, 8, 5, 5, 300, k: 3, pad: 1),
                  geometry(3, 8, 9, 11, 8, k: 3, kw: 1, pad: 1), geometry(3, 4, 9, 11, 8, k: 3, pad: 1)] {
            #expect(!IndirectInputGradient.suits(g), "\(g) should keep dcols + col2im")
        }
    }

    /// Results are bit-identical for 1, 2 and 3 threads, on shapes large enough that the GEMMs,
    /// im2col and col2im all run in parallel, with one group and with several.
    @Test func bitIdenticalForAnyThreadCount() {
        for g in [geometry(8, 17, 17, 13, 32, k: 3, pad: 1), geometry(6, 64, 8, 8, 48, k: 1),
                  geometry(5, 9, 16, 16, 24, k: 3, stride: 2, pad: 1), geometry(7, 32, 16, 13, 3, k: 3, pad: 1)] {
            let c = ConvCase(g)
            let imageColumns = g.inChannels * g.kernelH * g.kernelW * g.outHeight * g.outWidth
            for budget in [nil, 3 * imageColumns] {
                var reference: ([Float], [Float]?, [Float]?)? = nil
                for threads in [1, 2, 3] {
                    let (y, dx, dw) = Parallel.withThreads(threads) { () -> ([Float], [Float]?, [Float]?) in
                        let y = c.forward(columnBudget: budget)
                        let (dx, dw) = c.backward(columnBudget: budget)
                        return (y, dx, dw)
                    }
                    if let (y0, dx0, dw0) = reference {
                        #expect(y == y0 && dx! == dx0! && dw! == dw0!, "\(g), \(threads) threads, budget \(String(describing: budget))")
                    } else {
                        reference = (y, dx, dw)
                    }
                }
            }
        }
    }
}
