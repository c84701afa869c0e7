// Operations that move elements without arithmetic: reshape, permute, slice, concat, gather.
// Their backward moves the gradient back to where each element came from.

extension Tensor {
    /// The same elements under a new shape with the same count. One size may be −1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let k = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != k }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else { shapeError("reshape: cannot reshape \(shape) to \(newShape)") }
            target[k] = count / known
        }
        guard shapeCount(target, op: "reshape") == count else {
            shapeError("reshape: cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        if target == shape { return self }
        let inShape = shape
        return Tensor.record(Tensor(unchecked: data, shape: target), op: "reshape", inputs: [self]) { g in
            [g.reshaped(inShape)]
        }
    }

    /// Reorders the axes: output axis i is input axis `order[i]`.
    /// `[B, C, H, W].permuted([0, 2, 3, 1])` gives `[B, H, W, C]`. Backward: the inverse permutation.
    public func permuted(_ order: [Int]) -> Tensor {
        guard order.count == rank, Set(order) == Set(0..<rank) else {
            shapeError("permute: \(order) is not a permutation of the axes of shape \(shape)")
        }
        if order == Array(0..<rank) { return self }
        let own = contiguousStrides(shape)
        let outShape = order.map { shape[$0] }
        let out = Tensor(unchecked: stridedCopy(data, shape: outShape, strides: order.map { own[$0] }), shape: outShape)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.record(out, op: "permute", inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default: a matrix transpose).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        let x = a < 0 ? a + rank : a, y = b < 0 ? b + rank : b
        guard x >= 0, x < rank, y >= 0, y < rank else { shapeError("transpose: axes \(a), \(b) out of range for shape \(shape)") }
        var order = Array(0..<rank)
        order.swapAt(x, y)
        return permuted(order)
    }

    /// Elements `range` along `axis`. Backward: the gradient placed back into zeros of the input shape.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxes([axis], op: "slice")[0]
        guard range.lowerBound >= 0, range.upperBound <= shape[a] else {
            shapeError("slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        }
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        let m = range.count
        let out = data.withUnsafeBufferPointer { x in
            makeArray(outer * m * inner) { y in
                parallelRows(outer, size: m * inner) { o in
                    (y + o * m * inner).update(from: x.baseAddress! + (o * n + range.lowerBound) * inner, count: m * inner)
                }
            }
        }
        var outShape = shape; outShape[a] = m
        let inShape = shape
        return Tensor.record(Tensor(unchecked: out, shape: outShape), op: "slice", inputs: [self]) { g in
            // Row o of the input gradient: zeros, the slice's gradient, zeros.
            let before = range.lowerBound * inner, after = (n - range.upperBound) * inner
            let gx = g.data.withUnsafeBufferPointer { gp in
                makeArray(outer * n * inner) { dx in
                    parallelRows(outer, size: n * inner) { o in
                        let row = dx + o * n * inner
                        row.update(repeating: 0, count: before)
                        (row + before).update(from: gp.baseAddress! + o * m * inner, count: m * inner)
                        (row + before + m * inner).update(repeating: 0, count: after)
                    }
                }
            }
            return [Tensor(unchecked: gx, shape: inShape)]
        }
    }

    /// Joins tensors along `axis`; all other sizes must agree. Backward: each input gets its slice.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else { shapeError("concat: no tensors given") }
        let a = first.normalizedAxes([axis], op: "concat")[0]
        for t in tensors.dropFirst() {
            var x = t.shape, y = first.shape
            guard x.count == y.count else { shapeError("concat: shapes \(first.shape) and \(t.shape) differ in rank") }
            x[a] = 0; y[a] = 0
            guard x == y else { shapeError("concat: shapes \(first.shape) and \(t.shape) differ off axis \(axis)") }
        }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let sizes = tensors.map { $0.shape[a] }
        let total = sizes.reduce(0, +)
        let out = makeArray(outer * total * inner) { y in
            var start = 0
            for (t, m) in zip(tensors, sizes) {
                t.data.withUnsafeBufferPointer { x in
                    parallelRows(outer, size: m * inner) { o in
                        (y + (o * total + start) * inner).update(from: x.baseAddress! + o * m * inner, count: m * inner)
                    }
                }
                start += m
            }
        }
        var outShape = first.shape; outShape[a] = total
        return record(Tensor(unchecked: out, shape: outShape), op: "concat", inputs: tensors) { g in
            var offset = 0
            return sizes.map { m in
                defer { offset += m }
                return g.slice(axis: a, offset..<(offset + m))
            }
        }
    }

    /// Splits along `axis` into pieces of the given sizes (composed from `slice`).
    public func split(_ sizes: [Int], axis: Int) -> [Tensor] {
        let a = normalizedAxes([axis], op: "split")[0]
        guard sizes.reduce(0, +) == shape[a] else { shapeError("split: sizes \(sizes) do not add up to \(shape[a]) (axis \(axis) of \(shape))") }
        var start = 0
        return sizes.map { m in
            defer { start += m }
            return slice(axis: a, start..<(start + m))
        }
    }

    /// Rows of a table: `table.gather(rows: [2, 0, 2])` has shape `[3, rest...]`. This is an
    /// embedding lookup. Backward: each row's gradient is added back to the row it came from
    /// (a row picked twice gets both).
    public func gather(rows indices: [Int]) -> Tensor {
        guard rank >= 1 else { shapeError("gather: needs a tensor of rank ≥ 1, got shape \(shape)") }
        let n = shape[0], width = count / Swift.max(n, 1)
        var out = [Float](repeating: 0, count: indices.count * width)
        for (r, i) in indices.enumerated() {
            guard i >= 0 && i < n else { shapeError("gather: index \(i) out of range 0..<\(n) for table of shape \(shape)") }
            for k in 0..<width { out[r * width + k] = data[i * width + k] }
        }
        let inShape = shape
        let outShape = [indices.count] + shape.dropFirst()
        return Tensor.record(Tensor(unchecked: out, shape: outShape), op: "gather", inputs: [self]) { g in
            var gx = [Float](repeating: 0, count: inShape.reduce(1, *))
            for (r, i) in indices.enumerated() {
                for k in 0..<width { gx[i * width + k] += g.data[r * width + k] }
            }
            return [Tensor(unchecked: gx, shape: inShape)]
        }
    }
}
