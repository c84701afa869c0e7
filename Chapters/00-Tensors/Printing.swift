// How chapter 0 prints tensors and numbers: small text layouts, nothing the lesson depends on.

import Foundation
import Imaging
import Tensor

/// A number with up to `digits` significant digits and no exponent for everyday sizes.
func num(_ v: Float, digits: Int = 4) -> String { num(Double(v), digits: digits) }
func num(_ v: Double, digits: Int = 4) -> String {
    let s = Report.format(v, digits: digits)
    return s == "-0" ? "0" : s
}

/// A tensor of rank 0, 1 or 2 drawn as a grid of numbers under its name and shape, e.g.
/// ```
/// a  [3, 1]
///   [ 0]
///   [10]
///   [20]
/// ```
func grid(_ t: Tensor, _ name: String) -> String {
    let header = "\(name)  \(t.shape)"
    if t.rank == 0 { return header + "  = " + num(t.item) }
    let columns = t.shape.last!
    let cells = t.data.map { num($0) }
    let width = cells.map(\.count).max() ?? 1
    var lines = [header]
    for row in 0..<(t.count / Swift.max(columns, 1)) {
        let shown = cells[(row * columns)..<((row + 1) * columns)]
        lines.append("  [" + shown.map { String(repeating: " ", count: width - $0.count) + $0 }.joined(separator: ", ") + "]")
    }
    return lines.joined(separator: "\n")
}

/// Several text blocks side by side, separated by `gap` spaces.
func sideBySide(_ blocks: [String], gap: Int = 6) -> String {
    let split = blocks.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    let widths = split.map { $0.map(\.count).max() ?? 0 }
    let height = split.map(\.count).max() ?? 0
    return (0..<height).map { row in
        var line = split.enumerated().map { i, lines in
            (row < lines.count ? lines[row] : "").padding(toLength: widths[i] + gap, withPad: " ", startingAt: 0)
        }.joined()
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }.joined(separator: "\n")
}

/// "[0, 1, 2]" for a list of numbers.
func list(_ values: [Float]) -> String { "[" + values.map { num($0) }.joined(separator: ", ") + "]" }
