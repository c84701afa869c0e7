// The chapter's network and its training loop: an MLP ε_θ(x_t, t) for 2-D points, trained by
// DDPM's Algorithm 1 (`DDPM.trainingLoss` in Sources/Diffusion/DDPM.swift), with its weights cached
// by configuration in the output folder.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import Imaging
import NN
import Tensor

/// ε_θ(x_t, t) for 2-D points: an MLP on [x, y, t/T] with SiLU between layers.
/// ```
/// [B, 3] -> Linear(3, w) -> SiLU -> (Linear(w, w) -> SiLU) × (depth − 1) -> Linear(w, 2) -> [B, 2]
/// ```
/// t enters only as one plain number, t/T in [0, 1): the network must learn for itself how the
/// answer changes with the noise level. (Chapter 4 gives it a richer view of t.)
struct NoiseMLP: Module {
    let net: Sequential
    let steps: Int

    init(width: Int, depth: Int, steps: Int, using rng: inout RandomGenerator) {
        var layers: [any Layer] = [Linear(3, width, using: &rng), SiLU()]
        for _ in 1..<depth { layers += [Linear(width, width, using: &rng), SiLU()] }
        layers.append(Linear(width, 2, using: &rng))
        net = Sequential(layers)
        self.steps = steps
    }

    var namedParameters: [(name: String, tensor: Tensor)] { scoped("net", net) }

    /// The predicted noise for points `x` `[B, 2]` at steps `t` (B of them).
    func callAsFunction(_ x: Tensor, _ t: [Int]) -> Tensor {
        let time = Tensor(t.map { Float($0) / Float(steps) }, shape: [t.count, 1])  // t/T, [B, 1]
        return net(Tensor.concat([x, time], axis: 1))                               // [B, 2] ++ [B, 1] -> [B, 3] -> [B, 2]
    }
}

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
            + "lr=\(learningRate) ema=\(emaDecay) seed=\(seed)"
    }

    /// The weights' cache name, e.g. `mlp-moons-1a2b3c4d` (ChapterKit's `configurationHash`).
    var key: String { "mlp-\(dataset.rawValue)-" + configurationHash(description) }
}

/// What training (or the cache) gives back.
struct Trained {
    let model: NoiseMLP
    let losses: [Float]
    let seconds: Double
    let fromCache: Bool
    let path: String
}

struct DivergedError: Error, CustomStringConvertible {
    let step: Int
    let loss: Float
    var description: String {
        "training diverged: the loss became \(loss) at step \(step). Try a smaller --lr (or more warm-up)."
    }
}

/// Trains by Algorithm 1 on fresh data every step — or loads the weights cached for this exact
/// configuration from `directory`. Adam with a linear warm-up over the first 5 % of steps and a
/// cosine decay to 0, gradients clipped to norm 1; the EMA of the weights is what is saved and
/// sampled from. Stops with `DivergedError` as soon as a loss is not finite.
func trainOrLoad(_ config: TrainConfig, directory: String, retrain: Bool, quiet: Bool = false) throws -> Trained {
    var rng = RandomGenerator(seed: config.seed)
    let model = NoiseMLP(width: config.width, depth: config.depth, steps: 1000, using: &rng)
    let path = (directory as NSString).appendingPathComponent(config.key + ".safetensors")
    let lossPath = (directory as NSString).appendingPathComponent(config.key + "-loss.csv")
    if !retrain, FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: lossPath) {
        let metadata = try model.load(from: path)
        let text = try String(contentsOfFile: lossPath, encoding: .utf8)
        let losses = text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Float(String($0)) } }
        return Trained(model: model, losses: losses, seconds: Double(metadata["train_seconds"] ?? "") ?? .nan,
                       fromCache: true, path: path)
    }

    let schedule = NoiseSchedule.named(config.schedule)
    let optimizer = Adam(model.parameters, learningRate: config.learningRate)
    let ema = config.emaDecay > 0 ? EMA(model.parameters, maxDecay: config.emaDecay) : nil
    let predictor: NoisePredictor = { x, t in model(x, t) }
    let warmup = max(1, config.steps / 20)
    var losses: [Float] = []
    losses.reserveCapacity(config.steps)
    let bar = quiet ? nil : ProgressBar(total: config.steps, label: "train \(config.dataset.rawValue)")
    let start = Date()
    for step in 1...config.steps {
        let progress = Double(step - 1) / Double(config.steps)
        optimizer.learningRate = config.learningRate
            * Float(step <= warmup ? Double(step) / Double(warmup) : 0.5 * (1 + cos(Double.pi * progress)))
        let x0 = config.dataset.sample(config.batch, using: &rng)                // [B, 2], fresh data each step
        let loss = DDPM.trainingLoss(predictor, x0: x0, schedule: schedule, using: &rng)
        let value = loss.item
        guard value.isFinite else { throw DivergedError(step: step, loss: value) }
        model.zeroGrad()
        loss.backward()
        clipGradientNorm(model.parameters, maxNorm: 1)
        optimizer.step()
        ema?.update()
        losses.append(value)
        if step % 25 == 0 || step == config.steps {
            let recent = losses.suffix(200)
            bar?.update(step: step, metrics: [("loss", Double(recent.reduce(0, +) / Float(recent.count)))])
        }
    }
    bar?.finish()
    let seconds = Date().timeIntervalSince(start)
    ema?.copyToParameters()
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try model.save(to: path, metadata: ["config": config.description, "train_seconds": String(seconds)])
    try writeCSV(lossPath, header: ["step", "loss"], rows: losses.enumerated().map { [Double($0.offset + 1), Double($0.element)] })
    return Trained(model: model, losses: losses, seconds: seconds, fromCache: false, path: path)
}
