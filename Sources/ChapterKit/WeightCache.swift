// Recipes and the weight cache. A chapter describes what decides its trained weights as one value,
// its `Recipe` (the architecture, the data, every training option, the seed), and asks for a model
// trained by that recipe: the first run trains it and saves two files in the output folder,
// `<name>-<key>.safetensors` (the weights, with the recipe and the training time in the metadata)
// and `<name>-<key>-loss.csv` (every step's loss); a later run with the same recipe loads them in
// seconds.
//
// The key is a hash of every stored property of the recipe (read by reflection, so a field cannot
// be left out), of the model's parameter names and shapes, and of `WeightsVersion.current`, which a
// change to the training or model code bumps. On load the recipe stored in the file is compared
// with the one asked for: a cache that does not match, or whose loss log is missing or damaged, is
// trained again with a one-line notice; `--load FILE` of a file trained otherwise is an error that
// names the differing flag. Weights that do not fit the model, or hold NaN or infinity, are refused,
// and so are weights whose numbers no longer match the checksum saved with them (a damaged file:
// finite garbage would otherwise load and sample nonsense without a word).

import Diffusion
import Foundation
import Imaging
import NN

/// Everything that decides a model's trained weights, and how to build and train that model.
public protocol Recipe: Codable, Equatable {
    associatedtype Model: Module
    /// The cache files' prefix, e.g. "unet".
    var name: String { get }
    /// Training steps (for the progress bar and the loss log's length).
    var trainingSteps: Int { get }
    /// The command-line flag of each setting that has one, by its path: `["training.steps": "--train-steps"]`.
    static var flags: [String: String] { get }
    /// A fresh, untrained model (initialised from the recipe's seed).
    func makeModel() -> Model
    /// Trains `model` in place, calling `progress(step, loss)` after every step; returns every step's loss.
    func train(_ model: Model, progress: @escaping (Int, Float) -> Void) throws -> [Float]
}

extension Recipe {
    /// Every stored setting as (path, value), nested values flattened with dots: `training.steps = 1500`.
    public var settings: [(path: String, value: String)] { flattenSettings(self, prefix: "") }

    /// The settings on one line, for the report: "channels=32 training.steps=1500 …".
    public var summary: String { settings.map { "\($0.path)=\($0.value)" }.joined(separator: " ") }

    /// The cache name of this recipe's weights for `model`: `<name>-<16 hex digits>`.
    public func key(for model: Model) -> String {
        let layout = model.namedParameters.map { "\($0.name)\($0.tensor.shape)" }.joined(separator: ",")
        return name + "-" + configurationHash("\(summary)\nweights-version=\(WeightsVersion.current)\nlayout=\(layout)")
    }

    /// The settings in which `other` differs from this recipe, named by flag where there is one:
    /// `["--train-steps 40 (this run: 1500)", "text width 16 (this run: 64)"]`.
    public func differences(from other: Self) -> [String] {
        let mine = Dictionary(settings, uniquingKeysWith: { a, _ in a })
        return other.settings.compactMap { path, value in
            guard mine[path] != value else { return nil }
            let label = Self.flags[path] ?? path
            return "\(label) \(value) (this run: \(mine[path] ?? "none"))"
        }
    }

