// Matrix multiply, 2-D convolution and the 2× resampling ops of the UNet.
// The arithmetic runs on the kernels in `Kernels/` (gemm, conv2dForward/Backward);
// here are the shapes, the checks, and the backward rules.

extension Tensor {
    /// Matrix product over the last two axes: `[..., M, K] · [K, N] -> [..., M, N]`, or
    /// batched `[B..., M, K] · [B..., K, N] -> [B..., M, N]` with equal batch axes.
    /// With `transposeOther` the right operand is given as its transpose, `[N, K]` (or
    /// `[B..., N, K]`): `x.matmul(w, transposeOther: true)` is x·wᵀ without copying w, as a
    /// Linear layer's `[out, in]` weight and attention's Q·Kᵀ need.
    ///
    /// With C = A·B and upstream gradient G = ∂L/∂C:
    /// ```
    /// ∂L/∂A = G · Bᵀ        ∂L/∂B = Aᵀ · G   (summed over the batch when B is shared)
    /// ```
    /// and for C = A·Bᵀ: ∂L/∂A = G·B, ∂L/∂B = Gᵀ·A.
    public func matmul(_ other: Tensor, transposeOther: Bool = false) -> Tensor {
        let a = self, b = other, tb = transposeOther
        guard a.rank >= 2, b.rank >= 2 else { shapeError("matmul: needs rank ≥ 2, got shapes \(a.shape) and \(b.shape)") }
        let k = a.shape[a.rank - 1]
        let bk = b.shape[b.rank - (tb ? 1 : 2)]
        guard bk == k else {
            shapeError("matmul: inner sizes differ: \(a.shape) · \(b.shape)\(tb ? "ᵀ" : "") (\(k) vs \(bk))")
        }
        let n = b.shape[b.rank - (tb ? 2 : 1)]
        if b.rank == 2 {
            // A shared right-hand matrix: fold A's batch axes into its rows.
            let out = Tensor.mm(a, b, transA: false, transB: tb)
            return Tensor.record(out, op: "matmul", inputs: [a, b]) { g in
                let ga = a.requiresGrad ? Tensor.mm(g, b, transA: false, transB: !tb) : nil
                var gb: Tensor? = nil
                if b.requiresGrad {
                    let a2 = a.reshaped([-1, k]), g2 = g.reshaped([-1, n])
                    gb = tb ? Tensor.mm(g2, a2, transA: true, transB: false) : Tensor.mm(a2, g2, transA: true, transB: false)
                }
                return [ga, gb]
            }
        }
        guard a.shape.dropLast(2) == b.shape.dropLast(2) else {
            shapeError("matmul: batch axes differ: \(a.shape) · \(b.shape)")
        }
        let out = Tensor.mm(a, b, transA: false, transB: tb)
        return Tensor.record(out, op: "matmul", inputs: [a, b]) { g in
            [a.requiresGrad ? Tensor.mm(g, b, transA: false, transB: !tb) : nil,
             b.requiresGrad ? (tb ? Tensor.mm(g, a, transA: true, transB: false) : Tensor.mm(a, g, transA: true, transB: false)) : nil]
        }
    }

