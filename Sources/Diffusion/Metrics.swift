// Measuring how close generated 2-D points are to the data: the energy distance.
//
// Original papers:
//   Székely & Rizzo 2013, "Energy statistics: A class of statistics based on distances",
//   J. Statist. Plann. Inference 143(8), eq. (2.1) (the energy distance) and §3 (its V-statistic).

import Tensor

/// The energy distance between two samples of points, as a V-statistic:
/// ```
/// D²(X, Y) = 2·E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖
/// ```
/// each expectation taken as the mean over *all* pairs, including a point with itself (i = j),
/// whose distance is 0. D² is 0 only when the distributions are equal, and grows with any
/// difference — in location, spread or shape — so a model cannot score well by covering part of
/// the data. On two finite samples of one distribution it is not 0: it sits at a *noise floor*
/// of about (E‖X − X′‖)·(1/n + 1/m) plus chance, which is why the course reports it beside the
/// floor measured on data against data.
///
/// `x` is `[n, d]`, `y` is `[m, d]`. Cost: (n + m)² distances, computed in Double.
public func energyDistance(_ x: Tensor, _ y: Tensor) -> Double {
    guard x.rank == 2, y.rank == 2, x.shape[1] == y.shape[1] else {
        fatalError("energyDistance: expected [n, d] and [m, d] points, got \(x.shape) and \(y.shape)")
    }
    let d = x.shape[1]
    let a = x.data.map(Double.init), b = y.data.map(Double.init)
    /// Mean distance over all pairs (i, j) of points of p (count n) and q (count m).
    func meanDistance(_ p: [Double], _ n: Int, _ q: [Double], _ m: Int) -> Double {
        var total = 0.0
        for i in 0..<n {
            var row = 0.0
            for j in 0..<m {
                var s = 0.0
                for k in 0..<d { let diff = p[i * d + k] - q[j * d + k]; s += diff * diff }
                row += s.squareRoot()
            }
            total += row
        }
        return total / Double(n * m)
    }
    let n = x.shape[0], m = y.shape[0]
    return 2 * meanDistance(a, n, b, m) - meanDistance(a, n, a, n) - meanDistance(b, m, b, m)
}

/// The energy distance of `samples` to `data`, both first standardised by the *data's* mean and
/// (population) standard deviation per coordinate, so the number does not depend on the data's
/// units and a sampler cannot change the yardstick.
public func energyDistance(_ samples: Tensor, toData data: Tensor) -> Double {
    let (n, d) = (data.shape[0], data.shape[1])
    var mean = [Double](repeating: 0, count: d), sd = [Double](repeating: 0, count: d)
    for i in 0..<n { for k in 0..<d { mean[k] += Double(data.data[i * d + k]) } }
    for k in 0..<d { mean[k] /= Double(n) }
    for i in 0..<n { for k in 0..<d { let v = Double(data.data[i * d + k]) - mean[k]; sd[k] += v * v } }
    for k in 0..<d { sd[k] = Swift.max((sd[k] / Double(n)).squareRoot(), 1e-12) }
    func standardised(_ t: Tensor) -> Tensor {
        Tensor(t.data.enumerated().map { Float((Double($0.element) - mean[$0.offset % d]) / sd[$0.offset % d]) }, shape: t.shape)
    }
    return energyDistance(standardised(samples), standardised(data))
}

/// Precision and recall of samples against data (Kynkäänniemi et al. 2019, "Improved Precision and
/// Recall Metric for Assessing Generative Models", §2, eq. 1–3), for points `[N, D]`:
/// ```
/// ball(φ, Φ): the sphere around φ ∈ Φ reaching its k-th nearest neighbour in Φ (φ itself not counted)
/// precision = share of samples inside the union of the data's balls          (are the samples plausible?)
/// recall    = share of data points inside the union of the samples' balls    (is the data covered?)
/// ```
/// Both are 1 for samples drawn like the data (up to the sets' finite size); a sampler that leaves samples
/// between the modes loses precision, one that misses a mode loses recall. O(N²) distances (squared, compared
/// with squared radii), in Double.
public func precisionRecall(samples: Tensor, data: Tensor, k: Int = 5) -> (precision: Double, recall: Double) {
    guard samples.rank == 2, data.rank == 2, samples.shape[1] == data.shape[1] else {
        fatalError("precisionRecall: expected samples [N, D] and data [M, D], got \(samples.shape) and \(data.shape)")
    }
    guard k >= 1, k < samples.shape[0], k < data.shape[0] else {
        fatalError("precisionRecall: k = \(k) needs more than k points in each set (\(samples.shape[0]) samples, \(data.shape[0]) data)")
    }
    let d = data.shape[1]
    /// The squared distance between point i of `a` and point j of `b` (both flat, d numbers a point).
    func distance2(_ a: [Double], _ i: Int, _ b: [Double], _ j: Int) -> Double {
        var sum = 0.0
        for c in 0..<d { let v = a[i * d + c] - b[j * d + c]; sum += v * v }
        return sum
    }
    /// Each point's squared distance to its k-th nearest neighbour in its own set (itself not counted),
    /// keeping the k smallest seen so far in ascending order.
    func radii(_ set: [Double]) -> [Double] {
        let n = set.count / d
        return (0..<n).map { i in
            var nearest = [Double](repeating: .infinity, count: k)
            for j in 0..<n where j != i {
                let v = distance2(set, i, set, j)
                guard v < nearest[k - 1] else { continue }
                var p = k - 1                                       // insert v, shifting larger ones up
                while p > 0, nearest[p - 1] > v { nearest[p] = nearest[p - 1]; p -= 1 }
                nearest[p] = v
            }
            return nearest[k - 1]
        }
    }
    /// The share of `queries` inside some ball of `set`.
    func covered(_ queries: [Double], by set: [Double]) -> Double {
        let r = radii(set), n = set.count / d, m = queries.count / d
        let inside = (0..<m).filter { q in (0..<n).contains { distance2(queries, q, set, $0) <= r[$0] } }.count
        return Double(inside) / Double(m)
    }
    let s = samples.data.map(Double.init), x = data.data.map(Double.init)
    return (covered(s, by: x), covered(x, by: s))
}

/// The mean squared difference between neighbouring pixels of images `[N, C, H, W]`, over every
/// horizontally and vertically adjacent pair of every channel: how much *edge* the images hold. A
/// blurred image has less than the sharp one it blurs; haze and leftover noise have more. Chapter 8
/// divides a sampler's by that of training images encoded and decoded by the autoencoder, so 1 means
/// "as clean as the decoder draws the data": the Shapes checker reads colour, shape and position, and
/// cannot tell a hazy one-step sample from a clean one.
public func edgeEnergy(_ images: Tensor) -> Double {
    guard images.rank == 4, images.shape[2] > 1, images.shape[3] > 1 else {
        fatalError("edgeEnergy: expected images [N, C, H, W] of at least 2×2, got \(images.shape)")
    }
    let h = images.shape[2], w = images.shape[3], planes = images.shape[0] * images.shape[1]
    var sum = 0.0
    images.data.withUnsafeBufferPointer { p in
        for plane in 0..<planes {
            let base = plane * h * w
            for y in 0..<h {
                for x in 0..<w {
                    let v = Double(p[base + y * w + x])
                    if x + 1 < w { let d = Double(p[base + y * w + x + 1]) - v; sum += d * d }
                    if y + 1 < h { let d = Double(p[base + (y + 1) * w + x]) - v; sum += d * d }
                }
            }
        }
    }
    return sum / Double(planes * (h * (w - 1) + (h - 1) * w))
}
