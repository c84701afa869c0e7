// Trained weights cached by configuration in a chapter's output folder, so a rerun samples in
// seconds: `<key>.safetensors` (the weights, with the training time in its metadata) and
// `<key>-loss.csv` (the loss of every step, for the loss figure).

import Foundation
import Imaging
import NN

/// What training (or the cache) gave back. The model passed to `trainOrLoad` holds the weights.
public struct TrainingRecord {
    public let losses: [Float]
    public let seconds: Double
    public let fromCache: Bool
    /// The weights file.
    public let path: String
    public var fileName: String { (path as NSString).lastPathComponent }
    /// Milliseconds per training step (NaN when loaded from an old cache without the time).
    public var millisecondsPerStep: Double { seconds * 1000 / Double(Swift.max(1, losses.count)) }
}

/// Loads `model`'s weights from `directory/<key>.safetensors` if that file and its loss log exist
/// (and `retrain` is false); otherwise calls `train` — which trains `model` in place, calling
/// `progress(step, loss)` after each step, and returns every step's loss — under a progress bar
/// labelled `label` (none if nil), then saves both files (the weights by write-then-rename).
/// A cache file that does not fit `model` is an error naming the file, not a silent retrain.
/// `metadata` is saved in the weights file too (chapter 6 records what its network predicts there).
public func trainOrLoad(_ model: Module, key: String, directory: String, retrain: Bool, steps: Int, label: String?,
                        metadata extra: [String: String] = [:],
                        train: (_ progress: @escaping (Int, Float) -> Void) throws -> [Float]) throws -> TrainingRecord {
    let path = (directory as NSString).appendingPathComponent(key + ".safetensors")
    let lossPath = (directory as NSString).appendingPathComponent(key + "-loss.csv")
    let files = FileManager.default
    if !retrain, files.fileExists(atPath: path), files.fileExists(atPath: lossPath) {
        let metadata: [String: String]
        do {
            metadata = try model.load(from: path)
        } catch {
            throw CacheError(path: path, underlying: error)
        }
        let text = try String(contentsOfFile: lossPath, encoding: .utf8)
        let losses = text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Float(String($0)) } }
        return TrainingRecord(losses: losses, seconds: Double(metadata["train_seconds"] ?? "") ?? .nan, fromCache: true, path: path)
    }
    let bar = label.map { ProgressBar(total: steps, label: $0) }
    var recent: [Float] = []
    let start = Date()
    let losses = try train { step, loss in
        recent.append(loss)
        if recent.count > 100 { recent.removeFirst() }
        if step % 10 == 0 || step == steps {
            bar?.update(step: step, metrics: [("loss", Double(recent.reduce(0, +) / Float(recent.count)))])
        }
    }
    bar?.finish()
    let seconds = Date().timeIntervalSince(start)
    try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try model.save(to: path, metadata: extra.merging(["config": key, "train_seconds": String(seconds)]) { _, ours in ours })
    try writeCSV(lossPath, header: ["step", "loss"], rows: losses.enumerated().map { [Double($0.offset + 1), Double($0.element)] })
    return TrainingRecord(losses: losses, seconds: seconds, fromCache: false, path: path)
}

/// A cached weights file that could not be loaded into the model asking for it.
public struct CacheError: Error, CustomStringConvertible {
    public let path: String
    public let underlying: Error
    public var description: String {
        "cached weights \(path) do not load (\(underlying)); delete the file or run with --retrain"
    }
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

extension Notebook {
    /// The training-loss figure every training chapter shows: each step's loss (light) and its running
    /// mean (dark) on a log scale, saved as `loss.png`. Returns the running mean and its window.
    @discardableResult
    public func lossFigure(_ losses: [Float], window maxWindow: Int = 100) throws -> (smoothed: [Double], window: Int) {
        let window = Swift.max(1, Swift.min(maxWindow, losses.count / 10))
        let smoothed = runningMean(losses, window: window)
        var plot = Plot(title: "Training loss", xLabel: "step", yLabel: "loss (log scale)", width: 640, height: 400,
                        logY: true, legend: .topRight)
        plot.line("per step", y: losses.map(Double.init), color: Color(180, 190, 215), thickness: 1)
        plot.line("mean of last \(window)", y: smoothed, color: Color(30, 60, 160))
        try figure(plot, name: "loss.png", caption: "The loss of every step (light) and its running mean over \(window) steps (dark)")
        return (smoothed, window)
    }
}
