// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), the format
// Hugging Face uses for model weights, so a checkpoint written here opens in Python with
// `safetensors.numpy.load_file` (or `safetensors.torch`) and the other way round.
//
// A file is three parts:
//
//     [8 bytes]  N, the header length: an unsigned 64-bit integer, little-endian
//     [N bytes]  the header: UTF-8 JSON, padded with spaces so the data starts 8-byte aligned
//                {"__metadata__": {"step": "1000"},                       <- optional, strings only
//                 "down.0.conv1.bias":   {"dtype": "F32", "shape": [32],
//                                         "data_offsets": [0, 128]},
//                 "down.0.conv1.weight": {"dtype": "F32", "shape": [32, 3, 3, 3],
//                                         "data_offsets": [128, 3584]}}
//     [rest]     the data buffer: every tensor's numbers, row-major, little-endian, back to back
//
// `data_offsets` are byte offsets into the data buffer (not the file), begin inclusive, end
// exclusive. The tensors must tile the buffer exactly, with no gap, no overlap and nothing left
// over: Python's reader rejects anything else, so we write that way and check it when reading.
//
// This file knows nothing of `Tensor`: it moves plain `NamedArray`s (name, shape, Float values).
// `Checkpoint.swift` bridges it to a model's parameters. Everything a file can get wrong is a
// thrown `CheckpointError` naming the file and the problem, never a crash: a checkpoint is input.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor as a checkpoint stores it: a dotted name, a shape, and its values in row-major order.
public struct NamedArray: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// Bit-for-bit equality, so that NaN == NaN and -0 != +0 (what a round-trip test needs).
    public static func == (a: NamedArray, b: NamedArray) -> Bool {
        a.name == b.name && a.shape == b.shape
            && a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
    }
}

/// What went wrong with a checkpoint, and in which file. `description` is the message for a person.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case fileNotFound      // no file at the path, or a directory there
        case unreadable        // the file exists but could not be read
        case truncated         // shorter than its header length or its data offsets say
        case badHeader         // header not UTF-8 JSON, not an object, entries malformed
        case unsupportedDType  // a dtype other than F32 (the only one the course writes and reads)
        case badOffsets        // offsets disagree with shape × dtype size, or gaps / overlaps
        case duplicateName     // one name twice (in a header, or in the arrays to write)
        case invalidTensor     // writing: shape product ≠ values.count, negative size, reserved name
        case writeFailed       // creating, writing, syncing or renaming the file failed
        case modelMismatch     // the checkpoint does not fit the model: missing, extra or mis-shaped
        case nonFiniteValue    // loading into a model: a weight is NaN or ±infinity (a diverged run's checkpoint)
    }

    public var kind: Kind
    /// The checkpoint's path.
    public var file: String
    /// What is wrong, e.g. "header length is 1000 bytes but only 52 bytes follow it (truncated file?)".
    public var message: String

    public init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    public var description: String { "checkpoint \(file): \(message)" }
}

extension CheckpointError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Reads and writes safetensors files. See the top of this file for the layout.
public enum SafeTensors {
    /// The only dtype the course writes and reads: 32-bit IEEE floats, little-endian. A file with any
    /// other dtype (F16, BF16, F64, integers…) is refused with an error naming the tensor and its dtype.
    static let dtype = "F32"

    // MARK: - Writing

    /// Writes `tensors` (sorted by name, F32) and `metadata` to `path`.
    ///
    /// The bytes depend only on the arguments (names and metadata keys sorted, no timestamps), so
    /// the same model saves to the same file. Every tensor is checked before anything touches the
    /// disk. The file is written to `path + ".tmp-<random>"` in the same directory, synced, then
    /// renamed over `path` in one step: a failed or interrupted save leaves any old file as it was.
    /// Missing parent directories are created.
    public static func write(_ tensors: [NamedArray], metadata: [String: String] = [:], to path: String) throws {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try write(tensors, metadata: metadata, to: path, temporaryPath: path + ".tmp-" + suffix)
    }