    /// The model trained by this recipe: loaded from `directory` if cached there (and `retrain` is
    /// false), else trained under a progress bar labelled `label` (none if nil) and cached.
    /// `metadata` is saved in the weights file too.
    ///
    /// `alsoIn` lists other folders to load a sound cached copy from first (chapter 8 reuses chapter
    /// 2's weights; a copy there that is stale or damaged is passed over and left alone). `training`,
    /// if given, trains in place of the recipe's `train` (a distillation round, which needs its teacher).
    public func trainOrLoad(in directory: String, alsoIn others: [String] = [], retrain: Bool, label: String?,
                            metadata extra: [String: String] = [:],
                            training: ((Model, @escaping (Int, Float) -> Void) throws -> [Float])? = nil)
        throws -> (model: Model, record: TrainingRecord) {
        let model = makeModel()
        let key = key(for: model)
        if !retrain {
            for other in others where other != directory {
                let (path, lossPath) = cacheFiles(key, in: other)
                if FileManager.default.fileExists(atPath: path), case .loaded(let record) = cached(model, path: path, lossPath: lossPath) {
                    return (model, record)
                }
            }
        }
        let (path, lossPath) = cacheFiles(key, in: directory)
        if !retrain, FileManager.default.fileExists(atPath: path) {
            switch cached(model, path: path, lossPath: lossPath) {
            case .loaded(let record): return (model, record)
            case .stale(let why): print("note: \(why); training anew")
            case .broken(let error): throw CacheError(path: path, underlying: error)
            }
        }
        let bar = label.map { ProgressBar(total: trainingSteps, label: $0) }
        var recent: [Float] = []
        let steps = trainingSteps
        let start = Date()
        let losses = try (training ?? train)(model) { step, loss in
            recent.append(loss)
            if recent.count > 100 { recent.removeFirst() }
            if step % 10 == 0 || step == steps {
                bar?.update(step: step, metrics: [("loss", Double(recent.reduce(0, +) / Float(recent.count)))])
            }
        }
        bar?.finish()
        let seconds = Date().timeIntervalSince(start)
        let recipe = String(decoding: try JSONEncoder.sorted.encode(self), as: UTF8.self)
        let checksum = weightsChecksum(model.namedParameters.map { ($0.name, $0.tensor.data) })
        try model.save(to: path, metadata: extra.merging(["recipe": recipe, "weights_version": String(WeightsVersion.current),
                                                           "train_seconds": String(seconds), "weights_checksum": checksum]) { _, ours in ours })
        try writeCSV(lossPath, header: ["step", "loss"], rows: losses.enumerated().map { [String($0.offset + 1), "\($0.element)"] })
        return (model, TrainingRecord(losses: losses, seconds: seconds, fromCache: false, path: path))
    }

    /// The model this recipe trained earlier, if its weights are cached in `directory` and sound;
    /// nil (and nothing said) otherwise. For `--mine`, which shows the library's samples beside the
    /// learner's only when the library's model is already on disk.
    public func cachedModel(in directory: String) -> Model? {
        let model = makeModel()
        let key = key(for: model)
        let (path, lossPath) = cacheFiles(key, in: directory)
        guard FileManager.default.fileExists(atPath: path), case .loaded = cached(model, path: path, lossPath: lossPath) else { return nil }
        return model
    }

    /// A fresh model trained by `train` under a progress bar, and never cached: for `--mine`, where
    /// the learner's code (which the key cannot see) does part of the training.
    public func trainUncached(label: String, _ train: (Model, @escaping (Int, Float) -> Void) throws -> [Float])
        throws -> (model: Model, record: TrainingRecord) {
        let model = makeModel()
        let bar = ProgressBar(total: trainingSteps, label: label)
        let steps = trainingSteps
        let start = Date()
        let losses = try train(model) { step, loss in
            if step % 10 == 0 || step == steps { bar.update(step: step, metrics: [("loss", Double(loss))]) }
        }
        bar.finish()
        return (model, TrainingRecord(losses: losses, seconds: Date().timeIntervalSince(start), fromCache: false, path: "(not saved)"))
    }

