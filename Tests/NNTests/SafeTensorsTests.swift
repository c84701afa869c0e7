// Safetensors checkpoints: exact round trips, a layout worked by hand, files written by Python,
// and every way a file can be wrong turning into an error that says what and where.
//
// The fixtures in Fixtures/ were written by Python's safetensors 0.8.0 (numpy 2.4) with this script:
//
//     import numpy as np
//     from safetensors.numpy import save_file
//     save_file({
//         "down.0.conv1.weight": np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1,
//         "down.0.conv1.bias": np.array([0.25, -0.0, 1e-45], dtype=np.float32),
//         "time_embed.scale": np.array(3.0, dtype=np.float32),
//     }, "small.safetensors", metadata={"format": "np", "step": "7"})
//     save_file({  # dtypes the course does not read: loading must name the tensor and its dtype
//         "half": np.array([1.0, -2.5, 2.0**-14, 2.0**-24, 65504.0, np.inf], dtype=np.float16),
//         "double": np.array([0.1, -1e300], dtype=np.float64),
//     }, "dtypes.safetensors")

import Foundation
import Testing
@testable import NN

@Suite("SafeTensors")
struct SafeTensorsTests {
    // MARK: - Helpers

    /// A fresh directory for one test (tests run in parallel), removed by `cleanUp`.
    static func scratchDirectory() -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func cleanUp(_ directory: String) { try? FileManager.default.removeItem(atPath: directory) }

    static func bytes(at path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// A file made by hand: the 8-byte length of `header`, the header, then `data`.
    static func rawFile(_ header: String, _ data: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = []
        appendLittleEndian(UInt64(header.utf8.count), to: &out)
        return out + Array(header.utf8) + data
    }

    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures"))
        return url.path
    }