    /// `write` with the temporary path chosen by the caller (tests use it to make the save fail).
    static func write(_ tensors: [NamedArray], metadata: [String: String], to path: String, temporaryPath: String) throws {
        let bytes = try serialize(tensors, metadata: metadata, file: path)
        let fileManager = FileManager.default
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.writeFailed, file: path, "cannot create its directory: \(error.localizedDescription)")
        }
        try writeAndSync(bytes, to: temporaryPath, checkpoint: path)
        guard rename(temporaryPath, path) == 0 else {
            let reason = errnoMessage()
            unlink(temporaryPath)
            throw CheckpointError(.writeFailed, file: path, "cannot rename \(temporaryPath) over it: \(reason)")
        }
        syncDirectory(of: path)  // makes the rename itself durable; best effort
    }

    /// The whole file as bytes. Checks every tensor first; `file` only names the file in errors.
    static func serialize(_ tensors: [NamedArray], metadata: [String: String], file: String) throws -> [UInt8] {
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__" else {
                throw CheckpointError(.invalidTensor, file: file, "\"__metadata__\" is reserved and cannot name a tensor")
            }
            guard seen.insert(t.name).inserted else {
                throw CheckpointError(.duplicateName, file: file, "tensor \"\(t.name)\" appears twice in the arrays to save")
            }
            guard let count = elementCount(t.shape) else {
                throw CheckpointError(.invalidTensor, file: file, "tensor \"\(t.name)\" has shape \(t.shape): a negative dimension or too many elements")
            }
            guard count == t.values.count else {
                throw CheckpointError(.invalidTensor, file: file, "tensor \"\(t.name)\" has shape \(t.shape) (\(count) elements) but \(t.values.count) values")
            }
        }
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }  // byte order, as Python sorts

        // The header, as Python's safetensors writes it: metadata first, then the tensors in
        // order of their offsets, keys in the order dtype, shape, data_offsets, no spaces.
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { jsonString($0.key) + ":" + jsonString($0.value) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for t in sorted {
            let end = offset + 4 * t.values.count
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append(jsonString(t.name) + ":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }  // data starts 8-byte aligned

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        appendLittleEndian(UInt64(header.count), to: &bytes)
        bytes += header
        for t in sorted {
            for v in t.values { appendLittleEndian(v.bitPattern, to: &bytes) }
        }
        return bytes
    }

    // MARK: - Reading

    /// Reads every tensor and the metadata of the file at `path`, tensors in the order of their
    /// data in the file. Only F32 is read (exactly); another dtype is an `.unsupportedDType` error.
    ///
    /// Throws a `CheckpointError` naming the file and the problem if the file is missing,
    /// truncated, has a malformed header, an unsupported dtype, offsets that disagree with the
    /// shapes, or tensors that leave gaps in the data or overlap.
    public static func read(from path: String) throws -> (tensors: [NamedArray], metadata: [String: String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError(.fileNotFound, file: path, "no such file")
        }
        guard !isDirectory.boolValue else {
            throw CheckpointError(.fileNotFound, file: path, "is a directory, not a checkpoint file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointError(.unreadable, file: path, "cannot read: \(error.localizedDescription)")
        }
        return try parse([UInt8](data), file: path)
    }

    /// Decodes a whole file held in memory. `file` only names the file in errors.
    static func parse(_ bytes: [UInt8], file: String) throws -> (tensors: [NamedArray], metadata: [String: String]) {
        func fail(_ kind: CheckpointError.Kind, _ message: String) -> CheckpointError {
            CheckpointError(kind, file: file, message)
        }

        // 1. The header length. Compared as UInt64 first: a garbage length can exceed Int.max.
        guard bytes.count >= 8 else {
            throw fail(.truncated, "file is \(bytes.count) bytes, too short for the 8-byte header length (truncated or not a safetensors file)")
        }
        let headerLength = readLittleEndian(UInt64.self, bytes, at: 0)
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail(.truncated, "header length is \(headerLength) bytes but only \(bytes.count - 8) bytes follow it (truncated file, or not a safetensors file)")
        }
        let dataStart = 8 + Int(headerLength)
        let bufferSize = bytes.count - dataStart

        // 2. The header: a JSON object of entries, read by Foundation's JSONDecoder.
        let headerBytes = Array(bytes[8..<dataStart])
        guard String(bytes: headerBytes, encoding: .utf8) != nil else {
            throw fail(.badHeader, "header is not valid UTF-8")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch is Header.NotAnObject {
            throw fail(.badHeader, "header is not a JSON object")
        } catch {
            throw fail(.badHeader, "header is not valid JSON" + Self.reason(error))
        }
        // JSONDecoder keeps one of two equal names without a word, so the names are listed from the
        // text itself, in file order: duplicates are found, and problems are reported in file order.
        let names = topLevelNames(headerBytes)
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            throw fail(.duplicateName, "name \"\(name)\" appears twice in the header")
        }

        // 3. Each entry: metadata, or a tensor whose dtype, shape and offsets agree.
        struct Entry { var name: String; var shape: [Int]; var begin: Int; var end: Int }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for name in names {
            guard let member = header.members[name] else {  // cannot happen: the decoder saw every name we list
                throw fail(.badHeader, "entry \"\(name)\" could not be read")
            }
            let tensor: Header.Tensor
            switch member {
            case .failure(let problem): throw fail(.badHeader, problem.message)
            case .success(.metadata(let pairs)): metadata = pairs; continue
            case .success(.tensor(let t)): tensor = t
            }
            guard tensor.dtype == dtype else {
                throw fail(.unsupportedDType,
                           "tensor \"\(name)\" has dtype \(tensor.dtype); this course reads only \(dtype) (convert it to float32 before saving)")
            }
            let shape = tensor.shape
            guard tensor.offsets.count == 2 else {
                throw fail(.badHeader, "\"data_offsets\" of \"\(name)\" has \(tensor.offsets.count) numbers, not 2 [begin, end]")
            }
            let (begin, end) = (tensor.offsets[0], tensor.offsets[1])
            guard begin <= end else {
                throw fail(.badOffsets, "tensor \"\(name)\" has data_offsets [\(begin), \(end)]: begin after end")
            }
            guard let count = elementCount(shape) else {
                throw fail(.badOffsets, "tensor \"\(name)\" has shape \(shape), too many elements")
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: 4)
            guard !overflow, byteCount == end - begin else {
                throw fail(.badOffsets, "tensor \"\(name)\" has data_offsets [\(begin), \(end)] (\(end - begin) bytes) but shape \(shape) of \(dtype) needs \(overflow ? "more" : String(byteCount)) bytes")
            }
            guard end <= bufferSize else {
                throw fail(.truncated, "tensor \"\(name)\" ends at byte \(end) of the data but the file holds only \(bufferSize) data bytes (truncated file?)")
            }
            entries.append(Entry(name: name, shape: shape, begin: begin, end: end))
        }

        // 4. The tensors tile the data buffer: sorted by offset, each starts where the last ended.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        var previous: String? = nil
        for e in entries {
            if e.begin > position {
                throw fail(.badOffsets, "data bytes \(position)..<\(e.begin) belong to no tensor (a gap before \"\(e.name)\")")
            }
            if e.begin < position, let previous {
                throw fail(.badOffsets, "tensors \"\(previous)\" and \"\(e.name)\" overlap: \"\(e.name)\" starts at byte \(e.begin), before \(position)")
            }
            position = e.end
            previous = e.name
        }
        guard position == bufferSize else {
            throw fail(.badOffsets, "the data is \(bufferSize) bytes but the tensors cover only \(position) (extra bytes at the end)")
        }

        // 5. The numbers.
        let tensors = entries.map { e in
            NamedArray(name: e.name, shape: e.shape, values: decodeF32(bytes, from: dataStart + e.begin, to: dataStart + e.end))
        }
        return (tensors, metadata)
    }

    // MARK: - Loading into a model

    /// Matches a checkpoint's tensors to what a model expects, by name, and returns the values by
    /// name. Throws `.modelMismatch` listing every missing tensor, unexpected tensor and wrong shape
    /// (e.g. `down.0.weight: checkpoint has [32, 3, 3, 3], model expects [64, 3, 3, 3]`), so one
    /// failed load tells the whole story. `file` names the checkpoint in the error.
    public static func matchShapes(_ loaded: [NamedArray], expected: [(name: String, shape: [Int])], file: String) throws -> [String: [Float]] {
        var byName: [String: NamedArray] = [:]
        var problems: [String] = []
        for t in loaded {
            if byName[t.name] != nil { problems.append("\(t.name): appears twice in the checkpoint") }
            byName[t.name] = t
        }
        var values: [String: [Float]] = [:]
        var missing: [String] = []
        for (name, shape) in expected where values[name] == nil {
            guard let t = byName[name] else { missing.append(name); continue }
            if t.shape != shape {
                problems.append("\(name): checkpoint has \(t.shape), model expects \(shape)")
            } else {
                values[name] = t.values
            }
        }
        let expectedNames = Set(expected.map(\.name))
        let extra = loaded.map(\.name).filter { !expectedNames.contains($0) }
        if !missing.isEmpty { problems.append("missing from the checkpoint: " + listed(missing)) }
        if !extra.isEmpty { problems.append("in the checkpoint but not in the model: " + listed(extra)) }
        guard problems.isEmpty else {
            throw CheckpointError(.modelMismatch, file: file,
                "does not match the model (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n  " + problems.joined(separator: "\n  "))
        }
        return values
    }

    /// "a, b, c" for a few names; "a, b, c, … (12 in all)" for many.
    private static func listed(_ names: [String], limit: Int = 8) -> String {
        let shown = names.prefix(limit).joined(separator: ", ")
        return names.count <= limit ? shown : shown + ", … (\(names.count) in all)"
    }

    // MARK: - Helpers

    /// The number of elements of `shape` (1 for the scalar shape []), or nil if a dimension is
    /// negative or the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            count = product
        }
        return count
    }
    /// The F32 values stored little-endian in `bytes[begin..<end]` (checked to be in range, whole elements).
    static func decodeF32(_ bytes: [UInt8], from begin: Int, to end: Int) -> [Float] {
        stride(from: begin, to: end, by: 4).map { Float(bitPattern: readLittleEndian(UInt32.self, bytes, at: $0)) }
    }

    /// What JSONDecoder said beyond "not valid JSON", as " (…)", or "" (on Linux it says no more).
    static func reason(_ error: Error) -> String {
        let detail = switch error {
        case DecodingError.dataCorrupted(let context): context.debugDescription
        default: String(describing: error)
        }
        return detail == "The given data was not valid JSON." ? "" : " (\(detail))"
    }
}

