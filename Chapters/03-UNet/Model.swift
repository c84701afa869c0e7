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

/// Fresh Shapes images for every step, drawn from the trainer's generator.
func shapesBatch(size: Int, count: Int) -> (inout RandomGenerator) -> Tensor {
    let data = ShapesDataset(size: size, seed: 0)
    return { rng in data.batch(count, using: &rng).images }  // [count, 3, size, size] in −1…1
}

/// A UNet for `config`, trained by the library's `DDPMTrainer` or loaded from the cache (ChapterKit's `trainOrLoad`).
func trainOrLoad(_ config: UNetConfig, directory: String, retrain: Bool, quiet: Bool = false) throws -> (UNet, TrainingRecord) {
    var rng = RandomGenerator(seed: config.seed)
    let model = UNet(channels: config.channels, useSkips: config.useSkips, using: &rng)
    let options = TrainingOptions(steps: config.steps, learningRate: config.learningRate, emaDecay: config.emaDecay)
    let record = try trainOrLoad(model, key: config.key, directory: directory, retrain: retrain, steps: config.steps,
                                 label: quiet ? nil : config.useSkips ? "train UNet" : "train UNet (no skips)") { progress in
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .linear(), options: options, seed: config.seed &+ 1,
                              batch: shapesBatch(size: config.size, count: config.batch), progress: progress)
    }
    return (model, record)
}