    /// Runs `body`, expecting a `CheckpointError` of `kind` whose description contains every word.
    static func expectError(_ kind: CheckpointError.Kind, _ words: [String],
                            sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a \(kind) error, but nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as CheckpointError {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            for word in words {
                #expect(error.description.contains(word), "\"\(word)\" not in: \(error)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Parses bytes held in memory as if read from "test.safetensors".
    static func parse(_ bytes: [UInt8]) throws { _ = try SafeTensors.parse(bytes, file: "test.safetensors") }

    // MARK: - Round trips and layout

    @Test("round trip is bit-exact: -0, denormals, inf, NaN payloads, scalar and empty shapes, metadata")
    func roundTrip() throws {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let special: [Float] = [
            -0.0, 0.0, Float.leastNonzeroMagnitude, -Float.leastNonzeroMagnitude, Float.leastNormalMagnitude,
            Float.greatestFiniteMagnitude, .infinity, -.infinity,
            Float(bitPattern: 0x7fc0_1234), Float(bitPattern: 0xffa0_0001),  // quiet and signalling NaN payloads
            1 / 3, -0.1,
        ]
        let tensors = [
            NamedArray(name: "up.1.attn.qkv.weight", shape: [3, 4], values: special),
            NamedArray(name: "scale", shape: [], values: [2.5]),
            NamedArray(name: "empty", shape: [0], values: []),
            NamedArray(name: "empty.3d", shape: [2, 0, 3], values: []),
            NamedArray(name: "down.0.conv1.weight", shape: [2, 3, 2, 2], values: (0..<24).map { Float($0) * 0.37 - 4 }),
            NamedArray(name: "odd \"name\"\twith ünïcode\n", shape: [1], values: [7]),
        ]
        let metadata = ["step": "1000", "note": "quotes \" and \\ and\nnewline, ünïcode ✓", "": "empty key"]
        let path = dir + "/model.safetensors"
        try SafeTensors.write(tensors, metadata: metadata, to: path)

        let (loaded, loadedMetadata) = try SafeTensors.read(from: path)
        // In file order, which is name order; `==` on NamedArray compares bit patterns.
        #expect(loaded == tensors.sorted { $0.name < $1.name })
        #expect(loadedMetadata == metadata)
        // The data starts 8-byte aligned.
        let file = try #require(Self.bytes(at: path))
        #expect(readLittleEndian(UInt64.self, file, at: 0) % 8 == 0)
    }

    @Test("the same tensors give the same bytes, whatever order they are passed in")
    func deterministic() throws {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let a = NamedArray(name: "a.weight", shape: [2], values: [1, 2])
        let b = NamedArray(name: "b.weight", shape: [1], values: [3])
        let metadata = ["x": "1", "y": "2", "z": "3"]
        try SafeTensors.write([a, b], metadata: metadata, to: dir + "/1.safetensors")
        try SafeTensors.write([b, a], metadata: metadata, to: dir + "/2.safetensors")
        #expect(Self.bytes(at: dir + "/1.safetensors") == Self.bytes(at: dir + "/2.safetensors"))
    }

    @Test("a tiny file matches the layout worked by hand")
    func handWorkedLayout() throws {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let path = dir + "/tiny.safetensors"
        try SafeTensors.write([NamedArray(name: "w", shape: [2], values: [1, -2])], metadata: ["k": "v"], to: path)

        // The header, counted by hand: {"__metadata__": is 16 bytes, {"k":"v"} 9, the comma 1,
        // "w": 4, {"dtype":"F32", 15, "shape":[2], 12, "data_offsets":[0,8] 20, }} 2: 79 bytes,
        // padded with one space to 80 so the data starts at byte 8 + 80 = 88, a multiple of 8.
        let json = #"{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(json.utf8.count == 79)
        let expected: [UInt8] =
            [80, 0, 0, 0, 0, 0, 0, 0]       // header length 80, little-endian UInt64
            + Array(json.utf8) + [0x20]     // the JSON and one space of padding
            + [0x00, 0x00, 0x80, 0x3f]      // 1.0 = 0x3F800000 (sign 0, exponent 127, fraction 0), low byte first
            + [0x00, 0x00, 0x00, 0xc0]      // -2.0 = 0xC0000000 (sign 1, exponent 128, fraction 0)
        #expect(Self.bytes(at: path) == expected)
    }

    @Test("Swift writes the Python fixture's tensors byte-for-byte as Python did")
    func sameBytesAsPython() throws {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let tensors = [  // the values of the script at the top of this file
            NamedArray(name: "down.0.conv1.weight", shape: [2, 3], values: [-1, -0.5, 0, 0.5, 1, 1.5]),
            NamedArray(name: "down.0.conv1.bias", shape: [3], values: [0.25, -0.0, .leastNonzeroMagnitude]),
            NamedArray(name: "time_embed.scale", shape: [], values: [3]),
        ]
        try SafeTensors.write(tensors, metadata: ["format": "np", "step": "7"], to: dir + "/small.safetensors")
        #expect(Self.bytes(at: dir + "/small.safetensors") == Self.bytes(at: try Self.fixture("small")))
    }

    @Test("the Python-written fixture loads with the values Python wrote")
    func pythonFixture() throws {
        let (tensors, metadata) = try SafeTensors.read(from: try Self.fixture("small"))
        #expect(metadata == ["format": "np", "step": "7"])
        // np.arange(6).reshape(2, 3) * 0.5 - 1 = [[-1, -0.5, 0], [0.5, 1, 1.5]], all exact in binary.
        #expect(tensors == [
            NamedArray(name: "down.0.conv1.bias", shape: [3], values: [0.25, -0.0, .leastNonzeroMagnitude]),
            NamedArray(name: "down.0.conv1.weight", shape: [2, 3], values: [-1, -0.5, 0, 0.5, 1, 1.5]),
            NamedArray(name: "time_embed.scale", shape: [], values: [3]),
        ])
        #expect(tensors[0].values[2].bitPattern == 1)  // Python's 1e-45 rounds to the smallest denormal, bit pattern 1
    }

    @Test("F64 and F16 from Python, and BF16 by hand, are refused with the tensor's name and dtype")
    func otherDTypesRefused() throws {
        // The course writes and reads F32 only. Python's fixture lists "double" (F64) first, then "half" (F16).
        let path = try Self.fixture("dtypes")
        Self.expectError(.unsupportedDType, [path, "\"double\"", "F64", "only F32"]) { _ = try SafeTensors.read(from: path) }
        let half = Self.rawFile(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, [0, 0x3c, 0, 0xc0])
        Self.expectError(.unsupportedDType, ["\"h\"", "F16"]) { try Self.parse(half) }
        let bf16 = Self.rawFile(#"{"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#, [0xc0, 0x3f, 0x40, 0xc0])
        Self.expectError(.unsupportedDType, ["\"b\"", "BF16"]) { try Self.parse(bf16) }
    }

    @Test("random corruption of a good file throws a CheckpointError or reads, never crashes")
    func fuzz() throws {
        let whole = try #require(Self.bytes(at: try Self.fixture("small")))
        var state: UInt64 = 2024  // SplitMix64, seeded: the same corruptions every run
        func next() -> Int {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        let jsonish = Array(#"{}[]",:-0123456789.eE \u"#.utf8)  // to reach past the JSON parser's first error
        var thrown = 0
        for _ in 0..<3_000 {
            var file = whole
            for _ in 0...(next() % 3) {
                file[next() % file.count] = next() % 2 == 0 ? UInt8(truncatingIfNeeded: next()) : jsonish[next() % jsonish.count]
            }
            if next() % 4 == 0 { file = Array(file.prefix(next() % file.count)) }
            do { try Self.parse(file) } catch is CheckpointError { thrown += 1 } catch { Issue.record("not a CheckpointError: \(error)") }
        }
        #expect(thrown > 1_000)  // most corruptions are caught (a flipped float byte is not, and cannot be)
    }

    // MARK: - Reading bad files

    @Test("a missing file, or a directory, is 'no such file' naming the path")
    func missingFile() {
        Self.expectError(.fileNotFound, ["/nonexistent/dir/model.safetensors", "no such file"]) {
            _ = try SafeTensors.read(from: "/nonexistent/dir/model.safetensors")
        }
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        Self.expectError(.fileNotFound, [dir, "is a directory"]) { _ = try SafeTensors.read(from: dir) }
    }

    @Test("truncated files: shorter than 8 bytes, cut in the header, cut in the data")
    func truncated() throws {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let whole = try #require(Self.bytes(at: try Self.fixture("small")))  // 8 + 264 header + 40 data = 312
        for (cut, words) in [
            (5, ["5 bytes", "too short"]),
            (100, ["header length is 264", "only 92 bytes", "truncated"]),
            (whole.count - 3, ["\"time_embed.scale\" ends at byte 40", "only 37 data bytes", "truncated"]),
        ] {
            let path = dir + "/cut\(cut).safetensors"
            _ = FileManager.default.createFile(atPath: path, contents: Data(whole.prefix(cut)))
            Self.expectError(.truncated, [path] + words) { _ = try SafeTensors.read(from: path) }
        }
        // A garbage length near UInt64.max must not trap when converted to Int.
        Self.expectError(.truncated, ["18446744073709551615", "truncated"]) {
            try Self.parse([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + Array("{}".utf8))
        }
    }

    @Test("a header length that is wrong by a little: too long swallows data into the JSON, too short leaves bytes over")
    func wrongHeaderLength() throws {
        let whole = try #require(Self.bytes(at: try Self.fixture("small")))  // header length 264
        var longer = whole
        longer[0] = UInt8(264 + 8 - 256)  // 272 = 0x0110: the "JSON" now ends in the bytes of 0.25 and -0.0,
        Self.expectError(.badHeader, ["header", "not valid UTF-8"]) { try Self.parse(longer) }  // 00 00 80 3e 00 00 00 80
        longer[8 + 264 + 2] = 0x20  // with the 0x80s made spaces it is UTF-8, and the text after the '}' is not JSON
        longer[8 + 264 + 7] = 0x20
        Self.expectError(.badHeader, ["not valid JSON"]) { try Self.parse(longer) }
        var shorter = whole
        shorter[0] = UInt8(264 - 1 - 256)  // 263: the last padding space becomes a 41st data byte
        Self.expectError(.badOffsets, ["41 bytes", "cover only 40"]) { try Self.parse(shorter) }
    }

    @Test("corrupted headers: garbage, not an object, missing or malformed fields")
    func badHeaders() {
        let ok = #""dtype":"F32","shape":[1],"data_offsets":[0,4]"#
        let four: [UInt8] = [0, 0, 0, 0]
        let cases: [(String, String, [UInt8], [String])] = [
            ("garbage", "\u{1}\u{2}garbage!", [], ["not valid JSON"]),
            ("truncated JSON", #"{"a":{"dtype":"F32","sha"#, [], ["not valid JSON"]),
            ("trailing text", "{} xyz", [], ["not valid JSON"]),
            ("array", "[1, 2]", [], ["not a JSON object"]),
            ("entry not an object", #"{"a": 3}"#, [], ["\"a\"", "not a JSON object"]),
            ("no dtype", #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, four, ["\"a\" has no \"dtype\""]),
            ("no shape", #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, four, ["\"a\" has no \"shape\""]),
            ("no offsets", #"{"a":{"dtype":"F32","shape":[1]}}"#, four, ["\"a\" has no \"data_offsets\""]),
            ("dtype a number", #"{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#, four, ["\"dtype\" of \"a\""]),
            ("negative dim", #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, four, ["\"shape\" of \"a\"", "-1"]),
            ("fractional dim", #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, four, ["1.5", "non-negative integer"]),
            ("huge offset", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999999]}}"#, four, ["99999999999999999999999"]),
            ("three offsets", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, four, ["3 numbers, not 2"]),
            ("metadata not strings", #"{"__metadata__":{"step":7},"a":{\#(ok)}}"#, four, ["metadata \"step\" is not a string"]),
            ("deep nesting", String(repeating: "[", count: 10_000), [], ["not valid JSON"]),
            ("a number", "3", [], ["not a JSON object"]),
            ("metadata not an object", #"{"__metadata__":[1],"a":{\#(ok)}}"#, four, ["\"__metadata__\" is not a JSON object"]),
            ("shape not an array", #"{"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}}"#, four, ["\"shape\" of \"a\" is not an array"]),
            ("dim a string", #"{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}"#, four, ["\"shape\" of \"a\"", "not a number"]),
            ("dim out of range", #"{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}"#, four, ["\"shape\" of \"a\""]),
        ]
        for (label, header, data, words) in cases {
            Self.expectError(.badHeader, ["test.safetensors"] + words) { try Self.parse(Self.rawFile(header, data)) }
            _ = label
        }
        Self.expectError(.badHeader, ["not valid UTF-8"]) {
            var file = Self.rawFile("{\"a\u{e9}\":1}")
            file[11] = 0xff  // break the two-byte é
            try Self.parse(file)
        }
    }

    @Test("unsupported dtype names the tensor and lists what is supported")
    func unsupportedDType() {
        let file = Self.rawFile(#"{"steps":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, Array(repeating: 0, count: 8))
        Self.expectError(.unsupportedDType, ["\"steps\"", "I64", "F32"]) { try Self.parse(file) }
    }

    @Test("offsets that disagree with the shape, gaps, overlaps, leftovers, duplicates")
    func badOffsets() {
        let cases: [(String, [UInt8], CheckpointError.Kind, [String])] = [
            ("span ≠ shape × 4", Array(repeating: 0, count: 8),
             .badOffsets, ["\"a\"", "[0, 8] (8 bytes)", "shape [3] of F32 needs 12 bytes"]),
            ("begin after end", [], .badOffsets, ["[8, 4]", "begin after end"]),
            ("shape product overflows", [], .badOffsets, ["too many elements"]),
            ("gap", Array(repeating: 0, count: 12), .badOffsets, ["bytes 4..<8 belong to no tensor", "\"b\""]),
            ("overlap", Array(repeating: 0, count: 8), .badOffsets, ["\"a\" and \"b\" overlap"]),
            ("leftover", Array(repeating: 0, count: 6), .badOffsets, ["6 bytes", "cover only 4"]),
            ("duplicate", Array(repeating: 0, count: 8), .duplicateName, ["\"a\" appears twice"]),
            // JSONDecoder alone would keep one "a" and say nothing; "\u0061" is "a" spelled with an escape.
            ("duplicate, escaped", Array(repeating: 0, count: 8), .duplicateName, ["\"a\" appears twice"]),
            ("duplicate metadata", Array(repeating: 0, count: 4), .duplicateName, ["\"__metadata__\" appears twice"]),
        ]
        let headers = [
            #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#,
            #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "\u0061" :{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{}}"#,
        ]
        #expect(cases.count == headers.count)
        for ((_, data, kind, words), header) in zip(cases, headers) {
            Self.expectError(kind, ["test.safetensors"] + words) { try Self.parse(Self.rawFile(header, data)) }
        }
    }

    // MARK: - Writing

    @Test("writing refuses a shape that does not match the values, naming the tensor; duplicates and reserved names too")
    func badTensorsToWrite() {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let path = dir + "/bad.safetensors"
        Self.expectError(.invalidTensor, [path, "\"down.0.weight\"", "shape [2, 3]", "6 elements", "5 values"]) {
            try SafeTensors.write([NamedArray(name: "down.0.weight", shape: [2, 3], values: [1, 2, 3, 4, 5])], to: path)
        }
        Self.expectError(.invalidTensor, ["\"neg\"", "[-1]", "negative dimension"]) {
            try SafeTensors.write([NamedArray(name: "neg", shape: [-1], values: [])], to: path)
        }
        Self.expectError(.duplicateName, ["\"a\" appears twice"]) {
            try SafeTensors.write([NamedArray(name: "a", shape: [], values: [1]), NamedArray(name: "a", shape: [], values: [2])], to: path)
        }
        Self.expectError(.invalidTensor, ["__metadata__", "reserved"]) {
            try SafeTensors.write([NamedArray(name: "__metadata__", shape: [], values: [1])], to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a failed save leaves the old file byte-identical and no temporary file behind")
    func failedSaveKeepsOldFile() throws {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let path = dir + "/model.safetensors"
        try SafeTensors.write([NamedArray(name: "w", shape: [2], values: [1, 2])], metadata: ["step": "1"], to: path)
        let before = try #require(Self.bytes(at: path))
        let newer = [NamedArray(name: "w", shape: [2], values: [3, 4])]

        // 1. Invalid input: caught before the disk is touched.
        Self.expectError(.invalidTensor, ["\"w\""]) {
            try SafeTensors.write([NamedArray(name: "w", shape: [3], values: [3, 4])], to: path)
        }
        // 2. The temporary file cannot be created (its "directory" is a regular file). We run as
        //    root, so a read-only directory would not stop us; this does.
        Self.expectError(.writeFailed, [path, "cannot create", "impossible.tmp", "Not a directory"]) {
            try SafeTensors.write(newer, metadata: [:], to: path, temporaryPath: path + "/impossible.tmp")
        }
        #expect(Self.bytes(at: path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.safetensors"])

        // 3. The rename fails (the target is a non-empty directory): the temporary file is removed.
        let blocked = dir + "/blocked.safetensors"
        try FileManager.default.createDirectory(atPath: blocked + "/inside", withIntermediateDirectories: true)
        Self.expectError(.writeFailed, [blocked, "cannot rename"]) { try SafeTensors.write(newer, to: blocked) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["blocked.safetensors", "model.safetensors"])

        // And a successful save replaces the file.
        try SafeTensors.write(newer, to: path)
        #expect(try SafeTensors.read(from: path).tensors == newer)
    }

    @Test("saving creates missing parent directories and leaves only the checkpoint")
    func createsDirectories() throws {
        let dir = Self.scratchDirectory()
        defer { Self.cleanUp(dir) }
        let path = dir + "/runs/03-unet/weights.safetensors"
        try SafeTensors.write([NamedArray(name: "w", shape: [1], values: [1])], to: path)
        #expect(try SafeTensors.read(from: path).tensors.map(\.name) == ["w"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/runs/03-unet") == ["weights.safetensors"])
    }

    // MARK: - Matching a model

    @Test("matchShapes returns the values by name when everything fits")
    func matchShapesFits() throws {
        let loaded = [NamedArray(name: "b", shape: [2], values: [1, 2]), NamedArray(name: "a", shape: [], values: [3])]
        let values = try SafeTensors.matchShapes(loaded, expected: [("a", []), ("b", [2])], file: "m.safetensors")
        #expect(values == ["a": [3], "b": [1, 2]])
    }

    @Test("matchShapes reports wrong shapes, missing and unexpected tensors, all at once")
    func matchShapesMismatch() {
        let loaded = [
            NamedArray(name: "down.0.weight", shape: [32, 3, 3, 3], values: Array(repeating: 0, count: 864)),
            NamedArray(name: "down.0.bias", shape: [32], values: Array(repeating: 0, count: 32)),
            NamedArray(name: "old.head.weight", shape: [1], values: [0]),
        ]
        let wrongShape: [(name: String, shape: [Int])] = [("down.0.weight", [64, 3, 3, 3]), ("down.0.bias", [32]), ("old.head.weight", [1])]
        Self.expectError(.modelMismatch, ["m.safetensors", "down.0.weight: checkpoint has [32, 3, 3, 3], model expects [64, 3, 3, 3]"]) {
            _ = try SafeTensors.matchShapes(loaded, expected: wrongShape, file: "m.safetensors")
        }
        let missing: [(name: String, shape: [Int])] = [("down.0.weight", [32, 3, 3, 3]), ("down.0.bias", [32]), ("old.head.weight", [1]), ("up.0.weight", [4])]
        Self.expectError(.modelMismatch, ["missing from the checkpoint: up.0.weight"]) {
            _ = try SafeTensors.matchShapes(loaded, expected: missing, file: "m.safetensors")
        }
        let extra: [(name: String, shape: [Int])] = [("down.0.weight", [32, 3, 3, 3]), ("down.0.bias", [32])]
        Self.expectError(.modelMismatch, ["in the checkpoint but not in the model: old.head.weight"]) {
            _ = try SafeTensors.matchShapes(loaded, expected: extra, file: "m.safetensors")
        }
        let all: [(name: String, shape: [Int])] = [("down.0.weight", [64, 3, 3, 3]), ("down.0.bias", [32]), ("up.0.weight", [4])]
        Self.expectError(.modelMismatch, ["3 problems", "model expects [64, 3, 3, 3]", "missing from the checkpoint: up.0.weight",
                                          "not in the model: old.head.weight"]) {
            _ = try SafeTensors.matchShapes(loaded, expected: all, file: "m.safetensors")
        }
    }
}
