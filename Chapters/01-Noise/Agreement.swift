// Chapter 1's helpers: the clean image x₀ (a Shapes image or the learner's PNG) and the measurement
// behind section 1.3 — many noisings of one image, by DDPM eq. (2) one step at a time and by
// eq. (4) in one jump, summarised pixel by pixel against what eq. (4) predicts.
// The lesson code itself (the schedules, `step`, `addNoise`) is in Sources/Diffusion/NoiseSchedule.swift.

import Datasets
import Diffusion
import ChapterKit
import Foundation
import Imaging
import Tensor

/// The clean image x₀, channel-planar ([3, height, width]) in −1…1.
struct CleanImage {
    var chw: [Float]
    var height: Int
    var width: Int
    /// What it shows: a Shapes caption or the file it came from.
    var description: String
    var shape: [Int] { [3, height, width] }
    var image: Image { Image(chw: chw, channels: 3, height: height, width: width) }
}

/// A Shapes image (16×16), the data the later chapters train on.
func shapesImage(using rng: inout RandomGenerator) -> CleanImage {
    let spec = Shapes.random(using: &rng)
    let n = Shapes.defaultSize
    return CleanImage(chw: Shapes.render(spec, size: n), height: n, width: n,
                      description: "a Shapes image, \"\(spec.caption)\"")
}

/// The learner's PNG, as RGB in −1…1, shrunk by nearest neighbour so its longer side is at most
/// `maxSide` pixels. A missing or unreadable file stops the program with status 1 and a message
/// naming it.
func learnerImage(path: String, maxSide: Int = 64) -> CleanImage {
    let png: Image
    do {
        png = try Image.readPNG(path, channels: 3)
    } catch {
        Options.fail("cannot use --image \(path): \(reason(error))")
    }
    guard png.width > 0, png.height > 0 else {
        Options.fail("cannot use --image \(path): the image is empty")
    }
    let longer = max(png.width, png.height)
    let w = longer > maxSide ? max(1, png.width * maxSide / longer) : png.width
    let h = longer > maxSide ? max(1, png.height * maxSide / longer) : png.height
    var chw = [Float](repeating: 0, count: 3 * h * w)
    for y in 0..<h {
        let sy = (2 * y + 1) * png.height / (2 * h)  // nearest source row to the centre of row y
        for x in 0..<w {
            let sx = (2 * x + 1) * png.width / (2 * w)
            for c in 0..<3 { chw[(c * h + y) * w + x] = Float(png[sx, sy, c]) / 255 * 2 - 1 }
        }
    }
    let resized = (w, h) == (png.width, png.height) ? "" : ", resized from \(png.width)×\(png.height)"
    return CleanImage(chw: chw, height: h, width: w,
                      description: "\((path as NSString).lastPathComponent) (\(w)×\(h)\(resized))")
}

/// Per-pixel mean and variance over a batch of draws `[N, ...]`, in Double. The variance divides
/// by N − 1 (unbiased), so its expected value is the true variance even for few draws.
func pixelMoments(_ batch: Tensor) -> (mean: [Double], variance: [Double]) {
    let n = batch.shape[0], p = batch.count / n
    var sum = [Double](repeating: 0, count: p), sumSquares = [Double](repeating: 0, count: p)
    batch.data.withUnsafeBufferPointer { x in
        for draw in 0..<n {
            for i in 0..<p {
                let v = Double(x[draw * p + i])
                sum[i] += v
                sumSquares[i] += v * v
            }
        }
    }
    let mean = sum.map { $0 / Double(n) }
    let variance = (0..<p).map { (sumSquares[$0] - Double(n) * mean[$0] * mean[$0]) / Double(n - 1) }
    return (mean, variance)
}