// MARK: - The header, through JSONDecoder

/// A JSON object key of any name.
struct AnyKey: CodingKey {
    var stringValue: String
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.init(stringValue) }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// The header as `JSONDecoder` reads it: every top-level member by name.
///
/// Each member is decoded on its own and what is wrong with it is kept as a message rather than
/// thrown, so that `parse` can report problems in the order of the file (a dictionary has no
/// order) and only after checking for duplicate names (which `members` cannot show).
struct Header: Decodable {
    /// One tensor's entry as written: `{"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}`.
    struct Tensor { var dtype: String; var shape: [Int]; var offsets: [Int] }
    enum Member { case metadata([String: String]), tensor(Tensor) }
    struct Problem: Error { var message: String }
    struct NotAnObject: Error {}

    var members: [String: Result<Member, Problem>] = [:]

    init(from decoder: Decoder) throws {
        guard let object = try? decoder.container(keyedBy: AnyKey.self) else { throw NotAnObject() }
        for key in object.allKeys {
            do {
                members[key.stringValue] = .success(try Self.member(key.stringValue, in: object))
            } catch let problem as Problem {
                members[key.stringValue] = .failure(problem)
            } catch {
                members[key.stringValue] = .failure(Problem(message: "entry \"\(key.stringValue)\" cannot be read: \(error)"))
            }
        }
    }

