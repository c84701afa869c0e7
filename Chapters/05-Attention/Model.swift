// Chapter 5's configuration and weight cache: train the library's `TimeUNet` with self-attention
// (or its pointwise control) on the paired Shapes (Sources/Datasets/PairedShapes.swift), or load
// the weights cached for the same configuration (ChapterKit's `trainOrLoad`).

import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

struct AttentionConfig: CustomStringConvertible {
    var mixing: PositionMixing
    var channels: Int
    var heads: Int
    var steps: Int
    var batch: Int
    var learningRate: Float
    var emaDecay: Float
    var seed: UInt64

    var description: String {
        "paired-unet mixing=\(mixing.rawValue) c=\(channels) heads=\(heads) steps=\(steps) batch=\(batch) lr=\(learningRate) "
            + "ema=\(emaDecay) seed=\(seed) schedule=linear t=sinusoidal"
    }

    var key: String { "paired-\(mixing.rawValue)-" + configurationHash(description) }
}

/// Fresh paired images every step, from the trainer's generator.
func pairedBatch(count: Int) -> (inout RandomGenerator) -> Tensor {
    let data = PairedShapesDataset()
    return { rng in data.batch(count, using: &rng).images }  // [count, 3, 16, 16]
}

func makeModel(_ config: AttentionConfig) -> TimeUNet {
    var rng = RandomGenerator(seed: config.seed)
    return TimeUNet(channels: config.channels, conditioning: .sinusoidal, mixing: config.mixing, heads: config.heads, using: &rng)
}

func trainOrLoad(_ config: AttentionConfig, directory: String, retrain: Bool) throws -> (TimeUNet, TrainingRecord) {
    let model = makeModel(config)
    let options = TrainingOptions(steps: config.steps, learningRate: config.learningRate, emaDecay: config.emaDecay)
    let record = try trainOrLoad(model, key: config.key, directory: directory, retrain: retrain, steps: config.steps,
                                 label: "train (\(config.mixing.rawValue), seed \(config.seed))") { progress in
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .linear(), options: options, seed: config.seed &+ 1,
                              batch: pairedBatch(count: config.batch), progress: progress)
    }
    return (model, record)
}
