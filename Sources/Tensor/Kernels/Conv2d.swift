// 2-D convolution kernels: the forward pass and both gradients, lowered to matrix multiplies.
//
//     output[n, co, oy, ox] = Σ_{ci, ky, kx} weight[co, ci, ky, kx] · input[n, ci, oy·s − p + ky, ox·s − p + kx]
//
// (cross-correlation, as in every deep-learning library; input values outside the image are 0).
// `conv2dForwardNaive` / `conv2dBackwardNaive` are the definitions, plain loops a learner can
// read; `conv2dForward` / `conv2dBackward` compute the same numbers 20-100 times faster.
//
// The fast versions use "im2col" (Chellapilla, Puri & Simard, "High Performance Convolutional
// Neural Networks for Document Processing", 2006): copy every receptive field into a column,
//
//     cols[(ci, ky, kx), (n, oy, ox)] = input[n, ci, oy·s − p + ky, ox·s − p + kx]   // [K, N·P]
//
// with K = Cin·KH·KW and P = OH·OW, and the convolution becomes one GEMM:
//
//     forward         Y[Cout, N·P] = W[Cout, K] · cols[K, N·P]
//     weight grad     dW[Cout, K]  = dY[Cout, N·P] · colsᵀ
//     input grad      dcols[K, N·P] = Wᵀ · dY[Cout, N·P],  then "col2im" adds every column
//                     back onto the pixels it was copied from (a pixel appears in up to KH·KW),
//                     in parts of a few images whose dcols stay in cache (`defaultPartBudget`).
//
// The forward GEMM and the weight gradient's never see the columns written out: `gemm` packs its
// B panels straight from the images through `ImplicitColumns` (an "implicit GEMM"), a few short
// copies per row of a panel from zero-padded planes, so the K-times-larger matrix never goes
// through memory. The panels hold the values im2col would have written, so the numbers are the
// same to the bit. Only the input gradient's dcols are written, for col2im (where that gradient
// is not run as a convolution of its own, below).
//
// For most convolutions (K >= 64, kernel larger than 1×1) those two products run as "indirect"
// products instead (`IndirectConv.swift`): the same products with their operands swapped, so the
// small operand (the weights, or the output gradient) is the one packed and the columns are not
// packed at all but read in place, pixel by pixel, from the padded planes. Same bits again.
// And the input gradient of a stride-1 convolution with a square kernel (the UNets' 3×3) is itself
// a forward convolution, of dY by the kernel turned half a turn, which the indirect product runs
// with no dcols and no col2im (`IndirectInputGradient`), again to the bit.
//
// Putting the images of a batch side by side in one GEMM (rather than one small GEMM per
// image) keeps the products wide even at 4×4 pixels, where one image gives only P = 16 columns.
// The price is a reshuffle between [N, C, P] (the tensor layout) and [C, N·P] (the GEMM layout)
// of the output and its gradient, a cheap copy next to the K-times-larger columns (the indirect
// products write and read the tensor layout itself, and skip it). The batch is
// cut into groups of images whose columns would fit `defaultColumnBudget` floats (4 MB), so a
// group's dcols are still in cache for col2im; the weight gradient sums the groups in order.
// (The indirect forward builds no columns: its groups are cut by their padded planes instead.)
// im2col reads a zero-padded copy of each input plane, so every row it copies is a plain run of
// OW floats, copied in SIMD registers (the rows are 4-32 floats, too short for memcpy).
//
// Two cases skip im2col: a 1×1, stride-1, unpadded convolution whose group is one image
// multiplies the input in place; and a stride-1 convolution with at most 4 output channels
// (the UNet's final 32 -> 3 conv), where the GEMM would do little arithmetic per column copied,
// runs as direct loops over padded planes (`DirectConv`, 1.3-1.7× faster there).
//
// Determinism: the groups depend on the shape only, the GEMM is bit-identical for any thread
// count, and the copies and col2im (each task owns whole image planes, adding the KH·KW
// contributions of a pixel in a fixed order) are too. So results do not depend on
// `Parallel.threadCount`.
//
// Cost: forward 2·N·Cout·P·K flops, backward twice that; the scratch is one group's padded
// images, dcols (or a part's, per thread) and reshuffled output, kept in a small pool between
// calls instead of freed (the allocator would otherwise hand back fresh pages that fault on
// first touch every call).

import Synchronization

/// The shapes of one convolution: input [batch, inChannels, height, width], weight
/// [outChannels, inChannels, kernelH, kernelW], output [batch, outChannels, outHeight, outWidth].
public struct Conv2dGeometry: Equatable, Sendable {
    public var batch, inChannels, height, width, outChannels, kernelH, kernelW, stride, padding: Int

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
                kernelH: Int, kernelW: Int, stride: Int, padding: Int) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }

    /// Stops with a message naming `op` unless every size makes sense and the kernel fits.
    func validate(_ op: String) {
        if batch < 0 || inChannels < 0 || outChannels < 0 || height < 1 || width < 1
            || kernelH < 1 || kernelW < 1 || stride < 1 || padding < 0 {
            fatalError("\(op): bad geometry \(self)")
        }
        if height + 2 * padding < kernelH || width + 2 * padding < kernelW {
            fatalError("\(op): kernel \(kernelH)×\(kernelW) does not fit a \(height)×\(width) input with padding \(padding)")
        }
    }
}

// MARK: - The oracles

/// output [N, Cout, OH, OW] = conv(input [N, Cin, H, W], weight [Cout, Cin, KH, KW]):
/// cross-correlation with zero padding, no bias; overwrites `output`. The readable
/// definition `conv2dForward` is tested against; sums in Float in (ci, ky, kx) order.
public func conv2dForwardNaive(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>) {
    g.validate("conv2dForwardNaive")
    let (oh, ow) = (g.outHeight, g.outWidth)
    for n in 0..<g.batch { for co in 0..<g.outChannels { for oy in 0..<oh { for ox in 0..<ow {
        var sum: Float = 0
        for ci in 0..<g.inChannels { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
            let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
            if iy < 0 || iy >= g.height || ix < 0 || ix >= g.width { continue }  // zero padding
            sum += weight[((co * g.inChannels + ci) * g.kernelH + ky) * g.kernelW + kx]
                * input[((n * g.inChannels + ci) * g.height + iy) * g.width + ix]
        } } }
        output[((n * g.outChannels + co) * oh + oy) * ow + ox] = sum
    } } } }
}

