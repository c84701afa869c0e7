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
        case unsupportedDType  // a dtype we cannot turn into Float
        case badOffsets        // offsets disagree with shape × dtype size, or gaps / overlaps
        case duplicateName     // one name twice (in a header, or in the arrays to write)
        case invalidTensor     // writing: shape product ≠ values.count, negative size, reserved name
        case writeFailed       // creating, writing, syncing or renaming the file failed
        case modelMismatch     // the checkpoint does not fit the model: missing, extra or mis-shaped
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
    /// The only dtype we write. Reading also converts F16, BF16 and F64 to Float.
    static let writtenDType = "F32"

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
            entries.append(jsonString(t.name) + ":{\"dtype\":\"\(writtenDType)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
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
    /// data in the file. F32 is read exactly; F16, BF16 and F64 are converted to Float.
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

        // 2. The header: a JSON object of entries.
        let headerBytes = Array(bytes[8..<dataStart])
        guard String(bytes: headerBytes, encoding: .utf8) != nil else {
            throw fail(.badHeader, "header is not valid UTF-8")
        }
        let json: JSON
        do {
            json = try JSONParser.parse(headerBytes)
        } catch let error as JSONParser.Failure {
            throw fail(.badHeader, "header is not valid JSON: \(error.message)")
        }
        guard case .object(let members) = json else {
            throw fail(.badHeader, "header is not a JSON object")
        }

        // 3. Each entry: metadata, or a tensor whose dtype, shape and offsets agree.
        struct Entry { var name: String; var dtype: DType; var shape: [Int]; var begin: Int; var end: Int }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw fail(.duplicateName, "name \"\(name)\" appears twice in the header")
            }
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw fail(.badHeader, "\"__metadata__\" is not a JSON object") }
                for (key, value) in pairs {
                    guard case .string(let string) = value else {
                        throw fail(.badHeader, "metadata \"\(key)\" is not a string (safetensors metadata maps strings to strings)")
                    }
                    metadata[key] = string
                }
                continue
            }
            guard case .object(let fields) = value else {
                throw fail(.badHeader, "entry \"\(name)\" is not a JSON object with dtype, shape and data_offsets")
            }
            func field(_ key: String) throws -> JSON {
                guard let v = fields.first(where: { $0.key == key })?.value else {
                    throw fail(.badHeader, "entry \"\(name)\" has no \"\(key)\"")
                }
                return v
            }
            func naturals(_ key: String) throws -> [Int] {
                guard case .array(let items) = try field(key) else {
                    throw fail(.badHeader, "\"\(key)\" of \"\(name)\" is not an array")
                }
                return try items.map { item in
                    guard case .number(let literal) = item, let n = Int(literal), n >= 0 else {
                        throw fail(.badHeader, "\"\(key)\" of \"\(name)\" holds \(item), not a non-negative integer")
                    }
                    return n
                }
            }
            guard case .string(let dtypeName) = try field("dtype") else {
                throw fail(.badHeader, "\"dtype\" of \"\(name)\" is not a string")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                let supported = DType.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail(.unsupportedDType, "tensor \"\(name)\" has dtype \(dtypeName); supported: \(supported)")
            }
            let shape = try naturals("shape")
            let offsets = try naturals("data_offsets")
            guard offsets.count == 2 else {
                throw fail(.badHeader, "\"data_offsets\" of \"\(name)\" has \(offsets.count) numbers, not 2 [begin, end]")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw fail(.badOffsets, "tensor \"\(name)\" has data_offsets [\(begin), \(end)]: begin after end")
            }
            guard let count = elementCount(shape) else {
                throw fail(.badOffsets, "tensor \"\(name)\" has shape \(shape), too many elements")
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, byteCount == end - begin else {
                throw fail(.badOffsets, "tensor \"\(name)\" has data_offsets [\(begin), \(end)] (\(end - begin) bytes) but shape \(shape) of \(dtypeName) needs \(overflow ? "more" : String(byteCount)) bytes")
            }
            guard end <= bufferSize else {
                throw fail(.truncated, "tensor \"\(name)\" ends at byte \(end) of the data but the file holds only \(bufferSize) data bytes (truncated file?)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
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
            NamedArray(name: e.name, shape: e.shape, values: e.dtype.decode(bytes, from: dataStart + e.begin, to: dataStart + e.end))
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

    /// The element types we can read, named as in the safetensors header.
    enum DType: String, CaseIterable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"

        var size: Int {
            switch self {
            case .f32: 4
            case .f16, .bf16: 2
            case .f64: 8
            }
        }

        /// The values stored in `bytes[begin..<end]` (already checked to be in range, whole elements).
        func decode(_ bytes: [UInt8], from begin: Int, to end: Int) -> [Float] {
            stride(from: begin, to: end, by: size).map { i in
                switch self {
                case .f32: Float(bitPattern: readLittleEndian(UInt32.self, bytes, at: i))
                case .f64: Float(Double(bitPattern: readLittleEndian(UInt64.self, bytes, at: i)))
                // bfloat16 is the top half of a float32.
                case .bf16: Float(bitPattern: UInt32(readLittleEndian(UInt16.self, bytes, at: i)) << 16)
                case .f16: floatFromHalf(readLittleEndian(UInt16.self, bytes, at: i))
                }
            }
        }
    }

    /// IEEE half precision (1 sign, 5 exponent, 10 fraction bits) to Float, exactly. Written out
    /// because `Float16` is unavailable on Intel Macs.
    static func floatFromHalf(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int(h >> 10 & 0x1f)
        let fraction = UInt32(h & 0x3ff)
        switch exponent {
        case 0: return sign * Float(fraction) * 0x1p-24  // zero and subnormals: fraction × 2⁻²⁴
        case 31:  // infinity and NaN (payload kept)
            return Float(bitPattern: UInt32(h & 0x8000) << 16 | 0x7f80_0000 | fraction << 13)
        default:  // rebias the exponent from 15 to 127, widen the fraction from 10 to 23 bits
            return Float(bitPattern: UInt32(h & 0x8000) << 16 | UInt32(exponent - 15 + 127) << 23 | fraction << 13)
        }
    }
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

// MARK: - A small JSON reader

/// JSON as the header needs it. Objects keep their members in file order (so duplicate names can
/// be reported, which JSONSerialization silently merges), and numbers keep their literal text
/// (so "3", "3.0" and "1e400" are told apart and nothing overflows while parsing).
indirect enum JSON: CustomStringConvertible {
    case object([(key: String, value: JSON)])
    case array([JSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    var description: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string(let s): jsonString(s)
        case .number(let n): n
        case .bool(let b): String(b)
        case .null: "null"
        }
    }
}

/// Recursive descent over the UTF-8 bytes of one JSON value (RFC 8259), surrounding whitespace allowed.
struct JSONParser {
    struct Failure: Error { var message: String }

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0
    private static let maxDepth = 64  // a hostile "[[[[…" must not overflow the stack

    static func parse(_ bytes: [UInt8]) throws -> JSON {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.i == bytes.count else { throw parser.failure("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ what: String) -> Failure { Failure(message: "\(what) at byte \(i) of the header") }

    private var current: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: Character) throws {
        guard current == c.asciiValue else { throw failure("expected '\(c)'") }
        i += 1
    }

    private mutating func value() throws -> JSON {
        guard let c = current else { throw failure("unexpected end") }
        switch c {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default:
            for (word, result) in [("true", JSON.bool(true)), ("false", .bool(false)), ("null", .null)]
            where bytes[i...].starts(with: word.utf8) {
                i += word.utf8.count
                return result
            }
            throw failure("unexpected character")
        }
    }

    private mutating func nested<T>(_ body: (inout JSONParser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth) levels") }
        return try body(&self)
    }

    private mutating func object() throws -> JSON {
        try nested { p in
            try p.expect("{")
            var members: [(key: String, value: JSON)] = []
            p.skipWhitespace()
            if p.current == UInt8(ascii: "}") { p.i += 1; return .object(members) }
            while true {
                p.skipWhitespace()
                guard p.current == UInt8(ascii: "\"") else { throw p.failure("expected a string key") }
                let key = try p.string()
                p.skipWhitespace()
                try p.expect(":")
                p.skipWhitespace()
                members.append((key, try p.value()))
                p.skipWhitespace()
                if p.current == UInt8(ascii: ",") { p.i += 1; continue }
                try p.expect("}")
                return .object(members)
            }
        }
    }

    private mutating func array() throws -> JSON {
        try nested { p in
            try p.expect("[")
            var items: [JSON] = []
            p.skipWhitespace()
            if p.current == UInt8(ascii: "]") { p.i += 1; return .array(items) }
            while true {
                p.skipWhitespace()
                items.append(try p.value())
                p.skipWhitespace()
                if p.current == UInt8(ascii: ",") { p.i += 1; continue }
                try p.expect("]")
                return .array(items)
            }
        }
    }

    private mutating func number() throws -> String {
        let start = i
        func digits(_ p: inout JSONParser) -> Int {
            let from = p.i
            while let c = p.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) { p.i += 1 }
            return p.i - from
        }
        if current == UInt8(ascii: "-") { i += 1 }
        guard digits(&self) > 0 else { throw failure("expected digits") }
        if current == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw failure("expected digits after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            i += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw failure("expected exponent digits") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private mutating func string() throws -> String {
        try expect("\"")
        var utf16: [UInt16] = []  // escapes are UTF-16 code units; surrogate pairs join up at the end
        var raw: [UInt8] = []     // unescaped bytes, valid UTF-8 (the whole header was checked)
        func flushRaw() { utf16 += String(decoding: raw, as: UTF8.self).utf16; raw.removeAll() }
        while true {
            guard let c = current else { throw failure("unterminated string") }
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                flushRaw()
                return String(decoding: utf16, as: UTF16.self)
            case UInt8(ascii: "\\"):
                guard let e = current else { throw failure("unterminated string") }
                i += 1
                let simple: [UInt8: UInt16] = [0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09]
                flushRaw()
                if let unit = simple[e] {
                    utf16.append(unit)
                } else if e == UInt8(ascii: "u"), i + 4 <= bytes.count,
                          bytes[i..<i + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
                          let unit = UInt16(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) {
                    utf16.append(unit)
                    i += 4
                } else {
                    throw failure("invalid escape")
                }
            case 0..<0x20:
                throw failure("control character in a string")
            default:
                raw.append(c)
            }
        }
    }
}
