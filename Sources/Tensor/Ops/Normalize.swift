// Standardisation of consecutive runs of elements: the core of GroupNorm and LayerNorm.
//
// A fused primitive, because the normalisation layers run on every activation of the UNet and
// the composed version (mean, subtract, square, mean, add, sqrt, divide: 7 passes forward and
// more backward) measurably dominated the elementwise time. The composed version stays below
// as `normalizedRowsReference`, the test oracle.

extension Tensor {
    /// Splits the elements (in storage order) into runs of `length` and standardises each run:
    /// ```
    /// x̂ = (x − μ) / √(σ² + ε),   μ, σ² the run's mean and (population) variance
    /// ```
    /// For `[N, C, H, W]` with `length = C/G·H·W` the runs are GroupNorm's groups; for `[..., D]`
    /// with `length = D` they are LayerNorm's rows. Backward, with r = 1/√(σ² + ε) and means
    /// over the run:
    /// ```
    /// ∂L/∂x = r · (g − mean(g) − x̂ · mean(g·x̂))
    /// ```
    public func normalizedRows(length: Int, epsilon: Float) -> Tensor {
        guard length > 0, count % length == 0 else {
            shapeError("normalizedRows: \(count) elements of shape \(shape) do not split into runs of \(length)")
        }
        let rows = count / length
        var rstd = [Float](repeating: 0, count: rows)
        let xhat = data.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            return rstd.withUnsafeMutableBufferPointer { rb in
                let r = rb.baseAddress!
                return makeArray(count) { y in
                    Parallel.forEach(rows) { row in
                        let p = x + row * length, q = y + row * length
                        var sum = 0.0
                        for i in 0..<length { sum += Double(p[i]) }
                        let mean = Float(sum / Double(length))
                        var squares = 0.0
                        for i in 0..<length { let d = Double(p[i] - mean); squares += d * d }
                        let inv = 1 / (Float(squares / Double(length)) + epsilon).squareRoot()
                        r[row] = inv
                        for i in 0..<length { q[i] = (p[i] - mean) * inv }
                    }
                }
            }
        }
        let result = Tensor(unchecked: xhat, shape: shape)
        return Tensor.record(result, op: "normalize", inputs: [self]) { g in
            let gx = g.data.withUnsafeBufferPointer { gb in
                xhat.withUnsafeBufferPointer { hb in
                    makeArray(xhat.count) { out in
                        let gp = gb.baseAddress!, hp = hb.baseAddress!
                        Parallel.forEach(rows) { row in
                            let gr = gp + row * length, hr = hp + row * length, o = out + row * length
                            var meanG = 0.0, meanGH = 0.0
                            for i in 0..<length { meanG += Double(gr[i]); meanGH += Double(gr[i] * hr[i]) }
                            let mg = Float(meanG / Double(length)), mgh = Float(meanGH / Double(length))
                            let inv = rstd[row]
                            for i in 0..<length { o[i] = inv * (gr[i] - mg - hr[i] * mgh) }
                        }
                    }
                }
            }
            return [Tensor(unchecked: gx, shape: g.shape)]
        }
    }

    /// The same standardisation composed from primitives: the oracle for `normalizedRows`.
    public func normalizedRowsReference(length: Int, epsilon: Float) -> Tensor {
        let runs = reshaped([count / length, length])
        let centered = runs - runs.mean(axes: [1], keepDims: true)
        let variance = centered.pow(2).mean(axes: [1], keepDims: true)
        return (centered / (variance + epsilon).sqrt()).reshaped(shape)
    }
}