/// Given gradOutput = ∂L/∂output [N, Cout, OH, OW], overwrites gradInput (if non-nil) with
/// ∂L/∂input [N, Cin, H, W] and gradWeight (if non-nil) with ∂L/∂weight [Cout, Cin, KH, KW].
/// Each output value y = Σ w·x sends dy·w to its input pixel and dy·x to its weight.
public func conv2dBackwardNaive(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                                gradWeight: UnsafeMutablePointer<Float>?) {
    g.validate("conv2dBackwardNaive")
    let (oh, ow) = (g.outHeight, g.outWidth)
    gradInput?.update(repeating: 0, count: g.batch * g.inChannels * g.height * g.width)
    gradWeight?.update(repeating: 0, count: g.outChannels * g.inChannels * g.kernelH * g.kernelW)
    for n in 0..<g.batch { for co in 0..<g.outChannels { for oy in 0..<oh { for ox in 0..<ow {
        let dy = gradOutput[((n * g.outChannels + co) * oh + oy) * ow + ox]
        for ci in 0..<g.inChannels { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
            let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
            if iy < 0 || iy >= g.height || ix < 0 || ix >= g.width { continue }  // zero padding
            let w = ((co * g.inChannels + ci) * g.kernelH + ky) * g.kernelW + kx
            let x = ((n * g.inChannels + ci) * g.height + iy) * g.width + ix
            gradInput?[x] += dy * weight[w]
            gradWeight?[w] += dy * input[x]
        } } }
    } } } }
}

// MARK: - Fast forward and backward

/// output [N, Cout, OH, OW] = conv(input [N, Cin, H, W], weight [Cout, Cin, KH, KW])
/// (cross-correlation, zero padding, no bias). Overwrites output. Same numbers as
/// `conv2dForwardNaive` up to rounding; bit-identical for any `Parallel.threadCount`.
public func conv2dForward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          output: UnsafeMutablePointer<Float>) {
    conv2dForward(g, input: input, weight: weight, output: output, direct: nil, columnBudget: defaultColumnBudget)
}

/// `conv2dForward` plus `bias[co]` on every value of output channel co (if `bias` is non-nil): each
/// value is the convolution's, rounded, then the bias added, as a separate addition would give.
public func conv2dForward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
    conv2dForward(g, input: input, weight: weight, output: output, direct: nil, columnBudget: defaultColumnBudget, bias: bias)
}

/// `conv2dForward` with a chosen method (tests force each): `direct` nil picks the direct
/// loops for the shapes they suit, else im2col + GEMM with groups of at most `columnBudget` floats,
/// the columns read in place by the GEMM (`implicitColumns`) or written out first.
func conv2dForward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                   output: UnsafeMutablePointer<Float>, direct: Bool?, columnBudget: Int, implicitColumns: Bool = true,
                   indirect: Bool = true, bias: UnsafePointer<Float>? = nil) {
    g.validate("conv2dForward")
    if g.batch == 0 || g.outChannels == 0 { return }
    // The bias where the product does not add it as it stores: one pass over the output afterwards.
    @inline(__always) func addBias() {
        guard let bias else { return }
        let plane = g.outHeight * g.outWidth
        parallelRows(g.batch * g.outChannels, size: plane) { row in
            let (b, o) = (bias[row % g.outChannels], output + row * plane)
            for i in 0..<plane { o[i] = o[i] + b }
        }
    }
    if direct ?? DirectConv.suits(g) {
        Profiler.kernel("direct conv") { DirectConv(g).forward(input: input, weight: weight, output: output) }
        addBias()
        return
    }
    let plan = ConvLowering(g, columnBudget: columnBudget, implicitColumns: implicitColumns)
    if indirect && IndirectConv.suits(plan) {
        // The product with its operands swapped, written straight into the output (IndirectConv.swift).
        IndirectConv.run(g, input: input, weight: weight, output: output, budget: columnBudget,
                         implicitColumns: implicitColumns, label: "products (indirect)") {
            IndirectConv(view: $0, outChannels: g.outChannels, bias: bias)
        }
        return
    }
    let scratch = ConvScratch(plan, columns: !plan.implicitColumns)
    defer { scratch.release() }
    for group in 0..<plan.groups {
        let images = plan.images(of: group)
        let width = images.count * plan.plane  // GEMM columns: this group's output pixels
        // Y[Cout, G·P] = W · cols: into this image's output when the group is one image, else
        // into the scratch, then [Cout, G, P] -> [G, Cout, P].
        let y = images.count == 1 ? output + images.lowerBound * g.outChannels * plan.plane : scratch.channelMajor
        if plan.implicitColumns {
            gemm(transA: false, transB: false, m: g.outChannels, n: width, k: plan.rows, a: weight, lda: plan.rows,
                 columns: plan.implicit(images, input: input, scratch: scratch), c: y, ldc: width, accumulate: false)
        } else {
            let cols = Profiler.kernel("im2col") { plan.columns(of: images, input: input, scratch: scratch) }
            gemm(transA: false, transB: false, m: g.outChannels, n: width, k: plan.rows,
                 a: weight, lda: plan.rows, b: cols, ldb: width, c: y, ldc: width, accumulate: false)
        }
        if images.count > 1 {
            Profiler.kernel("reshuffle") {
                plan.reshuffle(images, channels: g.outChannels, toBatchMajor: true, batchMajor: output, channelMajor: scratch.channelMajor)
            }
        }
    }
    addBias()
}

/// Given gradOutput [N, Cout, OH, OW]: gradInput (if non-nil) is OVERWRITTEN with
/// ∂L/∂input [N, Cin, H, W]; gradWeight (if non-nil) is OVERWRITTEN with ∂L/∂weight
/// [Cout, Cin, KH, KW]. Same numbers as `conv2dBackwardNaive` up to rounding;
/// bit-identical for any `Parallel.threadCount`.
public func conv2dBackward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                           gradWeight: UnsafeMutablePointer<Float>?) {
    conv2dBackward(g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
                   gradWeight: gradWeight, direct: nil, columnBudget: defaultColumnBudget, partBudget: defaultPartBudget)
}

