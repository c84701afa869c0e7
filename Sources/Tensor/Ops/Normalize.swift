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
                    Parallel.forEach((rows + lanes - 1) / lanes) { block in
                        let first = block * lanes
                        if first + lanes <= rows {
                            standardizeRows(x + first * length, y + first * length, r + first, length: length, epsilon: epsilon)
                        } else {
                            for row in first..<rows {
                                standardizeRow(x + row * length, y + row * length, r + row, length: length, epsilon: epsilon)
                            }
                        }
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
                        rstd.withUnsafeBufferPointer { rb in
                            Parallel.forEach((rows + lanes - 1) / lanes) { block in
                                let first = block * lanes
                                if first + lanes <= rows {
                                    let at = first * length
                                    standardizedRowsGradient(gp + at, hp + at, rb.baseAddress! + first, out + at, length: length)
                                } else {
                                    for row in first..<rows {
                                        let at = row * length
                                        standardizedRowGradient(gp + at, hp + at, rb[row], out + at, length: length)
                                    }
                                }
                            }
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

// MARK: - The kernels
//
// Each run's mean and variance are sums in Double, element after element. One such sum is a
// chain of dependent additions, each waiting for the last (some 3-4 cycles apiece), so a run
// alone keeps the adder mostly idle. Runs are therefore standardised `lanes` at a time, one run
// per lane of a SIMD vector: every lane still adds its own run's elements in the same order, so
// each result has the bits of the run done alone (`standardizeRow`, used for the last few runs),
// and eight chains advance together.

/// Runs standardised together, one per lane.
private let lanes = 8

/// y = (x − μ)·r for one run of `length` floats at x, with r = 1/√(σ² + ε) stored in `rstd`.
@inline(__always)
private func standardizeRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                            length: Int, epsilon: Float) {
    var sum = 0.0
    for i in 0..<length { sum += Double(x[i]) }
    let mean = Float(sum / Double(length))
    var squares = 0.0
    for i in 0..<length { let d = Double(x[i] - mean); squares += d * d }
    let inv = 1 / (Float(squares / Double(length)) + epsilon).squareRoot()
    rstd[0] = inv
    for i in 0..<length { y[i] = (x[i] - mean) * inv }
}

/// `standardizeRow` on `lanes` consecutive runs at once (run j at x + j·length), the same
/// arithmetic per run.
@inline(__always)
private func standardizeRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                             length: Int, epsilon: Float) {
    /// Element i of each of the 8 runs.
    @inline(__always) func column(_ i: Int) -> SIMD8<Float> {
        SIMD8(x[i], x[length + i], x[2 * length + i], x[3 * length + i],
              x[4 * length + i], x[5 * length + i], x[6 * length + i], x[7 * length + i])
    }
    @inline(__always) func double(_ v: SIMD8<Float>) -> SIMD8<Double> {
        SIMD8(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]), Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
    }
    var sum = SIMD8<Double>()
    for i in 0..<length { sum += double(column(i)) }
    var mean = SIMD8<Float>()
    for j in 0..<lanes { mean[j] = Float(sum[j] / Double(length)) }
    var squares = SIMD8<Double>()
    for i in 0..<length { let d = double(column(i) - mean); squares += d * d }
    for j in 0..<lanes {
        let inv = 1 / (Float(squares[j] / Double(length)) + epsilon).squareRoot()
        rstd[j] = inv
        let (p, q, m) = (x + j * length, y + j * length, mean[j])
        for i in 0..<length { q[i] = (p[i] - m) * inv }
    }
}

/// ∂L/∂x = r·(g − mean(g) − x̂·mean(g·x̂)) for one run, given g, x̂ and r.
@inline(__always)
private func standardizedRowGradient(_ g: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, _ rstd: Float,
                                     _ out: UnsafeMutablePointer<Float>, length: Int) {
    var meanG = 0.0, meanGH = 0.0
    for i in 0..<length { meanG += Double(g[i]); meanGH += Double(g[i] * xhat[i]) }
    let mg = Float(meanG / Double(length)), mgh = Float(meanGH / Double(length))
    for i in 0..<length { out[i] = rstd * (g[i] - mg - xhat[i] * mgh) }
}

/// `standardizedRowGradient` on `lanes` consecutive runs at once, the same arithmetic per run.
@inline(__always)
private func standardizedRowsGradient(_ g: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
                                      _ out: UnsafeMutablePointer<Float>, length: Int) {
    @inline(__always) func column(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        SIMD8(p[i], p[length + i], p[2 * length + i], p[3 * length + i],
              p[4 * length + i], p[5 * length + i], p[6 * length + i], p[7 * length + i])
    }
    @inline(__always) func double(_ v: SIMD8<Float>) -> SIMD8<Double> {
        SIMD8(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]), Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
    }
    var meanG = SIMD8<Double>(), meanGH = SIMD8<Double>()
    for i in 0..<length {
        let gi = column(g, i)
        meanG += double(gi); meanGH += double(gi * column(xhat, i))
    }
    for j in 0..<lanes {
        let mg = Float(meanG[j] / Double(length)), mgh = Float(meanGH[j] / Double(length))
        let (gr, hr, o, inv) = (g + j * length, xhat + j * length, out + j * length, rstd[j])
        for i in 0..<length { o[i] = inv * (gr[i] - mg - hr[i] * mgh) }
    }
}
