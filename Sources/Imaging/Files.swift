// Writing files so that a reader never sees half of one: every file the course
// writes (PNG, report.md, CSV) goes to a temporary name in the same directory
// and is then renamed over the target, which POSIX makes atomic. A run killed
// mid-write leaves the old file (or none), never a truncated one.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates the directory that will hold `path` (and its parents) if missing.
func createParentDirectory(of path: String) throws {
    let parent = (path as NSString).deletingLastPathComponent
    if parent.isEmpty { return }
    try createDirectory(parent)
}

/// Creates `directory` and its parents if missing.
func createDirectory(_ directory: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
        if isDirectory.boolValue { return }
        throw ImagingError("cannot create directory \(directory): a file of that name exists")
    }
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
        throw ImagingError("cannot create directory \(directory): \(error.localizedDescription)")
    }
}

/// A fresh temporary path beside `path` (same directory, so rename is atomic).
func temporaryPath(beside path: String) -> String {
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    let tag = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    let temp = ".\(name).tmp-\(tag)"
    return directory.isEmpty ? temp : (directory as NSString).appendingPathComponent(temp)
}

/// Renames `temp` over `path` (atomic on POSIX); removes `temp` on failure.
func moveIntoPlace(_ temp: String, _ path: String) throws {
    if rename(temp, path) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temp)
        throw ImagingError("cannot write \(path): rename failed (\(reason))")
    }
}

/// Writes `data` to `path` atomically (temporary file + rename), creating
/// parent directories as needed.
public func writeFileAtomically(_ data: Data, to path: String) throws {
    try createParentDirectory(of: path)
    let temp = temporaryPath(beside: path)
    do {
        try data.write(to: URL(fileURLWithPath: temp))
    } catch {
        unlink(temp)
        throw ImagingError("cannot write \(path): \(error.localizedDescription)")
    }
    try moveIntoPlace(temp, path)
}

/// Writes UTF-8 `text` to `path` atomically, creating parent directories.
public func writeTextAtomically(_ text: String, to path: String) throws {
    try writeFileAtomically(Data(text.utf8), to: path)
}

/// Writes a CSV file: one header line, then one line per row, values in
/// Swift's shortest round-trip notation (e.g. `0.1`, `-2.5e-05`), so reading
/// the file back gives exactly the same Doubles. Written atomically.
///
///     try writeCSV("output/01/samples.csv", header: ["x", "y"], rows: points)
public func writeCSV(_ path: String, header: [String], rows: [[Double]]) throws {
    for (i, row) in rows.enumerated() where row.count != header.count {
        throw ImagingError("cannot write \(path): row \(i) has \(row.count) values but the header has \(header.count) columns")
    }
    var text = header.map(csvField).joined(separator: ",") + "\n"
    for row in rows {
        text += row.map { "\($0)" }.joined(separator: ",") + "\n"
    }
    try writeTextAtomically(text, to: path)
}

/// Writes a CSV file of strings (quoted where needed, RFC 4180), e.g. a checker's
/// verdicts per sample. Written atomically.
public func writeCSV(_ path: String, header: [String], rows: [[String]]) throws {
    for (i, row) in rows.enumerated() where row.count != header.count {
        throw ImagingError("cannot write \(path): row \(i) has \(row.count) values but the header has \(header.count) columns")
    }
    var text = header.map(csvField).joined(separator: ",") + "\n"
    for row in rows {
        text += row.map(csvField).joined(separator: ",") + "\n"
    }
    try writeTextAtomically(text, to: path)
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ s: String) -> String {
    if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return s
}