/// `conv2dBackward` with a chosen method, as for `conv2dForward`.
func conv2dBackward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                    gradWeight: UnsafeMutablePointer<Float>?, direct: Bool?, columnBudget: Int, partBudget: Int,
                    implicitColumns: Bool = true, indirect: Bool = true) {
    g.validate("conv2dBackward")
    if gradInput == nil && gradWeight == nil { return }
    if g.batch == 0 || g.outChannels == 0 {
        // No output pixel touches anything: both gradients are zero.
        gradInput?.update(repeating: 0, count: g.batch * g.inChannels * g.height * g.width)
        gradWeight?.update(repeating: 0, count: g.outChannels * g.inChannels * g.kernelH * g.kernelW)
        return
    }
    if direct ?? DirectConv.suits(g) {
        let d = DirectConv(g)
        Profiler.kernel("direct conv") {
            if let gradInput { d.inputGradient(weight: weight, gradOutput: gradOutput, gradInput: gradInput) }
            if let gradWeight { d.weightGradient(input: input, gradOutput: gradOutput, gradWeight: gradWeight) }
        }
        return
    }
    if let gradInput, indirect && implicitColumns && IndirectInputGradient.suits(g) {
        // The input gradient as a convolution of dY (IndirectConv.swift), then the weight gradient alone.
        IndirectInputGradient.run(g, weight: weight, gradOutput: gradOutput, gradInput: gradInput, budget: columnBudget)
        conv2dBackward(g, input: input, weight: weight, gradOutput: gradOutput, gradInput: nil, gradWeight: gradWeight,
                       direct: direct, columnBudget: columnBudget, partBudget: partBudget, implicitColumns: implicitColumns,
                       indirect: indirect)
        return
    }
    var plan = ConvLowering(g, columnBudget: columnBudget, implicitColumns: implicitColumns)
    // Images per part of the input gradient; a group of at most that many is one part, whose
    // dcols go in the call's scratch.
    let perPart = max(1, partBudget / max(1, plan.rows * plan.plane))
    if perPart == 1 && plan.maxGroupSize % 2 == 1 && plan.maxGroupSize > 1 && plan.plane % gemmKBlock == 0 {
        // Groups of an even number of one-image parts: 3 parts share 2 threads as 2 + 1, 4 as 2 + 2.
        // When an image's pixels fill whole k blocks, the weight gradient sums the same blocks in the
        // same order however the images are grouped, so this changes no bits.
        plan = ConvLowering(g, imagesPerGroup: plan.maxGroupSize + 1, implicitColumns: implicitColumns)
    }
    let wholeGroups = plan.maxGroupSize <= perPart
    let indirectWeights = gradWeight != nil && indirect && IndirectConv.suits(plan)
        ? IndirectWeightGradient(k: plan.rows, outChannels: g.outChannels) : nil
    defer { if let gradWeight, let indirectWeights { indirectWeights.finish(into: gradWeight) } }
    let scratch = ConvScratch(plan, columns: (gradInput != nil && wholeGroups) || !plan.implicitColumns,
                              channelMajor: gradInput != nil || indirectWeights == nil)
    defer { scratch.release() }
    for group in 0..<plan.groups {
        let images = plan.images(of: group)
        let width = images.count * plan.plane
        // dY of this group as a [Cout, G·P] matrix (the indirect weight gradient reads it as it is,
        // [G, Cout, P]: then it is reshuffled only for the input gradient's dcols).
        let dY: UnsafePointer<Float>
        let groupGradient = gradOutput + images.lowerBound * g.outChannels * plan.plane
        if images.count == 1 || (indirectWeights != nil && gradInput == nil) {
            dY = groupGradient
        } else {
            Profiler.kernel("reshuffle") {
                plan.reshuffle(images, channels: g.outChannels, toBatchMajor: false,
                               batchMajor: UnsafeMutablePointer(mutating: gradOutput), channelMajor: scratch.channelMajor)
            }
            dY = UnsafePointer(scratch.channelMajor)
        }
        if let indirectWeights {
            // The same product with its operands swapped (IndirectConv.swift), groups summed in order.
            let view = plan.implicit(images, input: input, scratch: scratch)
            Profiler.kernel("products (indirect)") { indirectWeights.add(view, dY: groupGradient, first: group == 0) }
        } else if let gradWeight {
            // dW[Cout, K] (+)= dY[Cout, G·P] · colsᵀ, groups summed in order.
            if plan.implicitColumns {
                gemm(transA: false, transB: true, m: g.outChannels, n: plan.rows, k: width, a: dY, lda: width,
                     columns: plan.implicit(images, input: input, scratch: scratch), c: gradWeight, ldc: plan.rows, accumulate: group > 0)
            } else {
                let cols = Profiler.kernel("im2col") { plan.columns(of: images, input: input, scratch: scratch) }
                gemm(transA: false, transB: true, m: g.outChannels, n: plan.rows, k: width,
                     a: dY, lda: width, b: cols, ldb: width, c: gradWeight, ldc: plan.rows, accumulate: group > 0)
            }
        }
        if let gradInput {
            // dcols[K, G·P] = Wᵀ · dY, then col2im adds the columns back onto the pixels.
            let imageSize = g.inChannels * g.height * g.width
            if plan.directColumns {
                gemm(transA: true, transB: false, m: plan.rows, n: width, k: g.outChannels,
                     a: weight, lda: plan.rows, b: dY, ldb: width,
                     c: gradInput + images.lowerBound * imageSize, ldc: width, accumulate: false)
            } else {
                // In parts of at most `partBudget` floats of dcols (whole images), so that col2im
                // finds them still in cache; several parts run side by side, one per thread. The GEMM
                // sums each dcols entry the same way whatever columns surround it, and col2im adds a
                // pixel's taps in the same order, so the parts change the speed, not the bits.
                let parts = (images.count + perPart - 1) / perPart
                @inline(__always) func run(_ part: Range<Int>, columns: UnsafeMutablePointer<Float>) {
                    let partWidth = part.count * plan.plane
                    gemm(transA: true, transB: false, m: plan.rows, n: partWidth, k: g.outChannels,
                         a: weight, lda: plan.rows, b: dY + (part.lowerBound - images.lowerBound) * plan.plane, ldb: width,
                         c: columns, ldc: partWidth, accumulate: false)
                    Profiler.kernel("col2im") { plan.col2im(part, columns: columns, gradInput: gradInput) }
                }
                if wholeGroups {
                    run(images, columns: scratch.columns)
                } else {
                    Profiler.kernel("dcols + col2im, in parts", alone: true) { Parallel.forEach(parts) { index in
                        let first = images.lowerBound + index * perPart
                        let buffer = scratchPool.take(plan.rows * perPart * plan.plane)
                        Parallel.withThreads(1) { run(first..<min(images.upperBound, first + perPart), columns: buffer.pointer) }
                        scratchPool.give(buffer)
                    } }
                }
            }
        }
    }
}

// MARK: - Lowering

/// Floats of im2col columns per group of images (4 MB): the GEMMs stay wide (thousands of
/// columns) and a group's columns are still in cache when the GEMM reads them. Measured at
/// the bench shapes: 1-4 MB groups run 10-35 % faster than one 16-75 MB group. The indirect
/// forward counts its padded planes against the same budget (`ConvLowering(indirectForward:)`).
let defaultColumnBudget = 1 << 20

