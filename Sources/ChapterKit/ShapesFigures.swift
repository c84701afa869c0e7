// What the image chapters (3 onwards) do with a batch of Shapes samples: clip them to the data's
// range, show them in a captioned grid, and write every image and the checker's verdict to disk
// (`samples/NNN-<caption or "sample">.png` and `verdicts.csv`).

import Datasets
import Foundation
import Imaging
import Tensor

/// Values clipped to the data's range −1…1 (outside the graph).
public func clipped(_ x: Tensor) -> Tensor { Tensor(x.data.map { Swift.min(1, Swift.max(-1, $0)) }, shape: x.shape) }

/// Image `i` of a batch `[B, 3, H, W]` in −1…1.
public func shapeImage(_ i: Int, of batch: Tensor) -> Image {
    Image(chw: ShapesDataset.image(i, of: batch), channels: 3, height: batch.shape[2], width: batch.shape[3])
}

/// One image enlarged ×4 with a caption above it (wrapped), as a small grid of its own.
public func captioned(_ image: Image, _ caption: String) -> Image {
    ImageGrid(rows: [[image]], scale: 4, padding: 2, columnLabels: [caption]).render()
}

/// The first `count` samples, each under the checker's verdict (its caption, or why it is not a clean shape).
public func verdictGrid(_ samples: Tensor, _ verdicts: [ShapeDescription], count: Int = 64, columns: Int = 8) -> Image {
    let cells = (0..<Swift.min(count, samples.shape[0])).map {
        captioned(shapeImage($0, of: samples), verdicts[$0].combination?.caption ?? verdicts[$0].description)
    }
    return ImageGrid(images: cells, columns: columns, scale: 1, padding: 4).render()
}

/// Writes `directory/samples/NNN-<caption>.png` for every sample (the folder is emptied first) and
/// `directory/verdicts.csv` (index, file, valid, verdict). `prompts`, if given, adds the prompt
/// each sample was asked for as a column.
public func writeSamples(_ samples: Tensor, verdicts: [ShapeDescription], prompts: [String]? = nil, to directory: String) throws {
    try writeSamples(samples, labels: verdicts.map { $0.combination?.caption ?? "sample" },
                     header: ["valid", "verdict"] + (prompts == nil ? [] : ["prompt"]),
                     rows: verdicts.indices.map { i in
                         [verdicts[i].isValid ? "valid" : "invalid", verdicts[i].description] + (prompts.map { [$0[i]] } ?? [])
                     }, to: directory)
}

/// Writes `directory/samples/NNN-<label>.png` for every image of `samples` `[N, 3, H, W]` (the folder
/// is emptied first) and `directory/verdicts.csv` with the columns index, file, then `header`, one
/// row of `rows` per sample.
public func writeSamples(_ samples: Tensor, labels: [String], header: [String], rows: [[String]], to directory: String) throws {
    let folder = (directory as NSString).appendingPathComponent("samples")
    try? FileManager.default.removeItem(atPath: folder)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var lines: [[String]] = []
    for i in 0..<samples.shape[0] {
        let name = String(format: "%03d-", i) + labels[i].replacingOccurrences(of: " ", with: "-") + ".png"
        try shapeImage(i, of: samples).writePNG(to: (folder as NSString).appendingPathComponent(name))
        lines.append([String(i), "samples/" + name] + rows[i])
    }
    try writeCSV((directory as NSString).appendingPathComponent("verdicts.csv"), header: ["index", "file"] + header, rows: lines)
}

/// Mean ± sample sd, formatted: "41.1 ± 7.3".
public func meanAndSD(_ values: [Double], digits: Int = 3) -> String {
    let m = values.reduce(0, +) / Double(Swift.max(1, values.count))
    let sd = values.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
    return "\(Report.format(m, digits: digits)) ± \(Report.format(sd, digits: Swift.max(1, digits - 1)))"
}
