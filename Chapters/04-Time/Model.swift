// Chapter 4's configuration and weight cache: train the library's `TimeUNet`
// (Sources/Diffusion/TimeEmbedding.swift) with `DDPMTrainer` (Sources/Diffusion/Training.swift), or
// load the weights cached for the same configuration (ChapterKit's `trainOrLoad`).

import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

struct TimeConfig: CustomStringConvertible {
    var conditioning: TimeConditioning
    var channels: Int
    var size: Int
    var steps: Int
    var batch: Int
    var learningRate: Float
    var emaDecay: Float
    var seed: UInt64

    var description: String {
        "time-unet t=\(conditioning.rawValue) c=\(channels) size=\(size) steps=\(steps) batch=\(batch) lr=\(learningRate) "
            + "ema=\(emaDecay) seed=\(seed) schedule=linear"
    }

    /// The weights' cache name, e.g. `time-sinusoidal-1a2b3c4d`.
    var key: String { "time-\(conditioning.rawValue)-" + configurationHash(description) }
}

/// Fresh Shapes images for every step, drawn from the trainer's generator.
func shapesBatch(size: Int, count: Int) -> (inout RandomGenerator) -> Tensor {
    let data = ShapesDataset(size: size, seed: 0)
    return { rng in data.batch(count, using: &rng).images }  // [count, 3, size, size] in −1…1
}

func trainOrLoad(_ config: TimeConfig, directory: String, retrain: Bool, quiet: Bool = false) throws -> (TimeUNet, TrainingRecord) {
    var rng = RandomGenerator(seed: config.seed)
    let model = TimeUNet(channels: config.channels, conditioning: config.conditioning, using: &rng)
    let options = TrainingOptions(steps: config.steps, learningRate: config.learningRate, emaDecay: config.emaDecay)
    let record = try trainOrLoad(model, key: config.key, directory: directory, retrain: retrain, steps: config.steps,
                                 label: quiet ? nil : "train (t: \(config.conditioning.rawValue), seed \(config.seed))") { progress in
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .linear(), options: options, seed: config.seed &+ 1,
                              batch: shapesBatch(size: config.size, count: config.batch), progress: progress)
    }
    return (model, record)
}