/// Floats of dcols per part of the input gradient (512 KB): a part's dcols are written by its
/// GEMM and read back by col2im while they are still in the core's L2 cache, instead of going
/// out to memory and back as a whole group's 4 MB would. Measured on the bench's convolutions
/// (AMD EPYC, Zen 5): the unet32 convolutions' time 148 -> 123 ms on 2 threads, 207 -> 196 ms on 1.
let defaultPartBudget = 1 << 17

/// How one convolution is lowered to GEMMs: the sizes K and P, and the groups of images.
struct ConvLowering {
    let g: Conv2dGeometry
    let outH: Int, outW: Int
    /// P = OH·OW output pixels per image; K = Cin·KH·KW rows of im2col columns.
    let plane: Int, rows: Int
    /// 1×1 kernel, stride 1, no padding: an image's columns are the image itself.
    let pointwise: Bool
    let groups: Int, maxGroupSize: Int
    /// Pointwise with one image per group: the GEMMs read and write the tensors directly.
    var directColumns: Bool { pointwise && maxGroupSize == 1 }

    /// Whether the GEMMs read the columns through `ImplicitColumns` rather than from a copy
    /// (the direct pointwise case needs neither).
    let implicitColumns: Bool

    /// Groups of as many images as have at most `columnBudget` floats of columns (at least one).
    init(_ g: Conv2dGeometry, columnBudget: Int, implicitColumns: Bool) {
        let columnsPerImage = g.inChannels * g.kernelH * g.kernelW * g.outHeight * g.outWidth
        self.init(g, imagesPerGroup: columnBudget / max(1, columnsPerImage), implicitColumns: implicitColumns)
    }

    /// The lowering of a forward convolution through `IndirectConv`, which builds no columns, only
    /// the images' zero-padded planes (about KH·KW times fewer floats): its groups have at most
    /// `budget` floats of padded planes, so fewer groups, each a loop with more tasks to share out.
    /// Measured on the bench's 3×3 convolutions with 32 or more output channels (Zen 4, 2 threads,
    /// best of 3 alternated runs): forward 113–160 GFLOP/s grouped by columns, 128–180 by padded
    /// planes. A forward's groups change no bits: each output is summed on its own.
    init(indirectForward g: Conv2dGeometry, budget: Int, implicitColumns: Bool) {
        let paddedPerImage = g.inChannels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding)
        self.init(g, imagesPerGroup: budget / max(1, paddedPerImage), implicitColumns: implicitColumns)
    }

    /// Groups of at most `imagesPerGroup` images (at least one).
    init(_ g: Conv2dGeometry, imagesPerGroup: Int, implicitColumns: Bool) {
        self.g = g
        outH = g.outHeight; outW = g.outWidth
        plane = outH * outW
        rows = g.inChannels * g.kernelH * g.kernelW
        pointwise = g.kernelH == 1 && g.kernelW == 1 && g.stride == 1 && g.padding == 0
        let fit = max(1, imagesPerGroup)
        groups = max(1, (g.batch + fit - 1) / fit)
        maxGroupSize = (g.batch + groups - 1) / groups
        self.implicitColumns = implicitColumns && !(pointwise && maxGroupSize == 1)
    }

    /// The columns of `images`, to be read in place from their zero-padded planes, which are
    /// written into `scratch.padded` (unless the padding is 0: then the images are read as they are).
    func implicit(_ images: Range<Int>, input: UnsafePointer<Float>, scratch: ConvScratch) -> ImplicitColumns {
        let first = input + images.lowerBound * g.inChannels * g.height * g.width
        if g.padding == 0 { return ImplicitColumns(g, paddedImages: first, count: images.count) }
        let paddedSize = (g.height + 2 * g.padding) * (g.width + 2 * g.padding)
        let padded = scratch.padded
        forEachTask(images.count * g.inChannels, floatsPerTask: paddedSize) { plane in
            writePaddedPlane(first + plane * g.height * g.width, into: padded + plane * paddedSize)
        }
        return ImplicitColumns(g, paddedImages: padded, count: images.count)
    }

    /// The images of `group`: the batch cut into `groups` nearly equal consecutive ranges.
    func images(of group: Int) -> Range<Int> {
        (group * g.batch / groups)..<((group + 1) * g.batch / groups)
    }

    /// The [K, G·P] columns of `images`: written into the scratch by im2col, or, for a
    /// pointwise convolution of one image per group, the image itself.
    func columns(of images: Range<Int>, input: UnsafePointer<Float>, scratch: ConvScratch) -> UnsafePointer<Float> {
        let imageSize = g.inChannels * g.height * g.width
        if directColumns { return input + images.lowerBound * imageSize }
        let scratch = scratch.columns
        let width = images.count * plane
        // One task per (image, input channel): KH·KW rows of that image's P columns.
        forEachTask(images.count * g.inChannels, floatsPerTask: g.kernelH * g.kernelW * plane) { task in
            let (i, ci) = task.quotientAndRemainder(dividingBy: g.inChannels)
            im2colChannel(ci, image: input + (images.lowerBound + i) * imageSize,
                          columns: scratch + i * plane, ld: width)
        }
        return UnsafePointer(scratch)
    }

    /// Runs `body` with the channel `plane` [H, W] surrounded by `padding` zeros on every side,
    /// [H + 2p, W + 2p] (the plane itself when p = 0), so that every tap is an ordinary read.
    @inline(__always)
    func withPaddedPlane(_ plane: UnsafePointer<Float>, _ body: (UnsafePointer<Float>) -> Void) {
        let (h, w, p) = (g.height, g.width, g.padding)
        if p == 0 { body(plane); return }
        let pw = w + 2 * p
        withUnsafeTemporaryAllocation(of: Float.self, capacity: (h + 2 * p) * pw) { buffer in
            writePaddedPlane(plane, into: buffer.baseAddress!)
            body(buffer.baseAddress!)
        }
    }

    /// Writes the plane [H, W] surrounded by `padding` zeros on every side into `padded`
    /// [H + 2p, W + 2p], touching each float once.
    @inline(__always)
    func writePaddedPlane(_ plane: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        let (h, w, p) = (g.height, g.width, g.padding)
        let pw = w + 2 * p
        padded.update(repeating: 0, count: p * pw + p)
        for y in 0..<h {
            copyRow(padded + (y + p) * pw + p, plane + y * w, w)
            // The right border of this row and the left of the next; after the last row, the bottom border.
            (padded + (y + p) * pw + p + w).update(repeating: 0, count: y + 1 < h ? 2 * p : p + p * pw)
        }
    }

    /// im2col for one channel `ci` of one image [Cin, H, W]: rows (ci, ky, kx) of `columns`
    /// (leading dimension `ld`), P values each: row (ky, kx) holds padded[oy·s + ky, ox·s + kx].
    func im2colChannel(_ ci: Int, image: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>, ld: Int) {
        let (h, w, s, ow) = (g.height, g.width, g.stride, outW)
        let channel = image + ci * h * w
        if pointwise {
            copyRow(columns + ci * ld, channel, plane)
            return
        }
        let pw = w + 2 * g.padding
        withPaddedPlane(channel) { padded in
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let row = columns + ((ci * g.kernelH + ky) * g.kernelW + kx) * ld
                    for oy in 0..<outH {
                        let src = padded + (oy * s + ky) * pw + kx, dst = row + oy * ow
                        if s == 1 {
                            copyRow(dst, src, ow)
                        } else {
                            for ox in 0..<ow { dst[ox] = src[ox * s] }
                        }
                    }
                }
            }
        }
    }

    /// gradInput of `images` = col2im(columns [K, G·P]): each pixel gets the sum of the
    /// column entries copied from it, added in (ky, kx, oy) order into a zero-padded plane
    /// whose interior is then the gradient. One task per (image, channel).
    func col2im(_ images: Range<Int>, columns: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let (h, w, s, p, ow) = (g.height, g.width, g.stride, g.padding, outW)
        let (ph, pw) = (h + 2 * p, w + 2 * p)
        let ld = images.count * plane
        forEachTask(images.count * g.inChannels, floatsPerTask: g.kernelH * g.kernelW * plane) { task in
            let (i, ci) = task.quotientAndRemainder(dividingBy: g.inChannels)
            let channel = gradInput + ((images.lowerBound + i) * g.inChannels + ci) * h * w
            let cols = columns + i * plane
            if pointwise {
                copyRow(channel, cols + ci * ld, plane)
                return
            }
            func accumulate(into padded: UnsafeMutablePointer<Float>) {
                padded.update(repeating: 0, count: ph * pw)
                for ky in 0..<g.kernelH {
                    for kx in 0..<g.kernelW {
                        let row = cols + ((ci * g.kernelH + ky) * g.kernelW + kx) * ld
                        for oy in 0..<outH {
                            let dst = padded + (oy * s + ky) * pw + kx, src = row + oy * ow
                            if s == 1 {
                                addRow(dst, src, ow)
                            } else {
                                for ox in 0..<ow { dst[ox * s] += src[ox] }
                            }
                        }
                    }
                }
            }
            if p == 0 {
                accumulate(into: channel)
            } else {
                withUnsafeTemporaryAllocation(of: Float.self, capacity: ph * pw) { buffer in
                    let padded = buffer.baseAddress!
                    accumulate(into: padded)
                    for y in 0..<h { copyRow(channel + y * w, padded + (y + p) * pw + p, w) }
                }
            }
        }
    }

    /// Copies between the tensor layout [N, C, P] (`batchMajor`, the images of this group)
    /// and the GEMM layout [C, G·P] (`channelMajor`), in the direction `toBatchMajor` says.
    func reshuffle(_ images: Range<Int>, channels: Int, toBatchMajor: Bool,
                   batchMajor: UnsafeMutablePointer<Float>, channelMajor: UnsafeMutablePointer<Float>) {
        let ld = images.count * plane
        forEachTask(images.count, floatsPerTask: channels * plane) { i in
            let image = batchMajor + (images.lowerBound + i) * channels * plane
            for c in 0..<channels {
                let a = image + c * plane, b = channelMajor + c * ld + i * plane
                if toBatchMajor { copyRow(a, b, plane) } else { copyRow(b, a, plane) }
            }
        }
    }
}

