// What every chapter executable shares: its command-line flags and its notebook (the
// narrated sections it prints, mirrored into `report.md` with the figures in order).

import Foundation
import Imaging

/// A chapter-specific flag: `--name VALUE` (or a switch with no value).
public struct Flag {
    public let name: String
    public let valueName: String?
    public let help: String
    public let defaultValue: String?
    public init(_ name: String, value valueName: String? = nil, default defaultValue: String? = nil, help: String) {
        self.name = name; self.valueName = valueName; self.help = help; self.defaultValue = defaultValue
    }
}

/// The flags every chapter takes, plus its own. Parsing stops the program with a message that
/// names the flag when something is wrong, and prints the usage for `--help`.
public struct ChapterOptions {
    public let chapter: String
    public var quick = false
    public var seed: UInt64 = 0
    public var out: String
    public var ablate = false
    public var retrain = false
    /// Values of chapter-specific flags (switches hold "true"); repeated flags keep every value.
    public var values: [String: [String]] = [:]

    public func value(_ flag: String) -> String? { values[flag]?.last }
    public func all(_ flag: String) -> [String] { values[flag] ?? [] }
    public func flag(_ flag: String) -> Bool { values[flag] != nil }

    public static func parse(chapter: String, summary: String, flags: [Flag] = [],
                             arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> ChapterOptions {
        var options = ChapterOptions(chapter: chapter, out: "output/\(chapter)")
        let common = [
            Flag("--quick", help: "a tiny run that finishes in seconds (what the tests use)"),
            Flag("--seed", value: "N", default: "0", help: "random seed; the same seed gives the same run"),
            Flag("--out", value: "DIR", default: "output/\(chapter)", help: "where report.md and the figures go"),
            Flag("--ablate", help: "also run the chapter's comparisons"),
            Flag("--retrain", help: "train even if cached weights exist"),
        ]
        let known = common + flags
        func usage() -> String {
            var lines = ["usage: swift run -c release \(chapter) [flags]", "", summary, "", "flags:"]
            for f in known + [Flag("--help", help: "show this help")] {
                let left = f.name + (f.valueName.map { " " + $0 } ?? "")
                let def = f.defaultValue.map { " (default: \($0))" } ?? ""
                lines.append("  " + left.padding(toLength: 22, withPad: " ", startingAt: 0) + f.help + def)
            }
            return lines.joined(separator: "\n")
        }
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("\(chapter): \(message)\nRun with --help to see the flags.\n".utf8))
            exit(2)
        }
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--help" || arg == "-h" { print(usage()); exit(0) }
            guard let flag = known.first(where: { $0.name == arg }) else {
                fail("unknown argument '\(arg)'. Flags: " + known.map(\.name).joined(separator: ", "))
            }
            var value = "true"
            if let valueName = flag.valueName {
                guard i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") else {
                    fail("\(arg) needs a value (\(valueName))")
                }
                value = arguments[i + 1]
                i += 1
            }
            switch arg {
            case "--quick": options.quick = true
            case "--ablate": options.ablate = true
            case "--retrain": options.retrain = true
            case "--out": options.out = value
            case "--seed":
                guard let s = UInt64(value) else { fail("--seed needs a non-negative integer, got '\(value)'") }
                options.seed = s
            default: options.values[arg, default: []].append(value)
            }
            i += 1
        }
        for f in flags where options.values[f.name] == nil && f.defaultValue != nil {
            options.values[f.name] = [f.defaultValue!]
        }
        return options
    }

    /// Stops the chapter with exit status 2 and `message` (which should name the flag at fault).
    public func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(chapter): \(message)\n".utf8))
        exit(2)
    }

    /// An integer flag with a default that depends on `--quick`: the flag's value if given, else
    /// `normal`, or `quick` in a quick run.
    public func count(_ flag: String, _ normal: Int, quick: Int) -> Int {
        value(flag) == nil ? (self.quick ? quick : normal) : number(flag)
    }

    /// Parses a numeric chapter flag, or stops with a message naming it.
    public func number<T: LosslessStringConvertible>(_ flag: String, as: T.Type = T.self) -> T {
        guard let text = value(flag), let v = T(text) else {
            FileHandle.standardError.write(Data("\(chapter): \(flag) needs a number, got '\(value(flag) ?? "nothing")'\n".utf8))
            exit(2)
        }
        return v
    }
}

/// The chapter's notebook: each call prints to the terminal and adds the same to `report.md`.
public final class Notebook {
    public let report: Report
    public let directory: String

    public init(directory: String, title: String) {
        self.directory = directory
        report = Report(directory: directory, title: title)
        print("# \(title)\n")
    }

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
        let widths = headers.indices.map { c in ([headers[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(line(headers))
        for r in rows { print(line(r)) }
        report.table(headers: headers, rows: rows)
    }

    /// Saves a figure next to report.md and links it there.
    public func figure(_ image: Image, name: String, caption: String) throws {
        try report.figure(image, name: name, caption: caption)
        print("[figure] \(directory)/\(name) — \(caption)")
    }

    public func figure(_ plot: Plot, name: String, caption: String) throws {
        try report.figure(plot, name: name, caption: caption)
        print("[figure] \(directory)/\(name) — \(caption)")
    }

    /// Writes report.md; returns its path.
    @discardableResult
    public func save() throws -> String {
        let path = try report.save()
        print("\nReport written to \(path)")
        return path
    }
}

/// A short, stable name for a training configuration: the 32-bit FNV-1a hash of its
/// description, as 8 hex digits. Chapters cache trained weights under it, so changing any
/// setting trains anew while an unchanged configuration loads in seconds.
public func configurationHash(_ description: String) -> String {
    var h: UInt32 = 2_166_136_261
    for byte in description.utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
    return String(format: "%08x", h)
}