/// One row of the agreement table: how one route's N draws of x_t compare with eq. (4).
struct Agreement {
    var schedule: NoiseSchedule.Kind
    var t: Int
    var alphaBar: Double
    var route: String  // "step-by-step" or "closed form"
    var draws: Int
    var values: Int
    /// z_i = (measured mean − √ᾱ_t·x0_i) / standard error, per value i. If the route's mean is
    /// right, each z_i is a standard normal: their average is ≈ 0 (± 1/√values), their RMS ≈ 1.
    var meanZ: Double
    var rmsZ: Double
    /// Average over values of the measured variance, divided by the predicted 1 − ᾱ_t: ≈ 1
    /// (± √(2/((draws − 1)·values))) if the route's spread is right.
    var varianceRatio: Double
    /// A few values followed closely: those where x₀ is brightest (for a Shapes image, the fully
    /// lit channels of the shape, x0 = 1), pooled: their average measured mean and the square root
    /// of their average measured variance.
    var brightCount: Int
    var brightPredictedMean: Double
    var brightMean: Double
    var brightSD: Double

    /// One standard deviation of `varianceRatio` for a route that is right.
    var varianceRatioSD: Double { (2 / (Double(draws - 1) * Double(values))).squareRoot() }
}

/// Runs `draws` chains of the forward process from `x0` with eq. (2) up to the last checkpoint; at
/// every checkpoint t also draws `draws` fresh x_t with eq. (4), and compares both with eq. (4)'s
/// prediction. Returns the rows (two per checkpoint: step-by-step, closed form) and the first
/// chain's x_t at each checkpoint (a real path of the forward process, for the figure).
/// `jump(x0, t, ε)` is eq. (4)'s closed form: the library's `addNoise`, or with `--mine` the
/// learner's `noisyBatch`.
func measureAgreement(x0: CleanImage, schedule: NoiseSchedule, checkpoints: [Int], draws: Int,
                      jump closedForm: (Tensor, Int, Tensor) -> Tensor,
                      rng: inout RandomGenerator) -> (rows: [Agreement], firstChain: [Int: [Float]]) {
    let p = x0.chw.count
    let batchShape = [draws] + x0.shape                                       // [N, 3, H, W]
    let x0Batch = Tensor(Array([[Float]](repeating: x0.chw, count: draws).joined()), shape: batchShape)
    let brightestValue = x0.chw.max()!
    let bright = x0.chw.indices.filter { x0.chw[$0] >= brightestValue - 1e-6 }

    func summarise(_ batch: Tensor, t: Int, route: String) -> Agreement {
        let (mean, variance) = pixelMoments(batch)
        let ab = Double(schedule.alphaBar[t])
        let predictedVariance = 1 - ab
        let standardError = (predictedVariance / Double(draws)).squareRoot()
        let z = (0..<p).map { (mean[$0] - ab.squareRoot() * Double(x0.chw[$0])) / standardError }
        return Agreement(
            schedule: schedule.kind, t: t, alphaBar: ab, route: route, draws: draws, values: p,
            meanZ: z.reduce(0, +) / Double(p),
            rmsZ: (z.map { $0 * $0 }.reduce(0, +) / Double(p)).squareRoot(),
            varianceRatio: variance.reduce(0, +) / Double(p) / predictedVariance,
            brightCount: bright.count,
            brightPredictedMean: ab.squareRoot() * Double(brightestValue),
            brightMean: bright.map { mean[$0] }.reduce(0, +) / Double(bright.count),
            brightSD: (bright.map { variance[$0] }.reduce(0, +) / Double(bright.count)).squareRoot())
    }

    var rows: [Agreement] = []
    var firstChain: [Int: [Float]] = [:]
    var x = x0Batch
    for t in 0...checkpoints.max()! {
        x = schedule.step(x, t: t, noise: Tensor.randn(batchShape, using: &rng))  // eq. (2): x_{t-1} -> x_t
        guard checkpoints.contains(t) else { continue }
        let jump = closedForm(x0Batch, t, Tensor.randn(batchShape, using: &rng))   // eq. (4): x_0 -> x_t
        rows.append(summarise(x, t: t, route: "step-by-step"))
        rows.append(summarise(jump, t: t, route: "closed form"))
        firstChain[t] = Array(x.data[0..<p])
    }
    return (rows, firstChain)
}