/// The im2col columns [K, G·P] of a group of G consecutive images, read without being written
/// out: `gemm` asks for a run of one row while it packs B, and gets the same values im2col would
/// have copied. The K-times-larger matrix never goes through memory; only the images (as
/// zero-padded planes, one copy the size of the input) and the small packed panels do.
struct ImplicitColumns {
    let g: Conv2dGeometry
    /// The group's images as padded planes [G, Cin, H + 2p, W + 2p] (the images themselves when p = 0).
    let images: UnsafePointer<Float>
    let paddedH: Int, paddedW: Int
    let outH: Int, outW: Int, plane: Int
    /// K = Cin·KH·KW rows, G·P columns.
    let rows: Int, width: Int

    init(_ g: Conv2dGeometry, paddedImages: UnsafePointer<Float>, count: Int) {
        self.g = g; images = paddedImages
        paddedH = g.height + 2 * g.padding; paddedW = g.width + 2 * g.padding
        outH = g.outHeight; outW = g.outWidth; plane = outH * outW
        rows = g.inChannels * g.kernelH * g.kernelW
        width = count * plane
    }

    /// The element [r, j] sits at images + rowOffset(r) + columnOffset(j): with row r = (ci, ky, kx)
    /// and column j = (image, oy, ox), at padded[image, ci][oy·s + ky, ox·s + kx]. The two parts are
    /// computed apart: a run of columns in one output row is a run of input (every s-th float).
    struct Run { var start: Int, length: Int, offset: Int }

    /// Where the receptive field of output pixel `pixel` (oy·OW + ox) of the group's image `image`
    /// starts: column j = image·P + pixel has its element of row r at images + pixelOffset + rowOffset(r).
    @inline(__always)
    func pixelOffset(image: Int, pixel: Int) -> Int {
        let (oy, ox) = pixel.quotientAndRemainder(dividingBy: outW)
        return image * g.inChannels * paddedH * paddedW + oy * g.stride * paddedW + ox * g.stride
    }

    /// Offsets of rows r0..<r0 + count (ci·planeSize + ky·(W + 2p) + kx) into `offsets`.
    func rowOffsets(from r0: Int, count: Int, into offsets: UnsafeMutablePointer<Int>) {
        let (ci0, tap) = r0.quotientAndRemainder(dividingBy: g.kernelH * g.kernelW)
        var (ci, (ky, kx)) = (ci0, tap.quotientAndRemainder(dividingBy: g.kernelW))
        for i in 0..<count {
            offsets[i] = (ci * paddedH + ky) * paddedW + kx
            kx += 1
            if kx == g.kernelW { kx = 0; ky += 1; if ky == g.kernelH { ky = 0; ci += 1 } }
        }
    }

