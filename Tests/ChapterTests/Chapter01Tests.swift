// End-to-end: `01-noise --quick` writes its report, figures and CSVs, the figures show what they
// claim, the measured agreement of DDPM eq. (2) and eq. (4) is within sampling error, and
// `--image` noises a learner's PNG or fails cleanly.

import Datasets
import Foundation
import Imaging
import Testing
import Tensor

/// Reads a CSV written by the chapter: the header, then rows of fields (no quoting needed here).
private func readCSV(_ path: String) throws -> (header: [String], rows: [[String]]) {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    let header = lines[0].split(separator: ",").map(String.init)
    return (header, lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
}

/// The figure links of a report, in order.
private func figureLinks(_ markdown: String) -> [String] {
    let regex = try! NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
    let range = NSRange(markdown.startIndex..., in: markdown)
    return regex.matches(in: markdown, range: range).map { String(markdown[Range($0.range(at: 1), in: markdown)!]) }
}

/// The layout of the chapter's strip figure for an image of `width` × `height` pixels. The
/// parameters mirror the `ImageGrid` in Chapters/01-Noise/main.swift, section 1.4.
private func stripLayout(width: Int, height: Int) -> (layout: ImageGrid.Layout, scale: Int) {
    let scale = max(1, 128 / max(width, height))
    let blank = Image(width: width, height: height, channels: 3)
    let grid = ImageGrid(rows: [[Image?]](repeating: [Image?](repeating: blank, count: 7), count: 2),
                         scale: scale, padding: 4, rowLabels: ["linear", "cosine"],
                         columnLabels: [0, 50, 100, 250, 500, 750, 999].map { "t=\($0)" },
                         title: "x_t along one run of the forward process", textScale: 2)
    return (grid.layout(), scale)
}

/// Cell (row, column) of the strip, scaled back down to the image's own pixels.
private func stripCell(_ strip: Image, row: Int, column: Int, width: Int, height: Int) -> Image {
    let (l, scale) = stripLayout(width: width, height: height)
    let x0 = l.columnX[column] + (l.columnWidths[column] - width * scale) / 2
    let y0 = l.rowY[row] + (l.cellHeight - height * scale) / 2
    var cell = Image(width: width, height: height, channels: 3)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<3 { cell[x, y, c] = strip[x0 + x * scale + scale / 2, y0 + y * scale + scale / 2, c] }
        }
    }
    return cell
}

