// What chapters 2 and 8 share about points in the plane: the recipe of chapter 2's MLP (chapter 8
// samples and distils the same trained weights; the cache key does not depend on which chapter asks),
// and the scatter plot every one of their figures is drawn with.

import Datasets
import Diffusion
import Imaging
import NN
import Tensor

/// The x and y coordinates of points `[N, 2]`.
public func coordinates(_ t: Tensor) -> (x: [Float], y: [Float]) {
    (stride(from: 0, to: t.count, by: 2).map { t.data[$0] }, stride(from: 1, to: t.count, by: 2).map { t.data[$0] })
}

/// A square scatter plot of point sets `[N, 2]` on the fixed axes −3…3 that every 2-D figure shares.
public func scatter(_ title: String, _ series: [(String, Tensor, Color)], size: Int = 420, textScale: Int = 2, radius: Int = 1) -> Plot {
    var plot = Plot(title: title, xLabel: "x", yLabel: "y", width: size, height: size,
                    xRange: -3...3, yRange: -3...3, legend: series.count > 1 ? .topLeft : .hidden, textScale: textScale)
    for (name, t, color) in series { let p = coordinates(t); plot.scatter(name, x: p.x, y: p.y, color: color, radius: radius) }
    return plot
}

/// Everything that decides the trained MLP: the data, the schedule, its size, the trainer, the seed.
public struct MLPRecipe: Recipe {
    public var dataset: Toy2D
    public var schedule: NoiseSchedule.Kind
    public var width: Int
    public var depth: Int
    public var batch: Int
    public var training: TrainingOptions
    public var data = "Toy2D v\(DataVersion.toy2D)"
    public var seed: UInt64

    public init(dataset: Toy2D, schedule: NoiseSchedule.Kind, width: Int, depth: Int, batch: Int, training: TrainingOptions,
                seed: UInt64) {
        self.dataset = dataset; self.schedule = schedule; self.width = width; self.depth = depth; self.batch = batch
        self.training = training; self.seed = seed
    }

    /// Chapter 2's defaults: width 128, 4 hidden layers, batch 256, Adam at 1e-3 with EMA 0.999, 30,000
    /// steps (400 with `quick`), ε-prediction on the linear schedule.
    public static func chapter2(dataset: Toy2D, quick: Bool, seed: UInt64, depth: Int = 4,
                                target: PredictionTarget = .epsilon) -> MLPRecipe {
        MLPRecipe(dataset: dataset, schedule: .linear, width: 128, depth: depth, batch: 256,
                  training: TrainingOptions(steps: quick ? 400 : 30_000, learningRate: 0.001, emaDecay: 0.999, target: target),
                  seed: seed)
    }

    public var name: String { "mlp-\(dataset.rawValue)" }
    public var trainingSteps: Int { training.steps }
    public static let flags = ["dataset": "--dataset", "schedule": "--schedule", "width": "--width", "depth": "--depth",
                               "batch": "--batch", "training.steps": "--train-steps", "training.learningRate": "--lr",
                               "training.emaDecay": "--ema", "seed": "--seed"]

    public func makeModel() -> NoiseMLP {
        var rng = RandomGenerator(seed: seed)
        return NoiseMLP(width: width, depth: depth, steps: 1000, using: &rng)
    }

    /// ε̂(x_t, t) of a model trained by this recipe: its output itself, or, trained on v, the ε that
    /// output implies (`DDPM.epsilon(fromVelocity:)`).
    public func predictor(_ model: NoiseMLP) -> NoisePredictor {
        switch training.target {
        case .epsilon: return model.predictor
        case .velocity:
            let schedule = NoiseSchedule.named(schedule)
            return { x, t in DDPM.epsilon(fromVelocity: model(x, t), xt: x, t: t, schedule: schedule) }
        }
    }

    /// Algorithm 1 on fresh data every step. Adam with a linear warm-up over the first 5 % of steps
    /// and a cosine decay to 0, gradients clipped to norm 1; the EMA of the weights is what is saved
    /// and sampled from. Throws `TrainingDiverged` as soon as a loss is not finite.
    public func train(_ model: NoiseMLP, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        try DDPMTrainer.train(model, predictor: model.predictor, schedule: .named(schedule), options: training,
                              seed: seed &+ 1, batch: { rng in dataset.sample(batch, using: &rng) }, progress: progress)
    }
}
