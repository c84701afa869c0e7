// Chapter 6's configuration, caption dropout and weight cache: train the library's `TextToImage`
// (Sources/Diffusion/TextConditioning.swift) with the conditional `DDPMTrainer`, or load it.

import ChapterKit
import Datasets
import Diffusion
import Foundation
import NN
import Tensor

struct TextConfig: CustomStringConvertible {
    var channels: Int
    var textDim: Int
    var textLayers: Int
    /// Whether the UNet gets each pixel's x and y as two extra input channels (`TimeUNet.coordinates`).
    var coordinates: Bool
    /// What the UNet is trained to predict: ε or v.
    var prediction: PredictionTarget
    var steps: Int
    var batch: Int
    var learningRate: Float
    var emaDecay: Float
    /// Probability that an example's whole caption is dropped (the empty prompt).
    var dropCaption: Double
    /// Probability that each attribute of a kept caption is dropped on its own.
    var dropAttribute: Double
    /// Colour–shape pairs never shown in training (all nine positions of each).
    var holdout: [ShapeCombination]
    var seed: UInt64

    var description: String {
        "text-unet c=\(channels)\(coordinates ? "+xy" : "")\(prediction == .velocity ? " predicts=v" : "") text=\(textDim)x\(textLayers) steps=\(steps) batch=\(batch) lr=\(learningRate) ema=\(emaDecay) "
            + "drop=\(dropCaption)/\(dropAttribute) holdout=\(holdout.map { "\($0.color.word)-\($0.kind.word)" }.joined(separator: ",")) "
            + "seed=\(seed) schedule=linear"
    }

    var key: String { "text-" + configurationHash(description) }

    /// Every combination held out: the nine positions of each held-out colour–shape pair.
    var excluded: Set<ShapeCombination> {
        Set(holdout.flatMap { ShapeCombination.matching(color: $0.color, kind: $0.kind) })
    }
}

/// The prompt an example is trained with: its caption, with the whole caption dropped with
/// probability `dropCaption` and each remaining attribute with probability `dropAttribute` (so the
/// model learns partial prompts and, from the empty one, ε(x_t, t, ∅) for guidance).
func trainingPrompt(_ c: ShapeCombination, _ config: TextConfig, using rng: inout RandomGenerator) -> ShapePrompt {
    let dropAll = Double(rng.uniform()) < config.dropCaption
    let keepColor = Double(rng.uniform()) >= config.dropAttribute
    let keepKind = Double(rng.uniform()) >= config.dropAttribute
    let keepPosition = Double(rng.uniform()) >= config.dropAttribute
    if dropAll { return ShapePrompt() }
    return ShapePrompt(color: keepColor ? c.color : nil, kind: keepKind ? c.kind : nil, position: keepPosition ? c.position : nil)
}

func makeModel(_ config: TextConfig) -> TextToImage {
    var rng = RandomGenerator(seed: config.seed)
    return TextToImage(tokenizer: .shapes, channels: config.channels, textDim: config.textDim, textLayers: config.textLayers,
                       coordinates: config.coordinates, prediction: config.prediction, using: &rng)
}

func trainOrLoad(_ config: TextConfig, directory: String, retrain: Bool) throws -> (TextToImage, TrainingRecord) {
    let model = makeModel(config)
    let data = ShapesDataset(size: 16, seed: 0, excluding: config.excluded)
    let tokenizer = model.encoder.tokenizer
    let options = TrainingOptions(steps: config.steps, learningRate: config.learningRate, emaDecay: config.emaDecay,
                                  target: config.prediction)
    let record = try trainOrLoad(model, key: config.key, directory: directory, retrain: retrain, steps: config.steps,
                                 label: config.holdout.isEmpty ? "train text-to-image" : "train (held-out pairs)",
                                 metadata: ["prediction": config.prediction.rawValue, "coordinates": String(config.coordinates)]) { progress in
        try DDPMTrainer.train(model, predictor: { x, t, tokens in model(x, t, tokens: tokens) }, schedule: .linear(),
                              options: options, seed: config.seed &+ 1,
                              batch: { rng in
                                  let (images, specs) = data.batch(config.batch, using: &rng)
                                  let tokens = specs.map { tokenizer.encode(trainingPrompt($0.combination, config, using: &rng)) }
                                  return (images, tokens)
                              }, progress: progress)
    }
    return (model, record)
}

/// How well samples follow their prompts, per attribute, judged by the Shapes checker.
struct Adherence {
    var count = 0, valid = 0, color = 0, kind = 0, position = 0, all = 0
    var combinations = Set<ShapeCombination>()

    mutating func add(prompt: ShapePrompt, verdict: ShapeDescription) {
        count += 1
        guard let c = verdict.combination else { return }
        valid += 1
        combinations.insert(c)
        let okColor = prompt.color.map { $0 == c.color } ?? true
        let okKind = prompt.kind.map { $0 == c.kind } ?? true
        let okPosition = prompt.position.map { $0 == c.position } ?? true
        if okColor { color += 1 }
        if okKind { kind += 1 }
        if okPosition { position += 1 }
        if okColor && okKind && okPosition { all += 1 }
    }

    func share(_ n: Int) -> Double { count == 0 ? 0 : Double(n) / Double(count) }
}

extension Tokenizer {
    /// The tokenizer over the Shapes captions' words: `<pad>` and the 14 words of
    /// `ShapesVocabulary.words`, 4 tokens a prompt.
    static let shapes = Tokenizer(words: ShapesVocabulary.words, length: ShapesVocabulary.maxWords)

    /// A prompt's caption as tokens. Every caption the data set writes is in the vocabulary, so this cannot fail.
    func encode(_ prompt: ShapePrompt) -> [Int] { try! encode(prompt.caption) }
}
