// The measurement cache. Some of a chapter's tables take minutes to measure (chapter 8 samples the same
// trained networks thousands of times), yet depend on nothing but weights that are themselves cached and
// on the run's settings. Such a measurement is saved in the output folder as `<name>-<key>.safetensors`:
// its numbers as named tensors, and in the metadata the full description it was keyed on and how long
// it took. The key hashes the description, which must name everything the numbers depend on (the
// weights' own cache keys, the samplers, the sample counts, the seed) and `MeasurementVersion.current`,
// which a change to the measuring code bumps. A file whose stored description differs is measured again
// with a one-line notice; a damaged one is an error naming the file, never a silent reload.

import Foundation
import NN
import Tensor

/// Bump when code that produces a cached measurement changes its numbers (a sampler, a metric).
public enum MeasurementVersion {
    public static let current = 1
}

/// Named tensors measured now or read back from the measurement cache, and how long measuring took.
public struct MeasuredValues {
    public let values: [String: Tensor]
    /// The measuring's wall time (of the run that measured, if read from the cache).
    public let seconds: Double
    public let fromCache: Bool
    public let path: String

    /// The tensor called `name`; a cache file that lacks it was not written by this code (an error).
    public func callAsFunction(_ name: String) throws -> Tensor {
        guard let value = values[name] else { throw MeasurementCacheError(path: path, problem: "it holds no measurement named \(name)") }
        return value
    }
}

/// A cached measurement that does not read back; `description` names the file and what to do.
public struct MeasurementCacheError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "cached measurement \(path) does not load (\(problem)); delete the file or run with --retrain" }
}

/// The tensors `measure` returns, measured now or, when `directory` holds a measurement cached under
/// the same `description` (and `remeasure` is false), read from there. `description` must name
/// everything the numbers depend on; `name` prefixes the file. A cached file that is damaged throws
/// `MeasurementCacheError` (which names it); one whose description differs is measured again with a notice.
public func measureOrLoad(_ name: String, description: String, in directory: String, remeasure: Bool,
                          _ measure: () throws -> [String: Tensor]) throws -> MeasuredValues {
    let full = "\(description)\nmeasurement-version=\(MeasurementVersion.current)"
    let path = (directory as NSString).appendingPathComponent("\(name)-\(configurationHash(full)).safetensors")
    if !remeasure, FileManager.default.fileExists(atPath: path) {
        let file: (tensors: [NamedArray], metadata: [String: String])
        do { file = try SafeTensors.read(from: path) } catch { throw MeasurementCacheError(path: path, problem: reason(error)) }
        if file.metadata["measurement"] == full, let seconds = Double(file.metadata["seconds"] ?? "") {
            let values = Dictionary(file.tensors.map { ($0.name, Tensor($0.values, shape: $0.shape)) }, uniquingKeysWith: { a, _ in a })
            if values.values.allSatisfy({ $0.data.allSatisfy(\.isFinite) }) {
                return MeasuredValues(values: values, seconds: seconds, fromCache: true, path: path)
            }
        }
        print("note: the cached measurement \(path) was made with other settings or holds damaged numbers; measuring anew")
    }
    let start = Date()
    let values = try measure()
    let seconds = Date().timeIntervalSince(start)
    try SafeTensors.write(values.map { NamedArray(name: $0.key, shape: $0.value.shape, values: $0.value.data) },
                          metadata: ["measurement": full, "seconds": String(seconds)], to: path)
    return MeasuredValues(values: values, seconds: seconds, fromCache: false, path: path)
}
