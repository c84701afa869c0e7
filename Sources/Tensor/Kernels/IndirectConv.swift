// The forward convolution and its weight gradient as "indirect" GEMMs: the products of `gemm`
// with the roles of their operands swapped, so that the im2col columns are never packed at all.
// (The weight gradient's version is `IndirectWeightGradient`, below; the same idea. And the input
// gradient of a stride-1 convolution, a forward convolution of dY, is `IndirectInputGradient`.)
//
// `gemm` computes Y[Cout, G·P] = W[Cout, K] · cols[K, G·P] by packing slivers of cols (the
// images' pixels, copied run by run out of the padded planes) and streaming them past the
// weights. With Cout = 32 or 64, each packed value takes part in only 32 or 64 multiply-adds,
// so the packing costs a large share of the product. Transposed, the same product is
//
//     Yᵀ[G·P, Cout] = colsᵀ[G·P, K] · Wᵀ[K, Cout]
//
// and now the weights are the packed operand (Wᵀ in panels of nr output channels, packed once
// per call and used by every pixel), while the pixels, the broadcast operand, are read straight
// from the padded planes: value (pixel j, row k) sits at  planes + at(j) + offset(k), with
// at(j) = where pixel j's receptive field starts and offset(k) = where tap k = (ci, ky, kx)
// sits inside it (`ImplicitColumns.rowOffsets`). The register tile is 6 pixels by nr channels;
// each k step broadcasts the 6 pixels' values and multiplies them into two vectors of weights.
// Finished tiles are written straight into the [G, Cout, P] output, so no reshuffle follows.
//
// The same bits as `gemm`: every output is summed in blocks of KC = 256 rows (k in order within
// a block, each block from zero and then added to the total), as `gemm`'s k blocks are, and a
// fused multiply-add is the same whichever of its two factors is the weight. With 512-bit vectors
// the total stays in registers from block to block (`indirectTileBlocks`); the tile in memory is
// written once.

/// The forward convolution of one group of images through the indirect product.
struct IndirectConv {
    let view: ImplicitColumns
    let outChannels: Int
    /// Rows summed from zero before their sum is added to the output's total: `gemm`'s KC, or for
    /// the input gradient one tap's Cout rows (`IndirectInputGradient`).
    var blockRows = gemmKBlock
    /// Where each row's value sits in a receptive field, in the order the rows are summed; nil for
    /// the view's own (ci, ky, kx) order.
    var rowOffsets: [Int]? = nil
    /// Added to each output channel's values as they are stored (after the sum, as a separate
    /// addition would add it), if not nil.
    var bias: UnsafePointer<Float>? = nil

    /// Output pixels per task: whole tiles, about 200 pixels (the split depends on the shape only).
    static let tilesPerTask = 32

    /// Where the indirect product beats `gemm` (measured on the bench's convolutions): a kernel
    /// larger than 1×1 (a 1×1 convolution's columns are the image itself, which `gemm` packs
    /// cheaply) and at least 64 rows K = Cin·KH·KW (with fewer, as in the 3-channel first
    /// convolution's K = 27, a tile does too few multiply-adds to pay for its stores).
    static func suits(_ plan: ConvLowering) -> Bool {
        plan.implicitColumns && !plan.pointwise && plan.rows >= 64
    }

    /// The forward convolution g of `input` into `output` [N, Cout, OH, OW], in groups of images
    /// whose padded planes fit `budget` floats (no columns are built), each group's product set up
    /// by `product` from the view of its padded planes and timed under `label`.
    static func run(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                    output: UnsafeMutablePointer<Float>, budget: Int, implicitColumns: Bool, label: String,
                    _ product: (ImplicitColumns) -> IndirectConv) {
        let plan = ConvLowering(indirectForward: g, budget: budget, implicitColumns: implicitColumns)
        let scratch = ConvScratch(plan, columns: false, channelMajor: false)
        defer { scratch.release() }
        for group in 0..<plan.groups {
            let images = plan.images(of: group)
            let view = plan.implicit(images, input: input, scratch: scratch)
            Profiler.kernel(label) {
                product(view).forward(weight: weight, output: output + images.lowerBound * g.outChannels * plan.plane)
            }
        }
    }

    /// out [G, Cout, P] = conv of the group's images, whose padded planes `view` reads.
    func forward(weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        #if AVX512
        if GemmPath.current.usesWideTiles(n: 32) { return forward(weight: weight, output: output, SIMD16<Float>.self) }
        #endif
        forward(weight: weight, output: output, SIMD8<Float>.self)
    }

