// What every chapter executable shares: its notebook (the narrated sections it prints, mirrored
// into `report.md` with the figures in order), which also ends a run cleanly on an I/O error.

import Foundation
import Imaging

/// The chapter's notebook: each call prints to the terminal and adds the same to `report.md`.
///
/// It also ends the run cleanly when something a user can cause goes wrong (an output folder that
/// cannot be written, a broken file): `fail` prints one line on stderr that names the file or flag
/// and exits with status 1. Figures already written stay; `report.md` is rewritten atomically, so a
/// failed save leaves the previous one whole.
public final class Notebook {
    public let chapter: String
    public let report: Report
    public let directory: String

    /// Creates the output folder (or stops with a message naming it) and starts the report.
    public init(chapter: String, directory: String, title: String) {
        self.chapter = chapter
        self.directory = directory
        report = Report(directory: directory, title: title)
        Notebook.prepare(directory, chapter: chapter)
        print("# \(title)\n")
    }

    /// Makes sure `directory` is a folder we can write into, creating it if needed.
    static func prepare(_ directory: String, chapter: String) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            stop(chapter, "--out \(directory) is a file, not a folder; choose another --out")
        }
        if let problem = makeDirectories(directory) {
            stop(chapter, "cannot create the output folder \(directory) (\(problem)); choose another --out")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            stop(chapter, "cannot write into the output folder \(directory); choose another --out")
        }
    }

    /// Ends the run: one line on stderr, exit status 1.
    public func fail(_ message: String) -> Never { Notebook.stop(chapter, message) }

    static func stop(_ chapter: String, _ message: String) -> Never {
        standardError("\(chapter): \(message)")
        exit(1)
    }

    /// Runs `body`; if it throws, ends the run with the error's message (prefixed by `what`, if given).
    public func must<T>(_ what: String? = nil, _ body: () throws -> T) -> T {
        do {
            return try body()
        } catch {
            fail((what.map { $0 + ": " } ?? "") + reason(error))
        }
    }

    /// The path of `name` inside the output folder.
    public func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// A numbered section, e.g. `section("1.2 The forward process, step by step")`.
    public func section(_ title: String) {
        print("\n## \(title)")
        report.heading(title, level: 2)
    }

    /// A paragraph of narration.
    public func say(_ text: String) {
        print(text)
        report.text(text)
    }

    /// Preformatted text (a table of numbers, a graph drawn as text).
    public func code(_ text: String) {
        print(text)
        report.code(text)
    }

    public func table(headers: [String], rows: [[String]]) {
        let widths = headers.indices.map { c in ([headers[c]] + rows.map { c < $0.count ? $0[c] : "" }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(line(headers))
        for r in rows { print(line(r)) }
        report.table(headers: headers, rows: rows)
    }

    /// Saves a figure next to report.md and links it there.
    public func figure(_ image: Image, name: String, caption: String) {
        must { try report.figure(image, name: name, caption: caption) }
        print("[figure] \(path(name)) — \(caption)")
    }

    public func figure(_ plot: Plot, name: String, caption: String) {
        figure(plot.render(), name: name, caption: caption)
    }

    /// Writes report.md; returns its path.
    @discardableResult
    public func save() -> String {
        let written = must { try report.save() }
        print("\nReport written to \(written)")
        return written
    }
}

/// Creates `path` and its missing parents, like `mkdir -p`; returns the system's reason on failure.
func makeDirectories(_ path: String) -> String? {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        return isDirectory.boolValue ? nil : "\(path) is a file"
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path, let problem = makeDirectories(parent) { return problem }
    if mkdir(path, 0o755) != 0, errno != EEXIST { return String(cString: strerror(errno)) }
    return nil
}

/// An error's message on one line: its description (ours all read as sentences), first line only.
public func reason(_ error: Error) -> String {
    let text: String
    if let described = (error as? LocalizedError)?.errorDescription {
        text = described
    } else if error is CocoaError {
        text = error.localizedDescription   // Foundation's file errors: "The file … couldn't be saved …"
    } else {
        text = String(describing: error)
    }
    return text.split(separator: "\n").first.map(String.init) ?? text
}

/// A short, stable name for a training recipe: the 64-bit FNV-1a hash of its description, as 16
/// hex digits. Chapters cache trained weights under it, so changing any setting trains anew while
/// an unchanged recipe loads in seconds.
public func configurationHash(_ description: String) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in description.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return String(format: "%016llx", h)
}