    private static func member(_ name: String, in object: KeyedDecodingContainer<AnyKey>) throws -> Member {
        let key = AnyKey(name)
        if name == "__metadata__" {
            guard let pairs = try? object.nestedContainer(keyedBy: AnyKey.self, forKey: key) else {
                throw Problem(message: "\"__metadata__\" is not a JSON object")
            }
            var metadata: [String: String] = [:]
            for k in pairs.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                guard let value = try? pairs.decode(String.self, forKey: k) else {
                    throw Problem(message: "metadata \"\(k.stringValue)\" is not a string (safetensors metadata maps strings to strings)")
                }
                metadata[k.stringValue] = value
            }
            return .metadata(metadata)
        }
        guard let fields = try? object.nestedContainer(keyedBy: AnyKey.self, forKey: key) else {
            throw Problem(message: "entry \"\(name)\" is not a JSON object with dtype, shape and data_offsets")
        }
        for field in ["dtype", "shape", "data_offsets"] where !fields.contains(AnyKey(field)) {
            throw Problem(message: "entry \"\(name)\" has no \"\(field)\"")
        }
        guard let dtype = try? fields.decode(String.self, forKey: AnyKey("dtype")) else {
            throw Problem(message: "\"dtype\" of \"\(name)\" is not a string")
        }
        /// An array of non-negative integers. Numbers are read as `Decimal`, which keeps the literal's
        /// digits, so "1.5", "-1" and "99999999999999999999999" are reported as written.
        func naturals(_ field: String) throws -> [Int] {
            guard var items = try? fields.nestedUnkeyedContainer(forKey: AnyKey(field)) else {
                throw Problem(message: "\"\(field)\" of \"\(name)\" is not an array")
            }
            var numbers: [Int] = []
            while !items.isAtEnd {
                guard let number = try? items.decode(Decimal.self) else {
                    throw Problem(message: "\"\(field)\" of \"\(name)\" holds something that is not a number in range")
                }
                guard let n = Int(number.description), n >= 0 else {
                    throw Problem(message: "\"\(field)\" of \"\(name)\" holds \(number), not a non-negative integer")
                }
                numbers.append(n)
            }
            return numbers
        }
        return .tensor(Tensor(dtype: dtype, shape: try naturals("shape"), offsets: try naturals("data_offsets")))
    }
}