    /// op(a)·op(b) with no recording, where op transposes the last two axes when asked.
    /// a is `[B..., rows, cols]`; b is either 2-D (shared) or has a's batch axes.
    static func mm(_ a: Tensor, _ b: Tensor, transA: Bool, transB: Bool) -> Tensor {
        let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
        let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
        let m = transA ? ac : ar, k = transA ? ar : ac
        let n = transB ? br : bc
        let batchShape = Array(a.shape.dropLast(2))
        let batch = batchShape.reduce(1, *)
        let out = a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                makeArray(batch * m * n) { c in  // every element written by the product
                    let pc = UnsafeMutableBufferPointer(start: c, count: batch * m * n)
                    if b.rank == 2 && !transA {
                        // [batch·m, k] · [k, n] as one matrix product
                        gemm(transA: false, transB: transB, m: batch * m, n: n, k: k,
                             a: pa.baseAddress!, lda: ac, b: pb.baseAddress!, ldb: bc,
                             c: pc.baseAddress!, ldc: n, accumulate: false)
                    } else {
                        gemmBatched(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k,
                                    a: pa.baseAddress!, lda: ac, strideA: ar * ac,
                                    b: pb.baseAddress!, ldb: bc, strideB: b.rank == 2 ? 0 : br * bc,
                                    c: pc.baseAddress!, ldc: n, strideC: m * n, accumulate: false)
                    }
                }
            }
        }
        return Tensor(unchecked: out, shape: batchShape + [m, n])
    }

    /// 2-D convolution (cross-correlation, as in every deep-learning library) of an
    /// `[N, Cin, H, W]` input with a `[Cout, Cin, KH, KW]` weight, zero padding on all sides.
    /// Output `[N, Cout, (H + 2p − KH)/s + 1, (W + 2p − KW)/s + 1]`, plus `bias` `[Cout]` per
    /// channel if given: the numbers of `conv2d(weight) + bias.reshaped([1, Cout, 1, 1])`, forward and
    /// backward, without the second pass over the output (the bias is added as the output is stored).
    ///
    /// Backward (kernels in `Kernels/Conv2d.swift`): ∂L/∂input is the "transposed convolution"
    /// of the gradient with the weight; ∂L/∂weight correlates the input with the gradient; ∂L/∂bias
    /// sums the gradient over N, H and W.
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        let x = self
        guard x.rank == 4, weight.rank == 4 else {
            shapeError("conv2d: needs input [N, C, H, W] and weight [Cout, Cin, KH, KW], got \(x.shape) and \(weight.shape)")
        }
        guard x.shape[1] == weight.shape[1] else {
            shapeError("conv2d: input has \(x.shape[1]) channels but weight expects \(weight.shape[1]) (input \(x.shape), weight \(weight.shape))")
        }
        guard stride >= 1, padding >= 0 else { shapeError("conv2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0") }
        let geometry = Conv2dGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                                      outChannels: weight.shape[0], kernelH: weight.shape[2], kernelW: weight.shape[3],
                                      stride: stride, padding: padding)
        guard geometry.outHeight >= 1, geometry.outWidth >= 1 else {
            shapeError("conv2d: kernel \(weight.shape[2])×\(weight.shape[3]) does not fit input \(x.shape) with padding \(padding)")
        }
        if let bias, bias.shape != [geometry.outChannels] {
            shapeError("conv2d: bias must have shape [\(geometry.outChannels)] (one per output channel), got \(bias.shape)")
        }
        let outShape = [geometry.batch, geometry.outChannels, geometry.outHeight, geometry.outWidth]
        let out = x.data.withUnsafeBufferPointer { px in
            weight.data.withUnsafeBufferPointer { pw in
                (bias?.data ?? []).withUnsafeBufferPointer { pb in
                    makeArray(outShape.reduce(1, *)) { po in  // every element written by the kernel
                        conv2dForward(geometry, input: px.baseAddress!, weight: pw.baseAddress!, bias: bias == nil ? nil : pb.baseAddress,
                                      output: po)
                    }
                }
            }
        }
        let channels = geometry.outChannels
        return Tensor.record(Tensor(unchecked: out, shape: outShape), op: "conv2d", inputs: [x, weight] + (bias.map { [$0] } ?? [])) { g in
            // Not zeroed first: the kernel overwrites every element of the gradients it is given.
            var gx: [Float]? = x.requiresGrad ? makeArray(x.count) { _ in } : nil
            var gw: [Float]? = weight.requiresGrad ? makeArray(weight.count) { _ in } : nil
            x.data.withUnsafeBufferPointer { px in
                weight.data.withUnsafeBufferPointer { pw in
                    g.data.withUnsafeBufferPointer { pg in
                        withOptionalMutablePointer(&gx) { pgx in
                            withOptionalMutablePointer(&gw) { pgw in
                                conv2dBackward(geometry, input: px.baseAddress!, weight: pw.baseAddress!,
                                               gradOutput: pg.baseAddress!, gradInput: pgx, gradWeight: pgw)
                            }
                        }
                    }
                }
            }
            // The bias's gradient as the broadcast + sums it back: over N first, then each channel's pixels.
            let gb = bias.map { $0.requiresGrad ? g.sum(to: [1, channels, 1, 1]).reshaped([channels]) : nil }
            return [gx.map { Tensor(unchecked: $0, shape: x.shape) }, gw.map { Tensor(unchecked: $0, shape: weight.shape) }]
                + (gb.map { [$0] } ?? [])
        }
    }

    /// 2×2 average pooling, stride 2: `[N, C, H, W] -> [N, C, H/2, W/2]` (H and W even).
    /// Backward: each input pixel received a quarter of its block's gradient.
    public func avgPool2x2() -> Tensor {
        guard rank == 4, shape[2] % 2 == 0, shape[3] % 2 == 0 else {
            shapeError("avgPool2x2: needs [N, C, H, W] with even H and W, got \(shape)")
        }
        let h = shape[2], w = shape[3], planes = shape[0] * shape[1]
        let out = data.withUnsafeBufferPointer { xb in
            makeArray(count / 4) { y in
                parallelRows(planes, size: h * w) { p in
                    for i in 0..<(h / 2) {
                        let top = xb.baseAddress! + p * h * w + 2 * i * w, bottom = top + w
                        let row = y + p * h * w / 4 + i * (w / 2)
                        for j in 0..<(w / 2) {
                            row[j] = 0.25 * (top[2 * j] + top[2 * j + 1] + bottom[2 * j] + bottom[2 * j + 1])
                        }
                    }
                }
            }
        }
        let result = Tensor(unchecked: out, shape: [shape[0], shape[1], h / 2, w / 2])
        return Tensor.record(result, op: "avgPool2x2", inputs: [self]) { g in [g.upsampleNearest2x() * 0.25] }
    }

    /// Nearest-neighbour 2× upsampling: `[N, C, H, W] -> [N, C, 2H, 2W]`, each pixel copied to a 2×2 block.
    /// Backward: each input pixel collects the gradient of its 4 copies (4 × the 2×2 average).
    public func upsampleNearest2x() -> Tensor {
        guard rank == 4 else { shapeError("upsampleNearest2x: needs [N, C, H, W], got \(shape)") }
        let h = shape[2], w = shape[3], planes = shape[0] * shape[1]
        let out = data.withUnsafeBufferPointer { xb in
            makeArray(count * 4) { y in
                parallelRows(planes, size: h * w) { p in
                    for i in 0..<h {
                        let source = xb.baseAddress! + p * h * w + i * w, row = y + p * 4 * h * w + 2 * i * 2 * w
                        for j in 0..<w { row[2 * j] = source[j]; row[2 * j + 1] = source[j] }
                        (row + 2 * w).update(from: row, count: 2 * w)  // the same row again
                    }
                }
            }
        }
        let result = Tensor(unchecked: out, shape: [shape[0], shape[1], 2 * h, 2 * w])
        return Tensor.record(result, op: "upsampleNearest2x", inputs: [self]) { g in [g.avgPool2x2() * 4] }
    }
}

/// Calls `body` with a pointer into `array`, or with nil when there is no array.
func withOptionalMutablePointer<R>(_ array: inout [Float]?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard array != nil else { return body(nil) }
    return array!.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
