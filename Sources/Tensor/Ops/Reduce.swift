// Reductions (sum, max) and their inverse, expand; mean and variance composed from them.

extension Tensor {
    /// Normalises possibly negative axes (−1 = last) and checks them, naming `op`.
    func normalizedAxes(_ axes: [Int], op: String) -> [Int] {
        let result = axes.map { $0 < 0 ? $0 + rank : $0 }
        for (given, a) in zip(axes, result) where a < 0 || a >= rank {
            shapeError("\(op): axis \(given) out of range for shape \(shape)")
        }
        guard Set(result).count == result.count else { shapeError("\(op): repeated axis in \(axes) for shape \(shape)") }
        return result.sorted()
    }

    /// Sum over `axes` (all axes if nil). With `keepDims` the reduced axes stay, with size 1.
    /// Backward: every input element contributed once, so its gradient is the output's,
    /// expanded back over the reduced axes.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes ?? Array(0..<rank), op: "sum")
        var keptShape = shape
        for a in ax { keptShape[a] = 1 }
        let outShape = keepDims ? keptShape : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        let out = Tensor(unchecked: sumKernel(data, shape: shape, axes: ax), shape: outShape)
        let inShape = shape
        return Tensor.record(out, op: "sum", inputs: [self]) { g in
            [g.reshaped(keptShape).expand(to: inShape)]
        }
    }

    /// Sums a broadcast result back to `target` (the reverse of broadcasting), for gradients.
    public func sum(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        guard lead >= 0 else { shapeError("sum(to:): cannot reduce shape \(shape) to larger shape \(target)") }
        var axes = Array(0..<lead)
        for (i, t) in target.enumerated() where t == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// Mean over `axes` (all if nil) = sum / number of elements reduced.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes ?? Array(0..<rank), op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepDims: keepDims) * (1 / Float(n))
    }

    /// Population variance over `axes`: mean((x − mean x)²). (Divides by n, as normalisation layers do.)
    public func variance(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let mu = mean(axes: axes, keepDims: true)
        return (self - mu).pow(2).mean(axes: axes, keepDims: keepDims)
    }

    /// Maximum along one axis. Backward: the gradient goes to the (first) position that held the max.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxes([axis], op: "max")[0]
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        guard n > 0 else { shapeError("max: empty axis \(axis) in shape \(shape)") }
        var values = [Float](repeating: 0, count: outer * inner)
        var argmax = [Int](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = x[o * n * inner + i], bestJ = 0
                    for j in 1..<Swift.max(n, 1) where x[(o * n + j) * inner + i] > best {
                        best = x[(o * n + j) * inner + i]; bestJ = j
                    }
                    values[o * inner + i] = best
                    argmax[o * inner + i] = bestJ
                }
            }
        }
        var keptShape = shape; keptShape[a] = 1
        var outShape = shape
        if keepDims { outShape[a] = 1 } else { outShape.remove(at: a) }
        let inShape = shape
        return Tensor.record(Tensor(unchecked: values, shape: outShape), op: "max", inputs: [self]) { g in
            var gx = [Float](repeating: 0, count: inShape.reduce(1, *))
            for o in 0..<outer {
                for i in 0..<inner { gx[(o * n + argmax[o * inner + i]) * inner + i] = g.data[o * inner + i] }
            }
            return [Tensor(unchecked: gx, shape: inShape)]
        }
    }

    /// Repeats size-1 axes (and adds leading axes) to reach `target`, as broadcasting would.
    /// Backward: sum the gradient back over the repeated axes.
    public func expand(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let checked = broadcastShapes(shape, target, op: "expand")
        guard checked == target else { shapeError("expand: shape \(shape) cannot be expanded to \(target)") }
        let out = Tensor(unchecked: stridedCopy(data, shape: target, strides: broadcastStrides(shape, to: target)), shape: target)
        let inShape = shape
        return Tensor.record(out, op: "expand", inputs: [self]) { g in [g.sum(to: inShape)] }
    }
}