/// Mean absolute byte difference of two images of one size.
private func meanAbsoluteDifference(_ a: Image, _ b: Image) -> Double {
    zip(a.pixels, b.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(a.pixels.count)
}

@Suite("Chapter 1: 01-noise end to end", .serialized)
struct Chapter01Tests {
    @Test("--quick writes the report with its sections in order, figures that decode, and both CSVs")
    func quickRun() throws {
        let dir = temporaryDirectory("ch01")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("01-noise", ["--quick", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)

        // Sections 1.1 … 1.5, in order.
        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3)) }
        #expect(headings.map { String($0.prefix(4)) } == ["1.1 ", "1.2 ", "1.3 ", "1.4 ", "1.5 "], "headings: \(headings)")

        // Every linked figure exists and decodes; the main ones are there with their sizes.
        let links = figureLinks(report)
        for name in ["beta.png", "dissolve.png", "alpha-bar.png", "log-snr.png"] {
            #expect(links.contains(name), "report.md does not link \(name); links: \(links)")
        }
        var figures: [String: Image] = [:]
        for name in links { figures[name] = try Image.readPNG(dir + "/" + name) }
        for name in ["beta.png", "alpha-bar.png", "log-snr.png"] {
            #expect(figures[name].map { ($0.width, $0.height) } ?? (0, 0) == (640, 400), "\(name) size")
        }
        let strip = try #require(figures["dissolve.png"])
        let (layout, scale) = stripLayout(width: 16, height: 16)
        #expect(scale == 8)
        #expect((strip.width, strip.height) == (layout.width, layout.height))

        // The strip shows the chapter's Shapes image (the first draw of seed 0) at t = 0 and noise at
        // t = 999. At t = 0 the noise has sd √β₀ = 0.01 (linear) or 0.0064 (cosine), about one byte.
        var rng = RandomGenerator(seed: 0)
        let spec = Shapes.random(using: &rng)
        #expect(report.contains(spec.caption), "the report should name the image, \"\(spec.caption)\"")
        let clean = Image(chw: Shapes.render(spec), channels: 3, height: 16, width: 16)
        for row in 0..<2 {
            let first = stripCell(strip, row: row, column: 0, width: 16, height: 16)
            let last = stripCell(strip, row: row, column: 6, width: 16, height: 16)
            #expect(meanAbsoluteDifference(first, clean) < 3, "row \(row), t=0 differs from x₀")
            // Pure noise clipped to −1…1 lies ~100 bytes (of 255) from a mostly black image.
            #expect(meanAbsoluteDifference(last, clean) > 60, "row \(row), t=999 still looks like x₀")
        }

        // schedules.csv: T = 1000 rows; ᾱ starts near 1, falls monotonically, ends below 1e-4.
        let schedules = try readCSV(dir + "/schedules.csv")
        #expect(schedules.header == ["t", "linear_beta", "linear_alphaBar", "linear_logSNR",
                                     "cosine_beta", "cosine_alphaBar", "cosine_logSNR"])
        #expect(schedules.rows.map { Int($0[0]) } == Array(0..<1000), "t runs 0…999, one row per step")
        for column in ["linear_alphaBar", "cosine_alphaBar"] {
            let i = schedules.header.firstIndex(of: column)!
            let alphaBar = schedules.rows.map { Double($0[i])! }
            #expect(alphaBar[0] > 0.9999 - 1e-6 && alphaBar[0] < 1, "\(column) at t = 0: \(alphaBar[0])")
            #expect(alphaBar.last! < 1e-4, "\(column) at t = 999: \(alphaBar.last!)")
            #expect(zip(alphaBar, alphaBar.dropFirst()).allSatisfy { $1 < $0 }, "\(column) is not decreasing")
        }
        // Linear β_999 = 0.02 exactly as in the DDPM paper; the cosine's last β is the 0.999 clip.
        #expect(Double(schedules.rows[999][1])! == Double(Float(0.02)))
        #expect(Double(schedules.rows[999][4])! == Double(Float(0.999)))
    }

    @Test("agreement.csv: eq. (2) step by step and eq. (4) in one jump both match eq. (4)'s mean and variance")
    func agreement() throws {
        let dir = temporaryDirectory("ch01-agree")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("01-noise", ["--quick", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let csv = try readCSV(dir + "/agreement.csv")
        func column(_ name: String) -> Int { csv.header.firstIndex(of: name)! }
        #expect(csv.rows.count == 2 * 7 * 2, "2 schedules × 7 t × 2 routes")
        let routes = Set(csv.rows.map { $0[column("route")] + " " + $0[column("schedule")] })
        #expect(routes == ["step-by-step linear", "closed form linear", "step-by-step cosine", "closed form cosine"])
        for row in csv.rows {
            let label = "\(row[column("schedule")]) t=\(row[column("t")]) \(row[column("route")])"
            let draws = Double(row[column("draws")])!, values = Double(row[column("values")])!
            #expect(draws >= 8 && values == 768, "\(label)")
            // Tolerances are 6 standard deviations of each statistic for a route that is exactly
            // right (the run is seeded, so this is about a route being wrong, not about luck):
            //  - mean z averages `values` independent N(0, 1): sd 1/√values (0.036 for 768 values);
            //  - RMS z: the mean of z² has sd √(2/values), so its square root has sd 1/√(2·values) (0.026);
            //  - variance ratio: an unbiased variance from n draws has relative sd √(2/(n − 1)),
            //    averaged over `values` independent values: √(2/((n − 1)·values)) (0.0092 for n = 32).
            // A wrong route fails by far more: one step too many at t = 0 doubles the variance
            // (ratio 2.2 for the linear schedule), a missing √ on β_t makes it 0.01 instead of 1e-4.
            let meanZ = Double(row[column("mean_z")])!, rmsZ = Double(row[column("rms_z")])!
            let ratio = Double(row[column("variance_ratio")])!
            #expect(abs(meanZ) < 6 / values.squareRoot(), "\(label): mean z \(meanZ)")
            #expect(abs(rmsZ - 1) < 6 / (2 * values).squareRoot(), "\(label): RMS z \(rmsZ)")
            #expect(abs(ratio - 1) < 6 * (2 / ((draws - 1) * values)).squareRoot(), "\(label): variance ratio \(ratio)")
            // The predicted variance is 1 − ᾱ_t of the schedule.
            let alphaBar = Double(row[column("alphaBar")])!
            #expect(abs(Double(row[column("predicted_variance")])! - (1 - alphaBar)) < 1e-12, "\(label)")
        }
    }

    @Test("--image noises the learner's PNG, shrinking a large one; the same seed gives the same files")
    func learnerImage() throws {
        let dir = temporaryDirectory("ch01-image")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A small image, used as it is: a white 8×6 rectangle on dark blue, 20×12 pixels.
        var small = Image(width: 20, height: 12, channels: 3, color: Color(0, 0, 90))
        small.fillRect(x: 6, y: 3, width: 8, height: 6, .white)
        try small.writePNG(to: dir + "/small.png")
        let run = try runChapter("01-noise", ["--quick", "--image", dir + "/small.png", "--out", dir + "/a"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/a/report.md", encoding: .utf8)
        #expect(report.contains("small.png (20×12)"))
        let strip = try Image.readPNG(dir + "/a/dissolve.png")
        let (layout, scale) = stripLayout(width: 20, height: 12)
        #expect(scale == 6)
        #expect((strip.width, strip.height) == (layout.width, layout.height))
        // At t = 0 the cell is the image (bytes mapped to −1…1 and back, plus noise of sd ≈ 1 byte).
        for row in 0..<2 {
            #expect(meanAbsoluteDifference(stripCell(strip, row: row, column: 0, width: 20, height: 12), small) < 3)
        }
        // The agreement measurement ran on this image's 20·12·3 values.
        let csv = try readCSV(dir + "/a/agreement.csv")
        #expect(csv.rows.allSatisfy { $0[csv.header.firstIndex(of: "values")!] == "720" })

        // Same seed, same run: the figures are byte-identical.
        let again = try runChapter("01-noise", ["--quick", "--image", dir + "/small.png", "--out", dir + "/b"])
        #expect(again.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a/dissolve.png"))
                == Data(contentsOf: URL(fileURLWithPath: dir + "/b/dissolve.png")))

        // A large image is shrunk by nearest neighbour to at most 64 px: 200×100 -> 64×32. Left half
        // red, right half green, so every output pixel away from the middle has one clear colour.
        var large = Image(width: 200, height: 100, channels: 3, color: .red)
        large.fillRect(x: 100, y: 0, width: 100, height: 100, .green)
        try large.writePNG(to: dir + "/large.png")
        let big = try runChapter("01-noise", ["--quick", "--image", dir + "/large.png", "--out", dir + "/c"])
        #expect(big.status == 0, "stderr: \(big.stderr)")
        #expect(try String(contentsOfFile: dir + "/c/report.md", encoding: .utf8).contains("large.png (64×32, resized from 200×100)"))
        let bigStrip = try Image.readPNG(dir + "/c/dissolve.png")
        #expect((bigStrip.width, bigStrip.height) == (stripLayout(width: 64, height: 32).layout.width,
                                                      stripLayout(width: 64, height: 32).layout.height))
        let cell = stripCell(bigStrip, row: 0, column: 0, width: 64, height: 32)
        for x in [0, 10, 30, 33, 50, 63] {
            let expected: Color = x < 32 ? .red : .green
            let got = cell.color(x: x, y: 16)
            #expect(abs(Int(got.r) - Int(expected.r)) < 8 && abs(Int(got.g) - Int(expected.g)) < 8 && got.b < 8,
                    "column \(x): \(got)")
        }
    }

    @Test("--image with a missing file or a file that is not a PNG exits 1 naming the file")
    func badImage() throws {
        let dir = temporaryDirectory("ch01-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = dir + "/no-such-picture.png"
        let run = try runChapter("01-noise", ["--quick", "--image", missing, "--out", dir + "/out"])
        #expect(run.status == 1)
        #expect(run.stderr.contains(missing), "stderr: \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/report.md"))

        let text = dir + "/notes.png"
        try Data("not an image\n".utf8).write(to: URL(fileURLWithPath: text))
        let bad = try runChapter("01-noise", ["--quick", "--image", text, "--out", dir + "/out"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains(text) && bad.stderr.contains("not a PNG"), "stderr: \(bad.stderr)")
    }

    @Test("--help lists the chapter's flags and exits 0")
    func help() throws {
        let run = try runChapter("01-noise", ["--help"])
        #expect(run.status == 0)
        for flag in ["--quick", "--seed", "--out", "--image"] { #expect(run.stdout.contains(flag)) }
    }
}

@Suite("Chapter 1: --mine")
struct Chapter01MineTests {
    @Test("--mine on the shipped stubs runs the library's code, says so, and grades nothing")
    func mine() throws {
        let dir = try expectMineRun("01-noise", exercises: ["cosineBetas", "noisyBatch"], measure: "## Your code: the grade", library: .notNeeded)
        defer { try? FileManager.default.removeItem(atPath: dir) }
    }
}
