// The weight cache's promises, on a model small enough to train in milliseconds: the key covers
// every setting of a recipe (a field cannot be left out), a cached file is loaded only if it was
// trained by the same recipe, a damaged loss log means training again, and `load(from:)` names the
// flag in which a file differs.

import ChapterKit
import Diffusion
import Foundation
import NN
import Tensor
import Testing

/// A recipe with nested settings, as the chapters' are: a Linear layer fitted to y = 2x by SGD-free
/// Adam steps inside `DDPMTrainer`-like plain loop.
struct ToyRecipe: Recipe {
    var width: Int
    var training: TrainingOptions
    var note: String? = nil
    var seed: UInt64

    var name: String { "toy" }
    var trainingSteps: Int { training.steps }
    static let flags = ["width": "--width", "training.steps": "--train-steps", "seed": "--seed"]

    func makeModel() -> Linear {
        var rng = RandomGenerator(seed: seed)
        return Linear(width, 1, using: &rng)
    }

    func train(_ model: Linear, progress: @escaping (Int, Float) -> Void) throws -> [Float] {
        let optimizer = Adam(model.parameters, learningRate: training.learningRate)
        var rng = RandomGenerator(seed: seed &+ 1)
        return (1...training.steps).map { step in
            let x = Tensor.randn([8, width], using: &rng)
            let loss = model(x).mse(x.sum(axes: [1], keepDims: true) * 2)
            model.zeroGrad()
            loss.backward()
            optimizer.step()
            progress(step, loss.item)
            return loss.item
        }
    }
}