/// The names of the header's top-level members in file order, repeats kept. Runs on a header that
/// JSONDecoder has accepted as an object, so it only has to follow strings and nesting: a string at
/// depth 1 followed by ':' is a name. Escaped names ("\u0061") are decoded, so they compare equal
/// to their plain spelling.
func topLevelNames(_ header: [UInt8]) -> [String] {
    let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
    let whitespace: Set<UInt8> = [0x20, 0x09, 0x0a, 0x0d]
    var names: [String] = []
    var depth = 0
    var i = 0
    while i < header.count {
        let c = header[i]
        if c == quote {
            let start = i
            i += 1
            while i < header.count && header[i] != quote { i += header[i] == backslash ? 2 : 1 }
            i += 1  // past the closing quote
            guard depth == 1, i <= header.count else { continue }
            var j = i
            while j < header.count && whitespace.contains(header[j]) { j += 1 }
            guard j < header.count && header[j] == colon else { continue }
            let literal = header[start..<i]
            if literal.contains(backslash) {
                let decoded = try? JSONDecoder().decode([String].self, from: Data([UInt8(ascii: "[")] + literal + [UInt8(ascii: "]")]))
                names.append(decoded?.first ?? String(decoding: literal, as: UTF8.self))
            } else {
                names.append(String(decoding: literal.dropFirst().dropLast(), as: UTF8.self))
            }
            continue
        }
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
        if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { depth -= 1 }
        i += 1
    }
    return names
}

// MARK: - Bytes

/// Appends `value` least significant byte first.
func appendLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T, to bytes: inout [UInt8]) {
    for k in 0..<(T.bitWidth / 8) { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
}

/// Reads a `T` stored least significant byte first at `bytes[offset...]` (the caller checks range).
func readLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
    var value: T = 0
    for k in 0..<(T.bitWidth / 8) { value |= T(bytes[offset + k]) << (8 * k) }
    return value
}

/// `s` as a JSON string literal, escaped as serde_json (Python's safetensors) escapes it.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private func errnoMessage() -> String { String(cString: strerror(errno)) }

/// Creates `path` (which must not exist), writes `bytes` and fsyncs, so the bytes are on the disk
/// before the rename makes them the checkpoint. POSIX calls rather than `Data.write`, whose
/// errors on Linux say only "NSCocoaErrorDomain error 512".
/// On failure the temporary file is removed and the error names `checkpoint`.
private func writeAndSync(_ bytes: [UInt8], to path: String, checkpoint: String) throws {
    func failure(_ what: String) -> CheckpointError {
        CheckpointError(.writeFailed, file: checkpoint, "cannot \(what) \(path): \(errnoMessage())")
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw failure("create") }
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
            let error = failure("write")
            close(fd)
            unlink(path)
            throw error
        }
        written += n
    }
    guard fsync(fd) == 0, close(fd) == 0 else {
        let error = failure("fsync and close")
        unlink(path)
        throw error
    }
}

/// fsync of the directory, so the rename survives a power cut. Best effort: ignored where unsupported.
private func syncDirectory(of path: String) {
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    let fd = open(directory, O_RDONLY)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
}