    private func forward<V: SIMD>(weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, _: V.Type)
        where V.Scalar == Float {
        let nr = 2 * V.scalarCount, k = view.rows, width = view.width
        let slivers = (outChannels + nr - 1) / nr
        let kb = blockRows, blocks = (k + kb - 1) / kb
        // Wᵀ packed: block b, sliver s holds kc rows of nr channels at b·kb·slivers·nr + s·kc·nr
        // (channels past Cout are zero).
        let panels = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k * slivers * nr))
        defer { panels.deallocate() }
        for b in 0..<blocks {
            let k0 = b * kb, kc = min(kb, k - k0)
            for s in 0..<slivers {
                packPanel(weight, ld: k, channels: outChannels, sliver: s, nr: nr, k0: k0, kc: kc,
                          into: panels + b * kb * slivers * nr + s * kc * nr)
            }
        }
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: max(1, k))
        defer { offsets.deallocate() }
        if let rowOffsets {
            offsets.update(from: rowOffsets, count: k)
        } else {
            view.rowOffsets(from: 0, count: k, into: offsets)
        }
        let tiles = (width + 5) / 6, span = IndirectConv.tilesPerTask * 6
        let tasks = (tiles + IndirectConv.tilesPerTask - 1) / IndirectConv.tilesPerTask
        let (plane, cout) = (view.plane, outChannels)
        // Where a finished tile goes. Pixel by pixel, a pixel's channels lie P floats apart; from
        // P = 1,024 (4 KB) on they all fall in the same cache set and the stores collide, so there
        // the tiles are first gathered channel by channel into `staged` [nr, span] and copied out
        // in runs of pixels.
        let staging = plane >= 1024
        Parallel.forEach(tasks) { task in
            let j0 = task * span, j1 = min(width, j0 + span)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * nr + (staging ? nr * span : 0)) { buffer in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 12) { indexBuffer in
                let tile = buffer.baseAddress!, staged = tile + 6 * nr
                let at = indexBuffer.baseAddress!, out = at + 6
                for s in 0..<slivers {
                    var cursor = PixelCursor(view, j0)
                    for t in stride(from: j0, to: j1, by: 6) {
                        let valid = min(6, j1 - t)
                        for i in 0..<6 {
                            // Past the last pixel, repeat it (computed, not stored).
                            at[i] = cursor.offset; out[i] = cursor.image * cout * plane + cursor.pixel
                            if i < valid - 1 { cursor.advance() }
                        }
                        if valid == 6 && t + 6 < j1 { cursor.advance() }
                        if V.scalarCount == 16 {
                            indirectTileBlocks(k, kb, view.images, at, offsets, panels, sliver: s, slivers: slivers, tile, V.self)
                        } else {
                            for b in 0..<blocks {
                                let k0 = b * kb, kc = min(kb, k - k0)
                                indirectTile(kc, view.images, at, offsets + k0,
                                             panels + b * kb * slivers * nr + s * kc * nr, tile, b > 0, V.self)
                            }
                        }
                        let channels = min(nr, cout - s * nr)
                        if staging {
                            // Transposed 6 pixels at a time, column by column (unchecked index arithmetic:
                            // with overflow checks this loop cost more than a tenth of the product).
                            let column = staged + (t - j0)
                            for v in 0..<nr {
                                let to = column + v &* span, from = tile + v
                                for i in 0..<valid { to[i] = from[i &* nr] }
                            }
                        } else {
                            for i in 0..<valid {
                                let o = output + out[i] + s * nr * plane, row = tile + i * nr
                                if let bias {
                                    let b = bias + s * nr
                                    for v in 0..<channels { o[v &* plane] = row[v] + b[v] }
                                } else {
                                    for v in 0..<channels { o[v &* plane] = row[v] }
                                }
                            }
                        }
                    }
                    if !staging { continue }
                    // Runs of pixels within one image, channel by channel.
                    forEachImageRun(j0..<j1, plane: plane) { j, image, pixel, run in
                        for v in 0..<min(nr, cout - s * nr) {
                            let (to, from) = (output + (image * cout + s * nr + v) * plane + pixel, staged + v * span + j - j0)
                            if let bias {
                                let b = bias[s * nr + v]
                                for t in 0..<run { to[t] = from[t] + b }
                            } else {
                                to.update(from: from, count: run)
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// The weight gradient through the same indirect product. `gemm` computes dW[Cout, K] =
/// dY[Cout, G·P] · colsᵀ; transposed,
///
///     dWᵀ[K, Cout] = cols[K, G·P] · dYᵀ[G·P, Cout]
///
/// with dYᵀ packed as the panels (nr channels by a block of pixels) and the tile's 6 rows of cols
/// read in place: row r's value at pixel j sits at planes + rowOffset(r) + pixelOffset(j). The
/// sum runs over the pixels of each group of images in blocks of KC, adding each block's sum to
/// the total in order, group after group, as `gemm` with `accumulate: group > 0` does: the same bits.
/// The total is kept as dWᵀ [K rounded up to 6, nr·slivers] and transposed into dW at the end.
struct IndirectWeightGradient {
    let k: Int, outChannels: Int, nr: Int, slivers: Int, rowsPadded: Int
    /// dWᵀ so far, [rowsPadded, slivers·nr].
    let total: UnsafeMutablePointer<Float>

    /// Row tiles per task (the split depends on the shape only).
    static let tilesPerTask = 4

    init(k: Int, outChannels: Int) {
        self.k = k; self.outChannels = outChannels
        nr = IndirectWeightGradient.wide ? 32 : 16
        slivers = (outChannels + nr - 1) / nr
        rowsPadded = (k + 5) / 6 * 6
        total = .allocate(capacity: rowsPadded * slivers * nr)
    }

    /// Whether the 16-float path runs (decided per call, like `gemm`'s).
    private static var wide: Bool {
        #if AVX512
        return GemmPath.current.usesWideTiles(n: 32)
        #else
        return false
        #endif
    }

    /// Adds the group's Σ_j dY[co, j]·cols[r, j] to the total, or starts the total with it for the
    /// `first` group. dY is the group's output gradient as it lies in the tensor, [G, Cout, P]
    /// (no reshuffle to [Cout, G·P] first: the panels are packed from it run by run).
    func add(_ view: ImplicitColumns, dY: UnsafePointer<Float>, first: Bool) {
        #if AVX512
        if nr == 32 { return add(view, dY: dY, first: first, SIMD16<Float>.self) }
        #endif
        add(view, dY: dY, first: first, SIMD8<Float>.self)
    }

    private func add<V: SIMD>(_ view: ImplicitColumns, dY: UnsafePointer<Float>, first: Bool, _: V.Type)
        where V.Scalar == Float {
        let width = view.width, blocks = (width + gemmKBlock - 1) / gemmKBlock
        let (nr, slivers, cout, k, plane) = (self.nr, self.slivers, outChannels, self.k, view.plane)
        // dYᵀ packed: block b, sliver s holds kc pixels of nr channels at b·KC·slivers·nr + s·kc·nr.
        let panels = UnsafeMutablePointer<Float>.allocate(capacity: max(1, width * slivers * nr))
        defer { panels.deallocate() }
        let pixelOffsets = UnsafeMutablePointer<Int>.allocate(capacity: max(1, width))
        defer { pixelOffsets.deallocate() }
        let rowOffsets = UnsafeMutablePointer<Int>.allocate(capacity: rowsPadded)
        defer { rowOffsets.deallocate() }
        view.rowOffsets(from: 0, count: k, into: rowOffsets)
        for r in k..<rowsPadded { rowOffsets[r] = rowOffsets[k - 1] }  // padding rows: computed, never read
        Parallel.forEach(blocks) { b in
            let j0 = b * gemmKBlock, kc = min(gemmKBlock, width - j0)
            for s in 0..<slivers {
                // The block's pixels in runs within one image, each image's dY a [Cout, P] matrix.
                let panel = panels + b * gemmKBlock * slivers * nr + s * kc * nr
                forEachImageRun(j0..<(j0 + kc), plane: plane) { j, image, pixel, run in
                    packPanel(dY + image * cout * plane, ld: plane, channels: cout, sliver: s, nr: nr,
                              k0: pixel, kc: run, into: panel + (j - j0) * nr)
                }
            }
            var cursor = PixelCursor(view, j0)
            for j in 0..<kc {
                pixelOffsets[j0 + j] = cursor.offset
                if j + 1 < kc { cursor.advance() }
            }
        }
        let ld = slivers * nr, total = self.total
        let tiles = rowsPadded / 6
        let tasks = (tiles + IndirectWeightGradient.tilesPerTask - 1) / IndirectWeightGradient.tilesPerTask
        Parallel.forEach(tasks) { task in
            for t in (task * IndirectWeightGradient.tilesPerTask)..<min(tiles, (task + 1) * IndirectWeightGradient.tilesPerTask) {
                for s in 0..<slivers {
                    for b in 0..<blocks {
                        let j0 = b * gemmKBlock, kc = min(gemmKBlock, width - j0)
                        indirectTile(kc, view.images, rowOffsets + t * 6, pixelOffsets + j0,
                                     panels + b * gemmKBlock * slivers * nr + s * kc * nr,
                                     total + t * 6 * ld + s * nr, !(first && b == 0), V.self, ldTile: ld)
                    }
                }
            }
        }
    }

    /// dW[co, r] = the total's [r, co]; frees the total.
    func finish(into gradWeight: UnsafeMutablePointer<Float>) {
        let ld = slivers * nr
        for co in 0..<outChannels {
            for r in 0..<k { gradWeight[co * k + r] = total[r * ld + co] }
        }
        total.deallocate()
    }
}

/// The input gradient of a stride-1 convolution as a forward convolution of the output gradient
/// through `IndirectConv`: no dcols written, no col2im. Each input pixel gathers from the output
/// pixels whose receptive fields hold it,
///
///     dX[n, ci, y, x] = Σ_{ky, kx} Σ_co W[co, ci, ky, kx] · dY[n, co, y + p − ky, x + p − kx]
///
/// and with dY padded by q = K − 1 − p zeros on every side, dY[y + p − ky] is padded row
/// y + (K − 1 − ky): a convolution of dY (Cout channels in, padding q) with Cin channels out and the
/// kernel turned half a turn, the "transposed convolution" (Dumoulin & Visin, "A guide to
/// convolution arithmetic for deep learning", 2016, section 4.1). Its rows are taken tap by tap,
/// r = (ky, kx, co), with the weights rearranged to match: W'[ci, r] = W[co, ci, ky, kx].
///
/// The same bits as dcols + col2im. There, dcols[(ci, ky, kx), pixel] is one GEMM entry, Σ_co summed
/// from zero in co order (one k block: Cout ≤ KC), and col2im adds a pixel's taps in (ky, kx) order
/// onto zero. Here each tap's Cout rows are one block, summed from zero in co order and added to the
/// total in (ky, kx) order: the same float operations. A tap that falls outside dY reads padding and
/// sums to +0, which leaves the total as it is, as col2im leaves it by skipping the tap.
enum IndirectInputGradient {
    /// Stride 1, a square kernel larger than 1×1 with padding below its size, Cout ≤ KC (one block a
    /// tap), at least 64 rows Cout·KH·KW (as for the forward) and 8 input channels (with fewer, the
    /// output tiles of nr channels would be mostly empty).
    static func suits(_ g: Conv2dGeometry) -> Bool {
        g.stride == 1 && g.kernelH == g.kernelW && g.kernelH > 1 && g.padding < g.kernelH
            && g.outChannels <= gemmKBlock && g.outChannels * g.kernelH * g.kernelW >= 64 && g.inChannels >= 8
    }

    /// The convolution that computes dX from dY.
    static func transposed(_ g: Conv2dGeometry) -> Conv2dGeometry {
        Conv2dGeometry(batch: g.batch, inChannels: g.outChannels, height: g.outHeight, width: g.outWidth,
                       outChannels: g.inChannels, kernelH: g.kernelH, kernelW: g.kernelW, stride: 1,
                       padding: g.kernelH - 1 - g.padding)
    }

    /// Overwrites gradInput [N, Cin, H, W] with ∂L/∂input, given gradOutput [N, Cout, OH, OW], in
    /// groups of images whose padded dY planes fit `budget` floats.
    static func run(_ g: Conv2dGeometry, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                    gradInput: UnsafeMutablePointer<Float>, budget: Int) {
        let t = transposed(g), taps = g.kernelH * g.kernelW, (cin, cout) = (g.inChannels, g.outChannels)
        let rows = taps * cout
        // W'[ci, tap·Cout + co] = W[co, ci, tap].
        var turned = [Float](repeating: 0, count: cin * rows)
        for ci in 0..<cin {
            for tap in 0..<taps {
                for co in 0..<cout { turned[ci * rows + tap * cout + co] = weight[(co * cin + ci) * taps + tap] }
            }
        }
        // Row (ky, kx, co) reads padded dY channel co at (K − 1 − ky, K − 1 − kx) of the field.
        let (paddedH, paddedW) = (t.height + 2 * t.padding, t.width + 2 * t.padding)
        var offsets = [Int](repeating: 0, count: rows)
        for tap in 0..<taps {
            let (ky, kx) = tap.quotientAndRemainder(dividingBy: g.kernelW)
            for co in 0..<cout {
                offsets[tap * cout + co] = (co * paddedH + g.kernelH - 1 - ky) * paddedW + g.kernelW - 1 - kx
            }
        }
        turned.withUnsafeBufferPointer { w in
            IndirectConv.run(t, input: gradOutput, weight: w.baseAddress!, output: gradInput, budget: budget,
                             implicitColumns: true, label: "input gradient (indirect)") {
                IndirectConv(view: $0, outChannels: cin, blockRows: cout, rowOffsets: offsets)
            }
        }
    }
}

/// One panel of the packed operand: panel[r·nr + v] = m[(s·nr + v)·ld + k0 + r] for r < kc, the
/// transpose of nr rows (channels) of a row-major matrix m, zero for channels past `channels`.
@inline(__always)
private func packPanel(_ m: UnsafePointer<Float>, ld: Int, channels: Int, sliver s: Int, nr: Int, k0: Int, kc: Int,
                       into panel: UnsafeMutablePointer<Float>) {
    for v in 0..<nr {
        let channel = s * nr + v
        if channel < channels {
            let row = m + channel * ld + k0
            for r in 0..<kc { panel[r * nr + v] = row[r] }
        } else {
            for r in 0..<kc { panel[r * nr + v] = 0 }
        }
    }
}

/// Cuts a group's pixels `pixels` (P = `plane` per image) into runs within one image:
/// `body(j, image, pixel, run)` for the run of `run` pixels from group pixel j = image·P + pixel.
@inline(__always)
private func forEachImageRun(_ pixels: Range<Int>, plane: Int, _ body: (Int, Int, Int, Int) -> Void) {
    var j = pixels.lowerBound
    while j < pixels.upperBound {
        let (image, pixel) = j.quotientAndRemainder(dividingBy: plane)
        let run = min(pixels.upperBound - j, plane - pixel)
        body(j, image, pixel, run)
        j += run
    }
}

/// Output pixels in order, with where each one's receptive field starts in the padded planes,
/// stepped without divisions (a tile of a 3-channel convolution does little else).
private struct PixelCursor {
    let view: ImplicitColumns
    private(set) var image: Int, pixel: Int, oy: Int, ox: Int, offset: Int

    init(_ view: ImplicitColumns, _ j: Int) {
        self.view = view
        (image, pixel) = j.quotientAndRemainder(dividingBy: view.plane)
        (oy, ox) = pixel.quotientAndRemainder(dividingBy: view.outW)
        offset = view.pixelOffset(image: image, pixel: pixel)
    }

    @inline(__always)
    mutating func advance() {
        pixel += 1; ox += 1
        if ox < view.outW { offset += view.g.stride; return }
        ox = 0; oy += 1
        if oy == view.outH { oy = 0; pixel = 0; image += 1 }
        offset = view.pixelOffset(image: image, pixel: pixel)
    }
}

/// The 12 vector sums of a tile: 6 rows (pixels forward, rows of the weight gradient) by nr = 2V
/// channels, row i in c(i)0 and c(i)1.
private struct TileSums<V: SIMD> where V.Scalar == Float {
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()

    /// Σ_k planes[at[i] + offsets[k]] · panel[k, 0..<nr] for the 6 rows i, over kc rows k summed in
    /// order from zero.
    @inline(__always)
    init(_ kc: Int, _ planes: UnsafePointer<Float>, _ at: UnsafePointer<Int>, _ offsets: UnsafePointer<Int>,
         _ panel: UnsafePointer<Float>) {
        let w = V.scalarCount
        let p0 = planes + at[0], p1 = planes + at[1], p2 = planes + at[2]
        let p3 = planes + at[3], p4 = planes + at[4], p5 = planes + at[5]
        var pb = panel
        for r in 0..<kc {
            let o = offsets[r]
            let b0 = UnsafeRawPointer(pb).loadUnaligned(as: V.self), b1 = UnsafeRawPointer(pb + w).loadUnaligned(as: V.self)
            var a = V(repeating: p0[o])
            c00 = c00.addingProduct(a, b0); c01 = c01.addingProduct(a, b1)
            a = V(repeating: p1[o])
            c10 = c10.addingProduct(a, b0); c11 = c11.addingProduct(a, b1)
            a = V(repeating: p2[o])
            c20 = c20.addingProduct(a, b0); c21 = c21.addingProduct(a, b1)
            a = V(repeating: p3[o])
            c30 = c30.addingProduct(a, b0); c31 = c31.addingProduct(a, b1)
            a = V(repeating: p4[o])
            c40 = c40.addingProduct(a, b0); c41 = c41.addingProduct(a, b1)
            a = V(repeating: p5[o])
            c50 = c50.addingProduct(a, b0); c51 = c51.addingProduct(a, b1)
            pb += 2 * w
        }
    }

    init() {}

    @inline(__always)
    static func += (t: inout TileSums, c: TileSums) {
        t.c00 += c.c00; t.c01 += c.c01; t.c10 += c.c10; t.c11 += c.c11; t.c20 += c.c20; t.c21 += c.c21
        t.c30 += c.c30; t.c31 += c.c31; t.c40 += c.c40; t.c41 += c.c41; t.c50 += c.c50; t.c51 += c.c51
    }

    /// Stores the sums into the tile's rows, `ld` floats apart, or adds them to what is there.
    @inline(__always)
    func store(_ tile: UnsafeMutablePointer<Float>, ld: Int, adding: Bool) {
        let w = V.scalarCount
        @inline(__always) func put(_ v0: V, _ v1: V, _ row: UnsafeMutablePointer<Float>) {
            let r = UnsafeMutableRawPointer(row)
            if adding {
                r.storeBytes(of: r.loadUnaligned(as: V.self) + v0, as: V.self)
                r.storeBytes(of: r.loadUnaligned(fromByteOffset: 4 * w, as: V.self) + v1, toByteOffset: 4 * w, as: V.self)
            } else {
                r.storeBytes(of: v0, as: V.self); r.storeBytes(of: v1, toByteOffset: 4 * w, as: V.self)
            }
        }
        put(c00, c01, tile); put(c10, c11, tile + ld); put(c20, c21, tile + 2 * ld)
        put(c30, c31, tile + 3 * ld); put(c40, c41, tile + 4 * ld); put(c50, c51, tile + 5 * ld)
    }
}

/// `indirectTile` block after block of `kb` rows for a tile that starts from zero, with the total
/// kept in registers instead of the tile: each block is summed from zero in 12 accumulators and then
/// added to 12 totals, which are stored once at the end. The same float operations as calling
/// `indirectTile` block by block, without a load and store of the tile per block (9 of them for
/// the input gradient's taps). 24 vectors live at once: for AVX-512's 32 registers only.
@inline(__always)
private func indirectTileBlocks<V: SIMD>(_ k: Int, _ kb: Int, _ planes: UnsafePointer<Float>, _ at: UnsafePointer<Int>,
                                         _ offsets: UnsafePointer<Int>, _ panels: UnsafePointer<Float>, sliver s: Int,
                                         slivers: Int, _ tile: UnsafeMutablePointer<Float>, _: V.Type) where V.Scalar == Float {
    let nr = 2 * V.scalarCount
    var total = TileSums<V>()
    var k0 = 0
    while k0 < k {
        let kc = min(kb, k - k0)
        let block = TileSums<V>(kc, planes, at, offsets + k0, panels + k0 * slivers * nr + s * kc * nr)
        if k0 == 0 { total = block } else { total += block }
        k0 += kc
    }
    total.store(tile, ld: nr, adding: false)
}

/// tile[i, 0..<nr] (+)= Σ_k planes[at[i] + offsets[k]] · panel[k, 0..<nr] for the tile's 6 rows i
/// (6 pixels forward, 6 rows of the weight gradient), summed in k order from zero in 12 vector
/// accumulators (nr = 2V); `addToTile` adds the sum to the tile, whose rows are `ldTile` apart.
@inline(__always)
private func indirectTile<V: SIMD>(_ kc: Int, _ planes: UnsafePointer<Float>, _ at: UnsafePointer<Int>,
                                   _ offsets: UnsafePointer<Int>, _ panel: UnsafePointer<Float>,
                                   _ tile: UnsafeMutablePointer<Float>, _ addToTile: Bool, _: V.Type,
                                   ldTile: Int = 2 * V.scalarCount) where V.Scalar == Float {
    TileSums<V>(kc, planes, at, offsets, panel).store(tile, ld: ldTile, adding: addToTile)
}
