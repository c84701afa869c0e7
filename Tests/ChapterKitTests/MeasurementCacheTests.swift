// The measurement cache's promises: a measurement is made once and read back while its description is
// the same; another description, or numbers that are not finite, measure again; a damaged file is an
// error naming it, and a value the file lacks is one too.

import ChapterKit
import Foundation
import NN
import Tensor
import Testing

@Suite("Measurement cache")
struct MeasurementCacheTests {
    func folder() -> String {
        let dir = NSTemporaryDirectory() + "measurement-cache-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("measures once, then reads back the same numbers; another description or a non-finite number measures again")
    func lifecycle() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var calls = 0
        func measure() -> [String: Tensor] {
            calls += 1
            return ["quality": Tensor([0.25, Float(calls)], shape: [2]), "images": Tensor([1, 2, 3, 4, 5, 6], shape: [1, 2, 3])]
        }
        let first = try measureOrLoad("toy", description: "model abc; 100 prompts", in: dir, remeasure: false, measure)
        let second = try measureOrLoad("toy", description: "model abc; 100 prompts", in: dir, remeasure: false, measure)
        #expect(calls == 1 && !first.fromCache && second.fromCache)
        #expect(try second("quality").data == [0.25, 1] && second("images").shape == [1, 2, 3])
        #expect(second.seconds == first.seconds, "the stored wall time is the measuring run's")

        let other = try measureOrLoad("toy", description: "model abd; 100 prompts", in: dir, remeasure: false, measure)
        #expect(calls == 2 && !other.fromCache && other.path != first.path)
        let forced = try measureOrLoad("toy", description: "model abc; 100 prompts", in: dir, remeasure: true, measure)
        #expect(calls == 3 && !forced.fromCache && forced.path == first.path)

        // The same file holding a NaN (as a hand-edited or foreign file might): measured again, not read.
        let file = try SafeTensors.read(from: first.path)
        try SafeTensors.write(file.tensors.map { NamedArray(name: $0.name, shape: $0.shape, values: $0.values.map { _ in .nan }) },
                              metadata: file.metadata, to: first.path)
        let afterNaN = try measureOrLoad("toy", description: "model abc; 100 prompts", in: dir, remeasure: false, measure)
        #expect(calls == 4 && !afterNaN.fromCache && afterNaN.values["quality"]!.data == [0.25, 4])
    }

    @Test("a truncated file is an error naming it; a value the file lacks is an error naming the value")
    func damaged() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try measureOrLoad("toy", description: "d", in: dir, remeasure: false) { ["a": Tensor([1, 2, 3], shape: [3])] }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: made.path))
        try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: made.path))
        var measured = false
        #expect {
            _ = try measureOrLoad("toy", description: "d", in: dir, remeasure: false) { measured = true; return [:] }
        } throws: { error in
            "\(error)".contains(made.path) && "\(error)".contains("--retrain")
        }
        #expect(!measured, "a damaged cache must not be measured over silently")
        #expect { try made("b") } throws: { "\($0)".contains("no measurement named b") }
    }
}