private func folder() -> String {
    let path = NSTemporaryDirectory() + "recipe-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private let base = ToyRecipe(width: 3, training: TrainingOptions(steps: 5, learningRate: 0.01), seed: 7)

@Suite("Recipes and the weight cache")
struct RecipeCacheTests {
    @Test("every stored setting, nested ones too, is in the summary and changes the key")
    func keyCoversEverySetting() {
        let model = base.makeModel()
        let paths = base.settings.map(\.path)
        // Every field of the trainer's options is there (warm-up and clipping included), by reflection.
        for field in Mirror(reflecting: base.training).children.compactMap(\.label) {
            #expect(paths.contains("training." + field), "training.\(field) missing from \(paths)")
        }
        #expect(paths.contains("note") && paths.contains("width") && paths.contains("seed"))
        var variants: [ToyRecipe] = []
        var v = base; v.training.warmupFraction = 0.1; variants.append(v)
        v = base; v.training.clipNorm = 2; variants.append(v)
        v = base; v.training.target = .velocity; variants.append(v)
        v = base; v.note = "other data"; variants.append(v)
        v = base; v.seed = 8; variants.append(v)
        for variant in variants {
            #expect(variant.key(for: model) != base.key(for: model), "\(variant.summary) has the same key as \(base.summary)")
        }
        // Same recipe, same key; another architecture (width) changes it through the layout too.
        #expect(base.key(for: model) == base.key(for: base.makeModel()))
        v = base; v.width = 4
        #expect(v.key(for: v.makeModel()) != base.key(for: model))
    }

    @Test("differences name the flag, with the file's value and this run's")
    func differencesNameFlags() {
        var other = base
        other.training.steps = 40
        other.training.clipNorm = 3
        let lines = base.differences(from: other)
        #expect(lines.contains("--train-steps 40 (this run: 5)"), "\(lines)")
        #expect(lines.contains("training.clipNorm 3.0 (this run: 1.0)"), "\(lines)")
        #expect(lines.count == 2)
    }

    @Test("trains once, then loads; a damaged loss log retrains; a foreign recipe is never loaded")
    func cacheLifecycle() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (trained, first) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
        #expect(!first.fromCache && first.losses.count == 5)
        let (loaded, second) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
        #expect(second.fromCache && second.losses == first.losses)
        #expect(loaded.weight.data == trained.weight.data)

        // A loss log with a garbled row, or one row short: trained again (not loaded), and the log rewritten.
        let log = first.path.replacingOccurrences(of: ".safetensors", with: "-loss.csv")
        for damage in ["step,loss\n1,0.5\n2,x\n3,1\n4,1\n5,1\n", "step,loss\n1,0.5\n", ""] {
            try Data(damage.utf8).write(to: URL(fileURLWithPath: log))
            let (_, again) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
            #expect(!again.fromCache, "loaded despite the loss log \(damage.debugDescription)")
        }

        // The same file name holding another recipe (as after a hash collision or a hand-copied file): retrained.
        var other = base
        other.training.steps = 6
        let (otherModel, _) = try other.trainOrLoad(in: dir, retrain: false, label: nil)
        let arrays = otherModel.namedParameters.map { NamedArray(name: $0.name, shape: $0.tensor.shape, values: $0.tensor.data) }
        let json = String(decoding: try JSONEncoder().encode(other), as: UTF8.self)
        try SafeTensors.write(arrays, metadata: ["recipe": json], to: first.path)
        let (_, fresh) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
        #expect(!fresh.fromCache)

        // --load of a file trained otherwise: an error naming the flag; of the right one: loaded.
        #expect(throws: LoadError.self) { try base.load(from: dir + "/" + other.key(for: other.makeModel()) + ".safetensors") }
        do {
            _ = try base.load(from: dir + "/" + other.key(for: other.makeModel()) + ".safetensors")
        } catch {
            #expect("\(error)".contains("--train-steps 6 (this run: 5)"), "\(error)")
        }
        let (byLoad, record) = try base.load(from: first.path)
        #expect(record.losses.count == 5 && byLoad.weight.data == trained.weight.data)
    }

    @Test("weights damaged into other finite numbers are refused, naming the file, never loaded; a file with no checksum is trained again")
    func damagedWeightsAreRefused() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, first) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
        // The last 4 bytes of the file are the last weight: make it another finite float.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: first.path))
        let tail = bytes.count - 4
        let old = bytes[tail..<bytes.count].withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
        withUnsafeBytes(of: old + 0.25) { bytes.replaceSubrange(tail..<bytes.count, with: $0) }
        try bytes.write(to: URL(fileURLWithPath: first.path))
        do {
            _ = try base.trainOrLoad(in: dir, retrain: false, label: nil)
            Issue.record("damaged weights were loaded")
        } catch let error as CacheError {
            #expect("\(error)".contains(first.path) && "\(error)".contains("checksum"), "\(error)")
        }
        #expect(base.cachedModel(in: dir) == nil)
        #expect(throws: LoadError.self) { try base.load(from: first.path) }
        // The same weights rewritten without a checksum (as an older version saved them): trained anew.
        let (arrays, metadata) = try SafeTensors.read(from: first.path)
        try SafeTensors.write(arrays, metadata: metadata.filter { $0.key != "weights_checksum" }, to: first.path)
        let (_, again) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
        #expect(!again.fromCache)
        let (_, loaded) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
        #expect(loaded.fromCache, "the retrained weights, saved with their checksum, load")
    }

    @Test("cachedModel finds only this recipe's sound weights and never trains")
    func cachedModelOnlyFinds() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(base.cachedModel(in: dir) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "cachedModel must not train")
        let (trained, record) = try base.trainOrLoad(in: dir, retrain: false, label: nil)
        let found = try #require(base.cachedModel(in: dir))
        #expect(found.weight.data == trained.weight.data && found.weight.data != base.makeModel().weight.data)
        var other = base
        other.training.steps = 6
        #expect(other.cachedModel(in: dir) == nil, "weights of 5 steps are not those of 6")
        // A damaged loss log or weights file: nothing found, nothing thrown.
        let lossPath = String(record.path.dropLast(".safetensors".count)) + "-loss.csv"
        try Data("step,loss\n1,x\n".utf8).write(to: URL(fileURLWithPath: lossPath))
        #expect(base.cachedModel(in: dir) == nil)
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: record.path))
        #expect(base.cachedModel(in: dir) == nil)
    }

    @Test("alsoIn: a sound copy in another folder is loaded from there and not copied; a damaged one there is passed over and left alone")
    func otherFolders() throws {
        let elsewhere = folder(), here = folder()
        defer { for d in [elsewhere, here] { try? FileManager.default.removeItem(atPath: d) } }
        let (trained, first) = try base.trainOrLoad(in: elsewhere, retrain: false, label: nil)
        let (loaded, record) = try base.trainOrLoad(in: here, alsoIn: [elsewhere], retrain: false, label: nil)
        #expect(record.fromCache && record.path == first.path && loaded.weight.data == trained.weight.data)
        #expect(try FileManager.default.contentsOfDirectory(atPath: here).isEmpty, "loaded from elsewhere, nothing written here")
        // With retrain the other folder is not consulted; a `training` closure replaces the recipe's own.
        var calls = 0
        let (_, retrained) = try base.trainOrLoad(in: here, alsoIn: [elsewhere], retrain: true, label: nil) { model, progress in
            calls += 1
            return try base.train(model, progress: progress)
        }
        #expect(!retrained.fromCache && calls == 1 && retrained.path.hasPrefix(here))
        // A damaged copy elsewhere: the one here is loaded, and the damaged file is not touched.
        try FileManager.default.removeItem(atPath: retrained.path)
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: first.path))
        let (_, fresh) = try base.trainOrLoad(in: here, alsoIn: [elsewhere], retrain: false, label: nil)
        #expect(!fresh.fromCache && fresh.path.hasPrefix(here))
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == Data("not a safetensors file".utf8))
    }
}