    /// Cuts columns j0..<j0 + count into runs within one output row: run i covers positions
    /// start..<start + length of the range and begins at column offset `offset`. Returns the number
    /// of runs (at most count / OW + 2).
    func runs(from j0: Int, count: Int, into runs: UnsafeMutablePointer<Run>) -> Int {
        let (image, pixel) = j0.quotientAndRemainder(dividingBy: plane)
        var (oy, ox) = pixel.quotientAndRemainder(dividingBy: outW)
        var offset = image * g.inChannels * paddedH * paddedW + oy * g.stride * paddedW
        var n = 0, start = 0
        while start < count {
            let length = min(count - start, outW - ox)
            runs[n] = Run(start: start, length: length, offset: offset + ox * g.stride)
            n += 1; start += length
            ox = 0; oy += 1; offset += g.stride * paddedW
            if oy == outH { oy = 0; offset += g.inChannels * paddedH * paddedW - outH * g.stride * paddedW }
        }
        return n
    }

    /// dst[run.start + t] = columns[r, run's columns]: one row r (by its offset) over the runs.
    @inline(__always)
    func fill(rowOffset: Int, runs: UnsafePointer<Run>, count: Int, into dst: UnsafeMutablePointer<Float>) {
        let source = images + rowOffset, s = g.stride
        for i in 0..<count {
            let run = runs[i]
            if s == 1 {
                copyRow(dst + run.start, source + run.offset, run.length)
            } else {
                for t in 0..<run.length { dst[run.start + t] = source[run.offset + t * s] }
            }
        }
    }

    /// The runs of columns j0..<j0 + count and the offsets of rows r0..<r0 + rows, in scratch
    /// memory for the duration of `body`.
    @inline(__always)
    func withLayout<R>(columns j0: Int, count: Int, rows r0: Int, _ rowCount: Int,
                       _ body: (UnsafePointer<Run>, Int, UnsafePointer<Int>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Run.self, capacity: count / outW + 2) { runBuffer in
            let n = runs(from: j0, count: count, into: runBuffer.baseAddress!)
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, rowCount)) { offsetBuffer in
                rowOffsets(from: r0, count: rowCount, into: offsetBuffer.baseAddress!)
                return body(runBuffer.baseAddress!, n, offsetBuffer.baseAddress!)
            }
        }
    }
}

/// `Parallel.forEach` for copies worth spreading over threads; small ones (below 1 MB)
/// run inline, where waking a thread would cost more than the copy. Tasks write disjoint
/// memory, so the result is the same either way.
@inline(__always)
private func forEachTask(_ count: Int, floatsPerTask: Int, _ body: (Int) -> Void) {
    if count * floatsPerTask < 1 << 18 {
        for task in 0..<count { body(task) }
    } else {
        Parallel.forEach(count, body)
    }
}

// MARK: - Short rows
// The rows im2col copies are short (4 to 32 floats at the course's shapes), so they are
// copied in registers here rather than by a call to memcpy per row.

@inline(__always)
private func copyRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    var i = 0
    while i + 8 <= count { storeSIMD(loadSIMD(src + i, SIMD8<Float>.self), dst + i); i += 8 }
    if i + 4 <= count { storeSIMD(loadSIMD(src + i, SIMD4<Float>.self), dst + i); i += 4 }
    while i < count { dst[i] = src[i]; i += 1 }
}

/// dst[i] += src[i] for i in 0..<count.
@inline(__always)
private func addRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    var i = 0
    while i + 8 <= count {
        storeSIMD(loadSIMD(dst + i, SIMD8<Float>.self) + loadSIMD(src + i, SIMD8<Float>.self), dst + i); i += 8
    }
    if i + 4 <= count {
        storeSIMD(loadSIMD(dst + i, SIMD4<Float>.self) + loadSIMD(src + i, SIMD4<Float>.self), dst + i); i += 4
    }
    while i < count { dst[i] += src[i]; i += 1 }
}

@inline(__always)
private func loadSIMD<V: SIMD>(_ p: UnsafePointer<Float>, _: V.Type) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func storeSIMD<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

// MARK: - Direct convolution for few output channels

/// Loops without im2col for stride-1 convolutions with few output channels (the UNet's final
/// 32 -> 3 conv). There, the GEMM has only Cout rows of work per column that im2col writes, so
/// copying the columns costs more than the arithmetic; instead each output plane is
/// accumulated in place from a zero-padded input plane held in L1:
///
///     forward     out[n, co]  += Σ_{ky,kx} w[co, ci, ky, kx] · xpad[n, ci][oy + ky, ox + kx]   for ci in order
///     input grad  dx[n, ci]   += Σ_{ky,kx} w[co, ci, KH−1−ky, KW−1−kx] · dypad[n, co][iy + ky, ix + kx]   for co in order
///     weight grad dw[co, ci, ky, kx] = Σ_n Σ_{oy,ox} dy[n, co, oy, ox] · xpad[n, ci][oy + ky, ox + kx]
///
/// where dypad is dy with KH−1−p rows and KW−1−p columns of zeros on each side (the input
/// gradient is the "full" correlation of dy with the flipped kernel). Images are split over
/// threads for the first two, input channels for the third (images summed in order), so the
/// results do not depend on the thread count.
struct DirectConv {
    let g: Conv2dGeometry
    let outH: Int, outW: Int

    /// Stride 1, at most 4 output channels, and padding below the kernel size.
    static func suits(_ g: Conv2dGeometry) -> Bool {
        g.stride == 1 && g.outChannels <= 4 && g.padding < min(g.kernelH, g.kernelW)
    }

    init(_ g: Conv2dGeometry) {
        guard DirectConv.suits(g) else { fatalError("conv2d: the direct method does not support \(g)") }
        self.g = g
        outH = g.outHeight; outW = g.outWidth
    }

    /// Runs `body` with `plane` [rows, cols] copied into the middle of a zeroed
    /// [rows + 2·padY, cols + 2·padX] buffer.
    @inline(__always)
    func withPadded(_ plane: UnsafePointer<Float>, rows: Int, cols: Int, padY: Int, padX: Int,
                    _ body: (UnsafePointer<Float>) -> Void) {
        let pw = cols + 2 * padX
        withUnsafeTemporaryAllocation(of: Float.self, capacity: (rows + 2 * padY) * pw) { buffer in
            let padded = buffer.baseAddress!
            padded.update(repeating: 0, count: (rows + 2 * padY) * pw)
            for y in 0..<rows { copyRow(padded + (y + padY) * pw + padX, plane + y * cols, cols) }
            body(padded)
        }
    }

