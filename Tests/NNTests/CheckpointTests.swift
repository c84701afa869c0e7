// Module.save / Module.load: the bridge from layers to safetensors files.

import Foundation
import Testing
@testable import NN
import Tensor

@Suite("Module checkpoints")
struct CheckpointTests {
    func tempPath(_ name: String) -> String { NSTemporaryDirectory() + "ckpt-\(UUID().uuidString.prefix(8))/\(name)" }

    @Test("a model saved and loaded into a fresh model of the same shape computes the same outputs")
    func roundTrip() throws {
        var rng = RandomGenerator(seed: 1)
        let a = Sequential([Linear(3, 8, using: &rng), SiLU(), Linear(8, 2, using: &rng)])
        let b = Sequential([Linear(3, 8, using: &rng), SiLU(), Linear(8, 2, using: &rng)])  // different weights
        let path = tempPath("mlp.safetensors")
        try a.save(to: path, metadata: ["steps": "100"])
        let x = Tensor.randn([4, 3], using: &rng)
        #expect(a(x).data != b(x).data)
        let metadata = try b.load(from: path)
        #expect(a(x).data == b(x).data)
        #expect(metadata["steps"] == "100")
        #expect(a.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
    }

    @Test("loading into a different architecture throws, names the tensor and shapes, and changes nothing")
    func mismatch() throws {
        var rng = RandomGenerator(seed: 2)
        let small = Sequential([Linear(3, 8, using: &rng)])
        let wide = Sequential([Linear(3, 16, using: &rng)])
        let path = tempPath("small.safetensors")
        try small.save(to: path)
        let before = wide.parameters.map(\.data)
        #expect {
            try wide.load(from: path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("0.weight") && text.contains("[8, 3]") && text.contains("[16, 3]") && text.contains(path)
        }
        #expect(wide.parameters.map(\.data) == before)
    }

    @Test("weights holding NaN or ±infinity are refused, naming the file and the tensor, and nothing changes", arguments: [
        Float.nan, .infinity, -.infinity,
    ])
    func nonFiniteWeights(_ bad: Float) throws {
        var rng = RandomGenerator(seed: 4)
        let saved = Sequential([Linear(3, 4, using: &rng), SiLU(), Linear(4, 2, using: &rng)])
        saved.namedParameters[2].tensor.data[5] = bad  // "2.weight", element 5 (safetensors itself stores any float)
        let path = tempPath("diverged.safetensors")
        try saved.save(to: path)
        let fresh = Sequential([Linear(3, 4, using: &rng), SiLU(), Linear(4, 2, using: &rng)])
        let before = fresh.parameters.map(\.data)
        do {
            try fresh.load(from: path)
            Issue.record("a checkpoint holding \(bad) was loaded")
        } catch let error as CheckpointError {
            #expect(error.kind == .nonFiniteValue)
            for word in [path, "\"2.weight\"", "\(bad)", "element 5", "1 of its 8 values"] {
                #expect(error.description.contains(word), "\"\(word)\" not in: \(error)")
            }
        }
        #expect(fresh.parameters.map(\.data) == before)
    }

    @Test("a missing checkpoint file is an error naming the file")
    func missingFile() {
        var rng = RandomGenerator(seed: 3)
        let path = tempPath("nothing-here.safetensors")
        #expect { try Linear(2, 2, using: &rng).load(from: path) } throws: { "\($0)".contains(path) }
    }
}
