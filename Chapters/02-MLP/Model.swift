// Chapter 2's configuration and weight cache: train the library's `NoiseMLP`
// (Sources/Diffusion/NoiseMLP.swift) with `DDPMTrainer` (Sources/Diffusion/Training.swift), or load
// the weights cached for the same configuration (ChapterKit's `trainOrLoad`).

import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

/// Everything that decides the trained weights; its `key` names the cache file.
struct TrainConfig: CustomStringConvertible {
    var dataset: Toy2D
    var schedule: NoiseSchedule.Kind
    var width: Int
    var depth: Int
    var steps: Int
    var batch: Int
    var learningRate: Float
    var emaDecay: Float   // 0: no EMA
    var seed: UInt64

    var description: String {
        "\(dataset.rawValue) \(schedule.rawValue) width=\(width) depth=\(depth) steps=\(steps) batch=\(batch) "
            + "lr=\(learningRate) ema=\(emaDecay) seed=\(seed) trainer=DDPMTrainer"
    }

    /// The weights' cache name, e.g. `mlp-moons-1a2b3c4d` (ChapterKit's `configurationHash`).
    var key: String { "mlp-\(dataset.rawValue)-" + configurationHash(description) }
}

/// Trains by Algorithm 1 on fresh data every step — or loads the weights cached for this exact
/// configuration from `directory`. Adam with a linear warm-up over the first 5 % of steps and a
/// cosine decay to 0, gradients clipped to norm 1; the EMA of the weights is what is saved and
/// sampled from. Throws `TrainingDiverged` as soon as a loss is not finite.
func trainOrLoad(_ config: TrainConfig, directory: String, retrain: Bool, quiet: Bool = false) throws -> (NoiseMLP, TrainingRecord) {
    var rng = RandomGenerator(seed: config.seed)
    let model = NoiseMLP(width: config.width, depth: config.depth, steps: 1000, using: &rng)
    let options = TrainingOptions(steps: config.steps, learningRate: config.learningRate, emaDecay: config.emaDecay)
    let record = try trainOrLoad(model, key: config.key, directory: directory, retrain: retrain, steps: config.steps,
                                 label: quiet ? nil : "train \(config.dataset.rawValue)") { progress in
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .named(config.schedule), options: options,
                              seed: config.seed &+ 1, batch: { rng in config.dataset.sample(config.batch, using: &rng) },
                              progress: progress)
    }
    return (model, record)
}