    /// The model in the weights file `path` (`--load`), which must have been trained by this very
    /// recipe: a file trained with other settings is an error that names them. Its loss log is
    /// read if it lies beside it (else the record has no losses).
    public func load(from path: String) throws -> (model: Model, record: TrainingRecord) {
        let model = makeModel()
        let (arrays, metadata) = try SafeTensors.read(from: path)
        guard let json = metadata["recipe"] else {
            throw LoadError(path: path, problem: "it holds no recipe, so it was not saved by this chapter")
        }
        guard let stored = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)) else {
            throw LoadError(path: path, problem: "its recipe is not this chapter's (saved by another chapter or an older version)")
        }
        if stored != self {
            throw LoadError(path: path, problem: "it was trained with " + differences(from: stored).joined(separator: ", ")
                            + "; run with the flags it was trained with")
        }
        // (A file without a checksum is loaded: it may come from elsewhere; a mismatch never is.)
        if let saved = metadata["weights_checksum"], weightsChecksum(arrays.map { ($0.name, $0.values) }) != saved {
            throw LoadError(path: path, problem: WeightsChecksumMismatch().description)
        }
        try model.load(from: path)
        let lossPath = String(path.dropLast(".safetensors".count)) + "-loss.csv"
        let losses = path.hasSuffix(".safetensors") ? (readLossLog(lossPath, steps: trainingSteps) ?? []) : []
        return (model, TrainingRecord(losses: losses, seconds: Double(metadata["train_seconds"] ?? "") ?? .nan,
                                      fromCache: true, path: path))
    }

    /// The two files of the cache entry `key` in `directory`: the weights and the loss log.
    private func cacheFiles(_ key: String, in directory: String) -> (weights: String, lossLog: String) {
        ((directory as NSString).appendingPathComponent(key + ".safetensors"),
         (directory as NSString).appendingPathComponent(key + "-loss.csv"))
    }

    private func cached(_ model: Model, path: String, lossPath: String) -> CacheLookup {
        let arrays: [NamedArray], metadata: [String: String]
        do {
            (arrays, metadata) = try SafeTensors.read(from: path)
        } catch {
            return .broken(error)
        }
        guard let json = metadata["recipe"], let stored = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)) else {
            return .stale("cached weights \(path) hold no recipe this version can read")
        }
        guard stored == self else {
            return .stale("cached weights \(path) were trained with " + differences(from: stored).joined(separator: ", "))
        }
        guard let losses = readLossLog(lossPath, steps: trainingSteps) else {
            return .stale("the loss log \(lossPath) beside cached weights is missing or damaged")
        }
        guard let saved = metadata["weights_checksum"] else {
            return .stale("cached weights \(path) hold no checksum (saved by an older version)")
        }
        guard weightsChecksum(arrays.map { ($0.name, $0.values) }) == saved else { return .broken(WeightsChecksumMismatch()) }
        do {
            try model.load(from: path)
        } catch {
            return .broken(error)
        }
        return .loaded(TrainingRecord(losses: losses, seconds: Double(metadata["train_seconds"] ?? "") ?? .nan,
                                      fromCache: true, path: path))
    }
}

/// A checksum of a model's weights (64-bit FNV-1a over each tensor's name and the bits of its
/// values, tensors in name order), saved with cached weights and checked before they are loaded.
func weightsChecksum(_ tensors: [(name: String, values: [Float])]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    @inline(__always) func mix(_ word: UInt64) { h = (h ^ word) &* 0x100_0000_01b3 }
    for (name, values) in tensors.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
        for byte in name.utf8 { mix(UInt64(byte)) }
        for v in values { mix(UInt64(v.bitPattern)) }
    }
    return String(format: "%016llx", h)
}

/// Weights whose numbers differ from the checksum saved with them.
struct WeightsChecksumMismatch: Error, CustomStringConvertible {
    var description: String { "the numbers in the file do not match the checksum saved with them: the file is damaged" }
}

private enum CacheLookup {
    case loaded(TrainingRecord)
    case stale(String)
    case broken(Error)
}

/// Reads a loss log written by `trainOrLoad`: the header `step,loss`, then exactly `steps` rows
/// `n,loss` with n = 1, 2, … and a finite loss. Anything else (missing, empty, garbled, short) is nil.
func readLossLog(_ path: String, steps: Int) -> [Float]? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
    guard lines.first == "step,loss", lines.count == steps + 1 else { return nil }
    var losses: [Float] = []
    losses.reserveCapacity(steps)
    for (i, line) in lines.dropFirst().enumerated() {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false)
        guard cells.count == 2, Int(cells[0]) == i + 1, let loss = Float(cells[1]), loss.isFinite else { return nil }
        losses.append(loss)
    }
    return losses
}