    func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let (cin, cout, h, w, p) = (g.inChannels, g.outChannels, g.height, g.width, g.padding)
        let taps = g.kernelH * g.kernelW, plane = outH * outW
        Parallel.forEach(g.batch) { n in
            let out = output + n * cout * plane
            out.update(repeating: 0, count: cout * plane)
            withFourPlanes(plane, taps: taps) { four in
                for ci in 0..<cin {
                    withPadded(input + (n * cin + ci) * h * w, rows: h, cols: w, padY: p, padX: p) { xpad in
                        // All output channels (at most 4) from one pass over the padded plane.
                        let planes: (Int) -> UnsafeMutablePointer<Float> = { co in out + co * plane }
                        let kernels: (Int) -> UnsafePointer<Float> = { co in weight + (co * cin + ci) * taps }
                        four.correlateAdd(count: cout, out: planes, taps: kernels,
                                          xpad, srcLd: w + 2 * p, rows: outH, cols: outW, kernelH: g.kernelH, kernelW: g.kernelW)
                    }
                }
            }
        }
    }

    func inputGradient(weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let (cin, cout, h, w) = (g.inChannels, g.outChannels, g.height, g.width)
        let (kh, kw) = (g.kernelH, g.kernelW), taps = kh * kw, plane = outH * outW
        let (padY, padX) = (kh - 1 - g.padding, kw - 1 - g.padding)
        // The kernel flipped in both directions, [Cout, Cin, KH, KW].
        withUnsafeTemporaryAllocation(of: Float.self, capacity: cout * cin * taps) { buffer in
            let flipped = buffer.baseAddress!
            for k in 0..<(cout * cin) {
                for t in 0..<taps { flipped[k * taps + t] = weight[k * taps + taps - 1 - t] }
            }
            Parallel.forEach(g.batch) { n in
                let dx = gradInput + n * cin * h * w
                dx.update(repeating: 0, count: cin * h * w)
                withFourPlanes(h * w, taps: taps) { four in
                    for co in 0..<cout {
                        withPadded(gradOutput + (n * cout + co) * plane, rows: outH, cols: outW, padY: padY, padX: padX) { dypad in
                            // Four input channels at a time from one pass over the padded gradient.
                            for c0 in stride(from: 0, to: cin, by: 4) {
                                let planes: (Int) -> UnsafeMutablePointer<Float> = { i in dx + (c0 + i) * h * w }
                                let kernels: (Int) -> UnsafePointer<Float> = { i in UnsafePointer(flipped) + (co * cin + c0 + i) * taps }
                                four.correlateAdd(count: min(4, cin - c0), out: planes, taps: kernels,
                                                  dypad, srcLd: outW + 2 * padX, rows: h, cols: w, kernelH: kh, kernelW: kw)
                            }
                        }
                    }
                }
            }
        }
    }

    func weightGradient(input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradWeight: UnsafeMutablePointer<Float>) {
        let (cin, cout, h, w, p) = (g.inChannels, g.outChannels, g.height, g.width, g.padding)
        let (kh, kw) = (g.kernelH, g.kernelW), plane = outH * outW
        Parallel.forEach(cin) { ci in
            for co in 0..<cout { (gradWeight + (co * cin + ci) * kh * kw).update(repeating: 0, count: kh * kw) }
            for n in 0..<g.batch {
                withPadded(input + (n * cin + ci) * h * w, rows: h, cols: w, padY: p, padX: p) { xpad in
                    for co in 0..<cout {
                        let dy = gradOutput + (n * cout + co) * plane, dw = gradWeight + (co * cin + ci) * kh * kw
                        if kh == 3 && kw == 3 {
                            // The nine taps' sums from one pass over dy.
                            shiftedDots3x3(dy, xpad, srcLd: w + 2 * p, rows: outH, cols: outW, into: dw)
                            continue
                        }
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                dw[ky * kw + kx] += shiftedDot(dy, xpad + ky * (w + 2 * p) + kx, srcLd: w + 2 * p,
                                                               rows: outH, cols: outW)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Runs `body` with a `FourPlanes` whose spare output is a scratch plane of `plane` floats.
@inline(__always)
private func withFourPlanes(_ plane: Int, taps: Int, _ body: (FourPlanes) -> Void) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: plane + taps) { buffer in
        let spare = buffer.baseAddress!
        (spare + plane).update(repeating: 0, count: taps)
        body(FourPlanes(spare: spare, zeroTaps: UnsafePointer(spare + plane)))
    }
}

/// out_i[y, x] += Σ_{ky,kx} taps_i[ky·KW + kx] · src[(y + ky)·srcLd + x + kx] for y < rows, x < cols,
/// for up to four output planes out_i ([rows, cols]) that share one source plane, in one pass:
/// each source vector is loaded once and multiplied into all four. Every out value is loaded
/// once and gets its taps in (ky, kx) order, 8 values at a time along a row and then the row's
/// tail one by one: the order each plane would get alone. Missing planes (count < 4) are
/// computed into a spare plane with zero taps and dropped.
private struct FourPlanes {
    let spare: UnsafeMutablePointer<Float>, zeroTaps: UnsafePointer<Float>

    @inline(__always)
    func correlateAdd(count: Int, out: (Int) -> UnsafeMutablePointer<Float>, taps: (Int) -> UnsafePointer<Float>,
                      _ src: UnsafePointer<Float>, srcLd: Int, rows: Int, cols: Int, kernelH: Int, kernelW: Int) {
        let o0 = out(0), o1 = count > 1 ? out(1) : spare, o2 = count > 2 ? out(2) : spare, o3 = count > 3 ? out(3) : spare
        let t0 = taps(0), t1 = count > 1 ? taps(1) : zeroTaps, t2 = count > 2 ? taps(2) : zeroTaps, t3 = count > 3 ? taps(3) : zeroTaps
        for y in 0..<rows {
            let (r0, r1, r2, r3) = (o0 + y * cols, o1 + y * cols, o2 + y * cols, o3 + y * cols), s = src + y * srcLd
            var x = 0
            while x + 8 <= cols {
                var v0 = loadSIMD(r0 + x, SIMD8<Float>.self), v1 = loadSIMD(r1 + x, SIMD8<Float>.self)
                var v2 = loadSIMD(r2 + x, SIMD8<Float>.self), v3 = loadSIMD(r3 + x, SIMD8<Float>.self)
                for ky in 0..<kernelH {
                    for kx in 0..<kernelW {
                        let k = ky * kernelW + kx, a = loadSIMD(s + ky * srcLd + kx + x, SIMD8<Float>.self)
                        v0.addProduct(SIMD8(repeating: t0[k]), a); v1.addProduct(SIMD8(repeating: t1[k]), a)
                        v2.addProduct(SIMD8(repeating: t2[k]), a); v3.addProduct(SIMD8(repeating: t3[k]), a)
                    }
                }
                storeSIMD(v0, r0 + x); storeSIMD(v1, r1 + x); storeSIMD(v2, r2 + x); storeSIMD(v3, r3 + x)
                x += 8
            }
            while x < cols {
                var (v0, v1, v2, v3) = (r0[x], r1[x], r2[x], r3[x])
                for ky in 0..<kernelH {
                    for kx in 0..<kernelW {
                        let k = ky * kernelW + kx, a = s[ky * srcLd + kx + x]
                        v0.addProduct(t0[k], a); v1.addProduct(t1[k], a); v2.addProduct(t2[k], a); v3.addProduct(t3[k], a)
                    }
                }
                (r0[x], r1[x], r2[x], r3[x]) = (v0, v1, v2, v3)
                x += 1
            }
        }
    }
}

/// dw[ky·3 + kx] += shiftedDot(a, b + ky·srcLd + kx, …) for the nine taps of a 3×3 kernel, in one
/// pass over `a`: each tap's sum takes exactly `shiftedDot`'s steps (the same bits).
@inline(__always)
private func shiftedDots3x3(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, srcLd: Int, rows: Int, cols: Int,
                            into dw: UnsafeMutablePointer<Float>) {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>(), s4 = SIMD8<Float>()
    var s5 = SIMD8<Float>(), s6 = SIMD8<Float>(), s7 = SIMD8<Float>(), s8 = SIMD8<Float>()
    var tails = SIMD16<Float>()
    for y in 0..<rows {
        let ra = a + y * cols, rb = b + y * srcLd
        var x = 0
        while x + 8 <= cols {
            let v = loadSIMD(ra + x, SIMD8<Float>.self)
            @inline(__always) func at(_ ky: Int, _ kx: Int) -> SIMD8<Float> { loadSIMD(rb + ky * srcLd + kx + x, SIMD8<Float>.self) }
            s0.addProduct(v, at(0, 0)); s1.addProduct(v, at(0, 1)); s2.addProduct(v, at(0, 2))
            s3.addProduct(v, at(1, 0)); s4.addProduct(v, at(1, 1)); s5.addProduct(v, at(1, 2))
            s6.addProduct(v, at(2, 0)); s7.addProduct(v, at(2, 1)); s8.addProduct(v, at(2, 2))
            x += 8
        }
        while x < cols {
            for k in 0..<9 { tails[k].addProduct(ra[x], rb[(k / 3) * srcLd + k % 3 + x]) }
            x += 1
        }
    }
    dw[0] += s0.sum() + tails[0]; dw[1] += s1.sum() + tails[1]; dw[2] += s2.sum() + tails[2]
    dw[3] += s3.sum() + tails[3]; dw[4] += s4.sum() + tails[4]; dw[5] += s5.sum() + tails[5]
    dw[6] += s6.sum() + tails[6]; dw[7] += s7.sum() + tails[7]; dw[8] += s8.sum() + tails[8]
}

/// Σ_{y,x} a[y·cols + x] · b[y·srcLd + x] over a [rows, cols] window, in a fixed order
/// (eight running sums across each row, then summed lane by lane, then the row tails).
@inline(__always)
private func shiftedDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, srcLd: Int, rows: Int, cols: Int) -> Float {
    var acc = SIMD8<Float>(), tail: Float = 0
    for y in 0..<rows {
        let ra = a + y * cols, rb = b + y * srcLd
        var x = 0
        while x + 8 <= cols {
            acc.addProduct(loadSIMD(ra + x, SIMD8<Float>.self), loadSIMD(rb + x, SIMD8<Float>.self))
            x += 8
        }
        while x < cols { tail.addProduct(ra[x], rb[x]); x += 1 }
    }
    return acc.sum() + tail
}

// MARK: - Scratch

/// The scratch of one call: a group's im2col columns or dcols [K, G·P], its images as zero-padded
/// planes (for `ImplicitColumns`), and its output or output gradient in GEMM layout [Cout, G·P].
/// Each, when the call needs it, comes from (and goes back to) a small pool.
struct ConvScratch {
    private let columnsBuffer: ScratchPool.Buffer?, channelMajorBuffer: ScratchPool.Buffer?, paddedBuffer: ScratchPool.Buffer?
    var columns: UnsafeMutablePointer<Float> { columnsBuffer!.pointer }
    /// A group's images as zero-padded planes, for `ImplicitColumns`.
    var padded: UnsafeMutablePointer<Float> { paddedBuffer!.pointer }
    var channelMajor: UnsafeMutablePointer<Float> { channelMajorBuffer!.pointer }

    /// `columns`: whether the call writes columns out (explicit im2col, or the input gradient's dcols).
    init(_ plan: ConvLowering, columns: Bool, channelMajor: Bool = true) {
        let width = plan.maxGroupSize * plan.plane
        columnsBuffer = columns && !plan.directColumns ? scratchPool.take(plan.rows * width) : nil
        channelMajorBuffer = channelMajor && plan.maxGroupSize > 1 ? scratchPool.take(plan.g.outChannels * width) : nil
        let g = plan.g
        paddedBuffer = plan.implicitColumns && g.padding > 0
            ? scratchPool.take(plan.maxGroupSize * g.inChannels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding)) : nil
    }

    func release() {
        columnsBuffer.map(scratchPool.give)
        channelMajorBuffer.map(scratchPool.give)
        paddedBuffer.map(scratchPool.give)
    }
}

/// A few freed scratch buffers kept for the next call, so repeated convolutions reuse warm
/// pages instead of faulting in fresh ones. Holds at most `keep` buffers: at the course's
/// shapes one group's dcols (up to 4 MB), its padded images and its reshuffled output, for a
/// forward and a backward call.
private final class ScratchPool: Sendable {
    struct Buffer: @unchecked Sendable { let pointer: UnsafeMutablePointer<Float>; let capacity: Int }
    private let free = Mutex<[Buffer]>([])
    private let keep = 6

    /// The smallest pooled buffer of at least `count` floats, or a new one (contents undefined).
    func take(_ count: Int) -> Buffer {
        let reused: Buffer? = free.withLock { buffers in
            guard let best = buffers.indices.filter({ buffers[$0].capacity >= count })
                .min(by: { buffers[$0].capacity < buffers[$1].capacity }) else { return nil }
            return buffers.remove(at: best)
        }
        if let reused { return reused }
        let capacity = max(1, count)
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: capacity)
        return Buffer(pointer: pointer, capacity: capacity)
    }

    /// Puts a buffer from `take` back; beyond `keep` buffers the smallest is freed.
    func give(_ buffer: Buffer) {
        let evicted: Buffer? = free.withLock { buffers in
            buffers.append(buffer)
            guard buffers.count > keep else { return nil }
            return buffers.remove(at: buffers.indices.min(by: { buffers[$0].capacity < buffers[$1].capacity })!)
        }
        evicted?.pointer.deallocate()
    }
}

private let scratchPool = ScratchPool()
