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
                    forEachBlockOfRuns(rows, block: { first in
                        standardizeRows(x + first * length, y + first * length, r + first, length: length, epsilon: epsilon)
                    }, single: { row in
                        standardizeRow(x + row * length, y + row * length, r + row, length: length, epsilon: epsilon)
                    })
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
                            forEachBlockOfRuns(rows, block: { first in
                                let at = first * length
                                standardizedRowsGradient(gp + at, hp + at, rb.baseAddress! + first, out + at, length: length)
                            }, single: { row in
                                let at = row * length
                                standardizedRowGradient(gp + at, hp + at, rb[row], out + at, length: length)
                            })
                        }
                    }
                }
            }
            return [Tensor(unchecked: gx, shape: g.shape)]
        }
    }

    /// GroupNorm's whole forward in one op: for x `[N, C, H, W]`, each example's `groups` groups
    /// of C/G channels standardised (`normalizedRows`), then scaled and shifted per channel,
    /// ```
    /// y = x̂ · γ[c] + β[c]
    /// ```
    /// Backward: ∂L/∂β[c] = Σ_{n,h,w} g, ∂L/∂γ[c] = Σ_{n,h,w} g·x̂, and x̂'s gradient g·γ[c] goes
    /// through the standardisation's backward.
    ///
    /// The numbers are those of the composed `normalizedRows(…) * γ + β` to the bit (each value is
    /// computed by the same float operations in the same order, sums included); fusing only saves
    /// the passes over memory that the composed ops' intermediate tensors cost.
    public func groupNormalized(groups: Int, scale gamma: Tensor, shift beta: Tensor, epsilon: Float) -> Tensor {
        guard rank == 4, groups > 0, shape[1] % groups == 0, gamma.shape == [shape[1]], beta.shape == [shape[1]] else {
            shapeError("groupNormalized: needs x [N, C, H, W] with C divisible by \(groups) groups and γ, β of shape [C]; "
                       + "got x \(shape), γ \(gamma.shape), β \(beta.shape)")
        }
        let (n, c, spatial) = (shape[0], shape[1], shape[2] * shape[3])
        let layout = GroupLayout(runs: n * groups, groups: groups, channelsPerGroup: c / groups, spatial: spatial)
        if count == 0 { return Tensor(unchecked: [], shape: shape) }
        var rstd = [Float](repeating: 0, count: layout.runs)
        var xhat: [Float] = []
        let y = data.withUnsafeBufferPointer { xb in
            gamma.data.withUnsafeBufferPointer { gb in
                beta.data.withUnsafeBufferPointer { bb in
                    rstd.withUnsafeMutableBufferPointer { rb in
                        let (x, r, scale, shift) = (xb.baseAddress!, rb.baseAddress!, gb.baseAddress!, bb.baseAddress!)
                        let length = layout.length
                        return makeArray(count) { out in
                            xhat = makeArray(count) { h in
                                // y = x̂·γ + β for runs just standardised, channel by channel (as the
                                // composed `*` and `+` compute it), while they are in cache.
                                func scaleAndShift(_ runs: Range<Int>) {
                                    for run in runs {
                                        for k in 0..<layout.channelsPerGroup {
                                            let channel = layout.channel(run: run, k), at = (run * layout.channelsPerGroup + k) * spatial
                                            let (g, b, from, to) = (scale[channel], shift[channel], h + at, out + at)
                                            for i in 0..<spatial { to[i] = from[i] * g + b }  // (pointers: a vector loop)
                                        }
                                    }
                                }
                                forEachBlockOfRuns(layout.runs, block: { first in
                                    standardizeRows(x + first * length, h + first * length, r + first, length: length, epsilon: epsilon)
                                    scaleAndShift(first..<(first + lanes))
                                }, single: { run in
                                    standardizeRow(x + run * length, h + run * length, r + run, length: length, epsilon: epsilon)
                                    scaleAndShift(run..<(run + 1))
                                })
                            }
                        }
                    }
                }
            }
        }
        let result = Tensor(unchecked: y, shape: shape)
        return Tensor.record(result, op: "groupNorm", inputs: [self, gamma, beta]) { g in
            let (dx, dGamma, dBeta) = groupNormBackward(g.data, xhat: xhat, rstd: rstd, gamma: gamma.data, layout: layout,
                                                        channels: c, batch: n)
            return [Tensor(unchecked: dx, shape: g.shape), Tensor(unchecked: dGamma, shape: [c]), Tensor(unchecked: dBeta, shape: [c])]
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

/// Runs 0..<runs on the kernel threads, `lanes` at a time: `block(first)` for each full block of
/// runs first..<first + lanes, `single(run)` for each run of the last, partial block.
@inline(__always)
private func forEachBlockOfRuns(_ runs: Int, block: (Int) -> Void, single: (Int) -> Void) {
    Parallel.forEach((runs + lanes - 1) / lanes) { b in
        let first = b * lanes
        if first + lanes <= runs {
            block(first)
        } else {
            for run in first..<runs { single(run) }
        }
    }
}

/// Element i of each of the 8 consecutive runs of `length` floats at p, one run per lane.
@inline(__always)
private func laneColumn(_ p: UnsafePointer<Float>, _ i: Int, length: Int) -> SIMD8<Float> {
    SIMD8(p[i], p[length + i], p[2 * length + i], p[3 * length + i],
          p[4 * length + i], p[5 * length + i], p[6 * length + i], p[7 * length + i])
}

/// Elements i..<i + 8 of each of the 8 consecutive runs of `length` floats at p, as 8 columns:
/// column c holds element i + c of run j in lane j. Each run's 8 floats are one load; the 8×8
/// block is transposed in registers by three rounds of splitting each pair of rows into their even
/// and odd elements (8 loads and 24 shuffles, where 8 `laneColumn`s take 64 loads and 56 inserts).
private struct LaneColumns {
    var c: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

    @inline(__always)
    init(_ p: UnsafePointer<Float>, _ i: Int, length: Int) {
        @inline(__always) func row(_ j: Int) -> SIMD8<Float> {
            UnsafeRawPointer(p + j * length + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        var (r0, r1, r2, r3, r4, r5, r6, r7) = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
        for _ in 0..<3 {
            (r0, r1, r2, r3, r4, r5, r6, r7) =
                (SIMD8(lowHalf: r0.evenHalf, highHalf: r1.evenHalf), SIMD8(lowHalf: r2.evenHalf, highHalf: r3.evenHalf),
                 SIMD8(lowHalf: r4.evenHalf, highHalf: r5.evenHalf), SIMD8(lowHalf: r6.evenHalf, highHalf: r7.evenHalf),
                 SIMD8(lowHalf: r0.oddHalf, highHalf: r1.oddHalf), SIMD8(lowHalf: r2.oddHalf, highHalf: r3.oddHalf),
                 SIMD8(lowHalf: r4.oddHalf, highHalf: r5.oddHalf), SIMD8(lowHalf: r6.oddHalf, highHalf: r7.oddHalf))
        }
        c = (r0, r1, r2, r3, r4, r5, r6, r7)
    }

    /// `body` on the columns in order.
    @inline(__always)
    func forEach(_ body: (SIMD8<Float>) -> Void) {
        body(c.0); body(c.1); body(c.2); body(c.3); body(c.4); body(c.5); body(c.6); body(c.7)
    }

    /// `body` on the columns of this block and of `other` side by side, in order.
    @inline(__always)
    func forEach(with other: LaneColumns, _ body: (SIMD8<Float>, SIMD8<Float>) -> Void) {
        body(c.0, other.c.0); body(c.1, other.c.1); body(c.2, other.c.2); body(c.3, other.c.3)
        body(c.4, other.c.4); body(c.5, other.c.5); body(c.6, other.c.6); body(c.7, other.c.7)
    }
}

/// `body` on columns i in `range` of the 8 consecutive runs at p (element i of run j in lane j), in
/// order: 8 at a time through `LaneColumns`, the rest one by one.
@inline(__always)
private func forEachLaneColumn(_ p: UnsafePointer<Float>, _ range: Range<Int>, length: Int, _ body: (SIMD8<Float>) -> Void) {
    var i = range.lowerBound
    while i + 8 <= range.upperBound { LaneColumns(p, i, length: length).forEach(body); i += 8 }
    while i < range.upperBound { body(laneColumn(p, i, length: length)); i += 1 }
}

/// `forEachLaneColumn` over two sets of runs side by side (p's column i with q's column i).
@inline(__always)
private func forEachLaneColumn(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ range: Range<Int>, length: Int,
                               _ body: (SIMD8<Float>, SIMD8<Float>) -> Void) {
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
        LaneColumns(p, i, length: length).forEach(with: LaneColumns(q, i, length: length), body)
        i += 8
    }
    while i < range.upperBound { body(laneColumn(p, i, length: length), laneColumn(q, i, length: length)); i += 1 }
}

/// Each lane converted to Double, as `Double(x)` converts one float.
@inline(__always)
private func widened(_ v: SIMD8<Float>) -> SIMD8<Double> {
    SIMD8(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]), Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
}

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
    var sum = SIMD8<Double>()
    forEachLaneColumn(x, 0..<length, length: length) { sum += widened($0) }
    var mean = SIMD8<Float>()
    for j in 0..<lanes { mean[j] = Float(sum[j] / Double(length)) }
    var squares = SIMD8<Double>()
    forEachLaneColumn(x, 0..<length, length: length) { let d = widened($0 - mean); squares += d * d }
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
    var meanG = SIMD8<Double>(), meanGH = SIMD8<Double>()
    forEachLaneColumn(g, xhat, 0..<length, length: length) { gi, h in
        meanG += widened(gi); meanGH += widened(gi * h)
    }
    for j in 0..<lanes {
        let mg = Float(meanG[j] / Double(length)), mgh = Float(meanGH[j] / Double(length))
        let (gr, hr, o, inv) = (g + j * length, xhat + j * length, out + j * length, rstd[j])
        for i in 0..<length { o[i] = inv * (gr[i] - mg - hr[i] * mgh) }
    }
}

// MARK: - GroupNorm's backward

/// Where GroupNorm's runs lie: run r is example r / G, group r % G, its C/G channels of
/// `spatial` pixels one after another.
struct GroupLayout {
    let runs: Int, groups: Int, channelsPerGroup: Int, spatial: Int
    var length: Int { channelsPerGroup * spatial }
    /// The channel of the k-th channel of run `run`.
    @inline(__always) func channel(run: Int, _ k: Int) -> Int { (run % groups) * channelsPerGroup + k }
}

/// (∂L/∂x, ∂L/∂γ, ∂L/∂β) given g = ∂L/∂y. x̂'s gradient g·γ[c] is computed where it is used
/// (never stored); the two parameter gradients are summed in the order `sum(to:)` sums the
/// composed version's g·x̂ and g: over the examples first, element by element from zero, then
/// each channel's pixels (`sumKernel`).
func groupNormBackward(_ g: [Float], xhat: [Float], rstd: [Float], gamma: [Float], layout: GroupLayout,
                       channels c: Int, batch n: Int) -> ([Float], [Float], [Float]) {
    let spatial = layout.spatial, plane = c * spatial
    var dGammaPlanes: [Float] = [], dBetaPlanes: [Float] = []
    let dx = g.withUnsafeBufferPointer { gb in
        xhat.withUnsafeBufferPointer { hb in
            gamma.withUnsafeBufferPointer { scaleBuffer in
                rstd.withUnsafeBufferPointer { rb in
                    let (gp, hp, scale, r) = (gb.baseAddress!, hb.baseAddress!, scaleBuffer.baseAddress!, rb.baseAddress!)
                    // Σ over the examples, per (channel, pixel), in example order from zero.
                    dGammaPlanes = makeArray(plane) { dg in
                        dBetaPlanes = makeArray(plane) { db in
                            parallelRanges(plane) { range in
                                for t in range { dg[t] = 0; db[t] = 0 }
                                for example in 0..<n {
                                    let ge = gp + example * plane, he = hp + example * plane
                                    for t in range { dg[t] += ge[t] * he[t]; db[t] += ge[t] }
                                }
                            }
                        }
                    }
                    return makeArray(g.count) { out in
                        forEachBlockOfRuns(layout.runs, block: { first in
                            groupRowsGradient(gp, hp, scale, r, out, layout: layout, first: first)
                        }, single: { run in
                            groupRowGradient(gp, hp, scale, r, out, layout: layout, run: run)
                        })
                    }
                }
            }
        }
    }
    // Then each channel's pixels: the composed sum's second step (nothing to sum for 1×1 images).
    if spatial == 1 { return (dx, dGammaPlanes, dBetaPlanes) }
    return (dx, sumKernel(dGammaPlanes, shape: [c, spatial], axes: [1]), sumKernel(dBetaPlanes, shape: [c, spatial], axes: [1]))
}

/// `standardizedRowGradient` for GroupNorm run `run`, with x̂'s gradient g·γ[c] made on the fly.
@inline(__always)
private func groupRowGradient(_ g: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
                              _ rstd: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, layout: GroupLayout, run: Int) {
    let (length, spatial) = (layout.length, layout.spatial)
    let (gr, hr, o) = (g + run * length, xhat + run * length, out + run * length)
    var meanG = 0.0, meanGH = 0.0
    for k in 0..<layout.channelsPerGroup {
        let scale = gamma[layout.channel(run: run, k)]
        for i in (k * spatial)..<((k + 1) * spatial) {
            let d = gr[i] * scale
            meanG += Double(d); meanGH += Double(d * hr[i])
        }
    }
    let mg = Float(meanG / Double(length)), mgh = Float(meanGH / Double(length)), inv = rstd[run]
    for k in 0..<layout.channelsPerGroup {
        let scale = gamma[layout.channel(run: run, k)]
        for i in (k * spatial)..<((k + 1) * spatial) { o[i] = inv * (gr[i] * scale - mg - hr[i] * mgh) }
    }
}

/// `groupRowGradient` on `lanes` consecutive runs at once, one per lane, the same arithmetic per run.
@inline(__always)
private func groupRowsGradient(_ g: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
                               _ rstd: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, layout: GroupLayout, first: Int) {
    let (length, spatial) = (layout.length, layout.spatial)
    let (gs, hs) = (g + first * length, xhat + first * length)
    var meanG = SIMD8<Double>(), meanGH = SIMD8<Double>()
    for k in 0..<layout.channelsPerGroup {
        var scale = SIMD8<Float>()
        for j in 0..<lanes { scale[j] = gamma[layout.channel(run: first + j, k)] }
        forEachLaneColumn(gs, hs, (k * spatial)..<((k + 1) * spatial), length: length) { gi, h in
            let d = gi * scale
            meanG += widened(d); meanGH += widened(d * h)
        }
    }
    for j in 0..<lanes {
        let run = first + j
        let mg = Float(meanG[j] / Double(length)), mgh = Float(meanGH[j] / Double(length)), inv = rstd[run]
        let (gr, hr, o) = (g + run * length, xhat + run * length, out + run * length)
        for k in 0..<layout.channelsPerGroup {
            let scale = gamma[layout.channel(run: run, k)]
            for i in (k * spatial)..<((k + 1) * spatial) { o[i] = inv * (gr[i] * scale - mg - hr[i] * mgh) }
        }
    }
}
