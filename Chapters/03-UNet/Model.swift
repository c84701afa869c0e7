// Chapter 3's configuration and weight cache: train a UNet with the library's DDPMTrainer
// (Sources/Diffusion/Training.swift), or load the weights cached for the same configuration.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

struct UNetConfig: CustomStringConvertible {
    var channels: Int
    var useSkips: Bool
    var size: Int
    var steps: Int
    var batch: Int
    var learningRate: Float
    var emaDecay: Float
    var seed: UInt64

    var description: String {
        "unet c=\(channels) skips=\(useSkips) size=\(size) steps=\(steps) batch=\(batch) lr=\(learningRate) "
            + "ema=\(emaDecay) seed=\(seed) schedule=linear"
    }

    /// The weights' cache name, e.g. `unet-1a2b3c4d` (ChapterKit's `configurationHash`).
    var key: String { "unet-" + configurationHash(description) }
}

struct TrainedUNet {
    let model: UNet
    let losses: [Float]
    let seconds: Double
    let fromCache: Bool
    let path: String
}

/// Fresh Shapes images for every step, drawn from the trainer's generator.
func shapesBatch(size: Int, count: Int) -> (inout RandomGenerator) -> Tensor {
    let data = ShapesDataset(size: size, seed: 0)
    return { rng in data.batch(count, using: &rng).images }  // [count, 3, size, size] in −1…1
}

func trainOrLoad(_ config: UNetConfig, directory: String, retrain: Bool, quiet: Bool = false) throws -> TrainedUNet {
    var rng = RandomGenerator(seed: config.seed)
    let model = UNet(channels: config.channels, useSkips: config.useSkips, using: &rng)
    let path = (directory as NSString).appendingPathComponent(config.key + ".safetensors")
    let lossPath = (directory as NSString).appendingPathComponent(config.key + "-loss.csv")
    if !retrain, FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: lossPath) {
        let metadata = try model.load(from: path)
        let text = try String(contentsOfFile: lossPath, encoding: .utf8)
        let losses = text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Float(String($0)) } }
        return TrainedUNet(model: model, losses: losses, seconds: Double(metadata["train_seconds"] ?? "") ?? .nan,
                           fromCache: true, path: path)
    }
    let options = TrainingOptions(steps: config.steps, learningRate: config.learningRate, emaDecay: config.emaDecay)
    let bar = quiet ? nil : ProgressBar(total: config.steps, label: config.useSkips ? "train UNet" : "train UNet (no skips)")
    var recent: [Float] = []
    let start = Date()
    let losses = try DDPMTrainer.train(model, predictor: model.predictor, schedule: .linear(), options: options,
                                       seed: config.seed &+ 1, batch: shapesBatch(size: config.size, count: config.batch)) { step, loss in
        recent.append(loss)
        if recent.count > 100 { recent.removeFirst() }
        if step % 10 == 0 || step == config.steps {
            bar?.update(step: step, metrics: [("loss", Double(recent.reduce(0, +) / Float(recent.count)))])
        }
    }
    bar?.finish()
    let seconds = Date().timeIntervalSince(start)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try model.save(to: path, metadata: ["config": config.description, "train_seconds": String(seconds)])
    try writeCSV(lossPath, header: ["step", "loss"], rows: losses.enumerated().map { [Double($0.offset + 1), Double($0.element)] })
    return TrainedUNet(model: model, losses: losses, seconds: seconds, fromCache: false, path: path)
}