/// Flattens a value's stored properties by reflection: structs recurse with dotted paths, optionals
/// unwrap, everything else (numbers, strings, enums, arrays) is its description.
func flattenSettings(_ value: Any, prefix: String) -> [(path: String, value: String)] {
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .struct?, .class?:
        guard !mirror.children.isEmpty else { return [(prefix, "\(value)")] }
        return mirror.children.flatMap { child -> [(path: String, value: String)] in
            let label = child.label ?? "?"
            return flattenSettings(child.value, prefix: prefix.isEmpty ? label : prefix + "." + label)
        }
    case .optional?:
        guard let child = mirror.children.first else { return [(prefix, "none")] }
        return flattenSettings(child.value, prefix: prefix)
    default:
        return [(prefix, "\(value)")]
    }
}

extension JSONEncoder {
    /// An encoder whose output depends only on the value: keys sorted.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// What training (or the cache) gave back.
public struct TrainingRecord {
    public let losses: [Float]
    public let seconds: Double
    public let fromCache: Bool
    /// The weights file.
    public let path: String
    public var fileName: String { (path as NSString).lastPathComponent }
    public init(losses: [Float], seconds: Double, fromCache: Bool, path: String) {
        self.losses = losses; self.seconds = seconds; self.fromCache = fromCache; self.path = path
    }

    /// Milliseconds per training step.
    public var millisecondsPerStep: Double { seconds * 1000 / Double(Swift.max(1, losses.count)) }
}

/// A cached weights file that could not be read, or does not fit the model asking for it.
public struct CacheError: Error, CustomStringConvertible {
    public let path: String
    public let underlying: Error
    public var description: String {
        "cached weights \(path) do not load (\(reason(underlying))); delete the file or run with --retrain"
    }
}

/// A weights file given with `--load` that this run cannot use.
public struct LoadError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "--load \(path): \(problem)" }
}

/// A running mean over the last `window` values, for loss curves.
public func runningMean(_ values: [Float], window: Int) -> [Double] {
    var out: [Double] = []
    out.reserveCapacity(values.count)
    var sum = 0.0
    for (i, v) in values.enumerated() {
        sum += Double(v)
        if i >= window { sum -= Double(values[i - window]) }
        out.append(sum / Double(Swift.min(i + 1, window)))
    }
    return out
}

/// A loss curve's running mean, with its value after the first window and at the end.
public struct LossCurve {
    public let smoothed: [Double]
    public let window: Int

    public init(smoothed: [Double], window: Int) {
        self.smoothed = smoothed
        self.window = window
    }
    /// The running mean once the first window is full (NaN with no losses).
    public var first: Double { smoothed.isEmpty ? .nan : smoothed[Swift.min(window, smoothed.count) - 1] }
    /// The running mean at the last step (NaN with no losses).
    public var last: Double { smoothed.last ?? .nan }
}

extension Notebook {
    /// The training-loss figure every training chapter shows: each step's loss (light) and its running
    /// mean (dark) on a log scale, saved as `name` (`loss.png` unless a chapter trains two models). With
    /// no losses (weights given by `--load` without their log) it says so instead.
    @discardableResult
    public func lossFigure(_ losses: [Float], window maxWindow: Int = 100, name: String = "loss.png", title: String = "Training loss") -> LossCurve {
        let window = Swift.max(1, Swift.min(maxWindow, losses.count / 10))
        let curve = LossCurve(smoothed: runningMean(losses, window: window), window: window)
        guard !losses.isEmpty else {
            say("(No loss log beside these weights, so no loss figure.)")
            return curve
        }
        var plot = Plot(title: title, xLabel: "step", yLabel: "loss (log scale)", width: 640, height: 400,
                        logY: true, legend: .topRight)
        plot.line("per step", y: losses.map(Double.init), color: Color(180, 190, 215), thickness: 1)
        plot.line("mean of last \(window)", y: curve.smoothed, color: Color(30, 60, 160))
        figure(plot, name: name, caption: "The loss of every step (light) and its running mean over \(window) steps (dark)")
        return curve
    }
}
