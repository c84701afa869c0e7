// The run report: every chapter writes `report.md` into its output folder, a
// notebook of what the run did — its narrated sections, numbers, tables and
// figures in order — readable in any Markdown viewer.
//
//     let report = Report(directory: "output/01-noise", title: "Chapter 1: Noise addition")
//     report.heading("1.4 An image dissolving")
//     report.text("Noise is added in T = 1000 small steps.")
//     try report.figure(strip, name: "dissolve.png", caption: "x_t for t = 0 ... 999")
//     // -> output/01-noise/dissolve.png, linked from output/01-noise/report.md
//     report.number("final loss", 0.0312, unit: "MSE")
//     report.table(headers: ["t", "loss"], rows: [["0", "0.91"], ["999", "0.02"]])
//     try report.save()
//
// Figures are written as they are added; `save()` (re)writes report.md
// atomically, so it can be called after every section to keep a partial
// report when a long run is interrupted.
import Foundation

/// A Markdown report accumulated in order and saved as `directory/report.md`.
public final class Report {
    public let directory: String
    public let title: String
    /// The Markdown so far.
    public private(set) var markdown: String

    /// Starts a report whose first line is `# title`. Nothing is written until
    /// a figure is added or `save()` is called.
    public init(directory: String, title: String) {
        self.directory = directory
        self.title = title
        self.markdown = "# \(title)\n"
    }

    /// The path of report.md.
    public var path: String { (directory as NSString).appendingPathComponent("report.md") }

    /// Whether the last thing added was a `keyValue`/`number` list item.
    private var lastWasListItem = false

    /// Appends a Markdown block, separated from the previous one by a blank line.
    private func block(_ text: String) {
        markdown += "\n" + text + (text.hasSuffix("\n") ? "" : "\n")
        lastWasListItem = false
    }

    /// A section heading, `level` 1 to 6 (default 2: `## text`).
    public func heading(_ text: String, level: Int = 2) {
        block(String(repeating: "#", count: min(6, max(1, level))) + " " + text)
    }

    /// A paragraph of text (Markdown allowed).
    public func text(_ paragraph: String) {
        block(paragraph)
    }

    /// A labelled number as a list item: `- **label:** 0.0312 MSE`, the value
    /// with `digits` significant digits (integers print without decimals).
    public func number(_ label: String, _ value: Double, unit: String = "", digits: Int = 4) {
        keyValue(label, Report.format(value, digits: digits) + (unit.isEmpty ? "" : " " + unit))
    }

    /// A labelled value as a list item: `- **key:** value`. Consecutive items
    /// form one list.
    public func keyValue(_ key: String, _ value: String) {
        if lastWasListItem {
            markdown += "- **\(key):** \(value)\n"  // continue the list
        } else {
            block("- **\(key):** \(value)")
        }
        lastWasListItem = true
    }

    /// A Markdown table. Cells containing "|" are escaped; rows shorter than
    /// the header are padded with empty cells.
    public func table(headers: [String], rows: [[String]]) {
        func row(_ cells: [String]) -> String {
            let padded = cells + [String](repeating: "", count: max(0, headers.count - cells.count))
            return "| " + padded.map { Report.escapeCell($0) }.joined(separator: " | ") + " |"
        }
        var lines = [row(headers), "|" + headers.map { _ in "---" }.joined(separator: "|") + "|"]
        lines += rows.map(row)
        block(lines.joined(separator: "\n"))
    }

    /// Writes `image` as PNG to `directory/name` (`name` may contain a
    /// subfolder, e.g. "samples/001.png") and inserts `![caption](name)`.
    public func figure(_ image: Image, name: String, caption: String) throws {
        try image.writePNG(to: (directory as NSString).appendingPathComponent(name))
        let link = name.replacingOccurrences(of: " ", with: "%20")
        block("![\(caption.replacingOccurrences(of: "]", with: "\\]"))](\(link))")
    }

    /// Writes a plot as a figure (see `figure(_:name:caption:)`).
    public func figure(_ plot: Plot, name: String, caption: String) throws {
        try figure(plot.render(), name: name, caption: caption)
    }

    /// A fenced code block (e.g. a command line or printed output).
    public func code(_ text: String, language: String = "") {
        // Use a fence longer than any run of backticks in the text.
        var fence = "```"
        while text.contains(fence) { fence += "`" }
        block(fence + language + "\n" + text + (text.hasSuffix("\n") ? "" : "\n") + fence)
    }

    /// Writes report.md atomically (temporary file + rename), creating the
    /// directory if needed. Returns its path.
    @discardableResult
    public func save() throws -> String {
        try writeTextAtomically(markdown, to: path)
        return path
    }

    // MARK: - Formatting

    /// `value` with `digits` significant digits, no exponent for everyday
    /// magnitudes: 0.031234 → "0.03123", 1500 → "1500", 2.0 → "2", 1e-7 → "1e-07".
    public static func format(_ value: Double, digits: Int = 4) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.\(max(1, digits))g", value)
    }

    static func escapeCell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