/// Sums `x` (of `shape`) over the sorted `axes`, one run of adjacent axes at a time. Each run is
/// a [outer, n, inner] reduction whose inner loop is contiguous. Fixed order: deterministic.
func sumKernel(_ x: [Float], shape: [Int], axes: [Int]) -> [Float] {
    var values = x
    var shape = shape
    var i = 0
    while i < axes.count {
        var j = i
        while j + 1 < axes.count && axes[j + 1] == axes[j] + 1 { j += 1 }
        let lo = axes[i], hi = axes[j]
        let outer = shape[..<lo].reduce(1, *), n = shape[lo...hi].reduce(1, *), inner = shape[(hi + 1)...].reduce(1, *)
        var out = [Float](repeating: 0, count: outer * inner)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Each output element is summed alone, in a fixed order, so the outputs can be
                // spread over the threads (in pieces that depend on the shape only) without
                // changing a bit.
                if inner == 1 {
                    parallelRows(outer, size: n) { o in
                        // Blocks of 1,024 summed in 8 Float lanes (vectorised), block totals added in
                        // Double: a million-element sum stays accurate to ~1e-7 relative.
                        let base = src.baseAddress! + o * n
                        var total = 0.0
                        var k = 0
                        while k < n {
                            let end = Swift.min(k + 1024, n)
                            var acc = SIMD8<Float>()
                            while k + 8 <= end {
                                acc += UnsafeRawPointer(base + k).loadUnaligned(as: SIMD8<Float>.self)
                                k += 8
                            }
                            var s = acc.sum()
                            while k < end { s += base[k]; k += 1 }
                            total += Double(s)
                        }
                        dst[o] = Float(total)
                    }
                } else {
                    // Pieces of the inner axis (a multiple of 16 floats, about 32k additions each).
                    let piece = Swift.min(inner, Swift.max(16, (1 << 15) / Swift.max(n, 1) / 16 * 16))
                    let pieces = (inner + piece - 1) / piece
                    Parallel.forEach(outer * pieces) { task in
                        let (o, p) = task.quotientAndRemainder(dividingBy: pieces)
                        let t0 = p * piece, count = Swift.min(inner, t0 + piece) - t0
                        let d = dst.baseAddress! + o * inner + t0
                        for k in 0..<n {
                            let s = src.baseAddress! + (o * n + k) * inner + t0
                            for t in 0..<count { d[t] += s[t] }
                        }
                    }
                }
            }
        }
        values = out
        for a in lo...hi { shape[a] = 1 }
        i = j + 1
    }
    return values
}

/// Copies elements laid out with `strides` (any, including 0 for broadcast) into a contiguous
/// array of `shape`. The workhorse of permute and expand.
func stridedCopy(_ x: [Float], shape: [Int], strides: [Int], offset: Int = 0) -> [Float] {
    let total = shape.reduce(1, *)
    if total == 0 { return [] }
    var out = makeArray(total) { _ in }  // every element written below
    let (dims, st, _) = collapseAxes(shape, strides, contiguousStrides(shape))
    let inner = dims.last!, s = st.last!
    x.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            var index = [Int](repeating: 0, count: dims.count)
            var p = offset, q = 0
            for _ in 0..<(total / inner) {
                let to = dst.baseAddress! + q, from = src.baseAddress! + p  // (indexing by j alone vectorises)
                if s == 1 { to.update(from: from, count: inner) }
                else if s == 0 { to.update(repeating: from[0], count: inner) }
                else { for j in 0..<inner { to[j] = from[j * s] } }
                q += inner
                var d = dims.count - 2
                while d >= 0 {
                    index[d] += 1; p += st[d]
                    if index[d] < dims[d] { break }
                    p -= st[d] * dims[d]; index[d] = 0
                    d -= 1
                }
            }
        }
    }
    return out
}
