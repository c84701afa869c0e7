// What the image chapters share around an experiment: fresh training batches, and the same
// measurement repeated over several seeds with its spread.

import Datasets
import Foundation
import Tensor

/// Fresh Shapes images for every call, drawn from the caller's generator: `[count, 3, size, size]` in −1…1.
public func shapesBatches(size: Int, count: Int) -> (inout RandomGenerator) -> Tensor {
    let data = ShapesDataset(size: size, seed: 0)
    return { rng in data.batch(count, using: &rng).images }
}

/// Fresh pairs of shapes (chapter 5) for every call: `[count, 3, 16, 16]` in −1…1.
public func pairedShapesBatches(count: Int) -> (inout RandomGenerator) -> Tensor {
    let data = PairedShapesDataset()
    return { rng in data.batch(count, using: &rng).images }
}

/// The same measurement over several seeds (three by default: the run's seed and the next two), so
/// that a comparison reports its spread: train with each seed, measure, and report mean ± sd.
public struct SeedStudy {
    public let seeds: [UInt64]

    public init(first: UInt64, count: Int = 3) {
        seeds = (0..<count).map { first &+ UInt64($0) }
    }

    /// Runs `measure(seed)` for every seed; each call returns the same list of figures.
    public func run(_ measure: (UInt64) throws -> [Double]) rethrows -> SeedResults {
        SeedResults(seeds: seeds, values: try seeds.map(measure))
    }

    /// "0, 1, 2"
    public var list: String { seeds.map(String.init).joined(separator: ", ") }
}

/// The figures of a `SeedStudy`: `values[s][f]` is figure f of seed s.
public struct SeedResults {
    public let seeds: [UInt64]
    public let values: [[Double]]

    /// Figure `f` over the seeds.
    public func figure(_ f: Int) -> [Double] { values.map { $0[f] } }

    /// The mean of figure `f` over the seeds.
    public func mean(_ f: Int) -> Double { figure(f).reduce(0, +) / Double(Swift.max(1, values.count)) }

    /// Every figure as "mean ± sd", for a table row.
    public func row(digits: Int = 3) -> [String] {
        (0..<(values.first?.count ?? 0)).map { meanAndSD(figure($0), digits: digits) }
    }
}
