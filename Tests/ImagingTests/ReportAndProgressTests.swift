import Foundation
import Testing
@testable import Imaging

@Suite struct ReportTests {
    @Test func writesBlocksInOrderAndTheFigureFile() throws {
        let dir = try makeTemporaryDirectory() + "/run"  // does not exist yet
        let report = Report(directory: dir, title: "Chapter 2: DDPM")
        report.heading("2.1 The forward process")
        report.text("Noise is added in small steps.")
        let strip = Image(width: 5, height: 3, channels: 3, color: .blue)
        try report.figure(strip, name: "noise-strip.png", caption: "x_t for t = 0 ... 999")
        report.number("final loss", 0.031234, unit: "MSE")   // 4 significant digits: 0.03123
        report.number("steps", 1500)
        report.table(headers: ["t", "loss"], rows: [["0", "0.91"], ["999", "0.02"]])
        report.code("swift run -c release 02-ddpm", language: "sh")
        let path = try report.save()

        #expect(path == dir + "/report.md")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expectedInOrder = [
            "# Chapter 2: DDPM\n",
            "## 2.1 The forward process\n",
            "Noise is added in small steps.\n",
            "![x_t for t = 0 ... 999](noise-strip.png)\n",
            "- **final loss:** 0.03123 MSE\n- **steps:** 1500\n",
            "| t | loss |\n|---|---|\n| 0 | 0.91 |\n| 999 | 0.02 |\n",
            "```sh\nswift run -c release 02-ddpm\n```\n",
        ]
        var searchFrom = text.startIndex
        for piece in expectedInOrder {
            let found = try #require(text.range(of: piece, range: searchFrom..<text.endIndex),
                                     "missing or out of order: \(piece)")
            searchFrom = found.upperBound
        }
        // The figure exists and holds the image.
        #expect(try Image.readPNG(dir + "/noise-strip.png") == strip)
        // Nothing but the report and its figure in the directory (no temporary files).
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["noise-strip.png", "report.md"])
    }

    @Test func tableCellsAreEscaped() {
        let report = Report(directory: "/nonexistent", title: "T")
        report.table(headers: ["a|b"], rows: [["x"]])
        #expect(report.markdown.contains("| a\\|b |"))
    }

    @Test func formatUsesSignificantDigits() {
        #expect(Report.format(0.031234) == "0.03123")
        #expect(Report.format(2.0) == "2")
        #expect(Report.format(1.23456, digits: 3) == "1.23")
    }
}

@Suite struct CSVTests {
    @Test func writesHeaderAndRoundTripValues() throws {
        let path = try makeTemporaryDirectory() + "/out/samples.csv"
        try writeCSV(path, header: ["x", "y"], rows: [[0.1, -2.5], [1e-05, 3]])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "x,y\n0.1,-2.5\n1e-05,3.0\n")
        let parsed = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
        #expect(parsed == [[0.1, -2.5], [1e-05, 3]])
    }

    @Test func rowOfWrongLengthThrows() throws {
        let path = try makeTemporaryDirectory() + "/bad.csv"
        #expect(throws: ImagingError.self) { try writeCSV(path, header: ["x", "y"], rows: [[1]]) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func stringFieldsAreQuoted() throws {
        let path = try makeTemporaryDirectory() + "/v.csv"
        try writeCSV(path, header: ["caption", "ok"], rows: [["red circle, top", "yes"]])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "caption,ok\n\"red circle, top\",yes\n")
    }
}

@Suite struct ProgressBarTests {
    @Test func durations() {
        #expect(ProgressBar.formatDuration(0) == "0:00")
        #expect(ProgressBar.formatDuration(59.6) == "1:00")      // rounds to 60 s
        #expect(ProgressBar.formatDuration(75) == "1:15")
        #expect(ProgressBar.formatDuration(3725) == "1:02:05")   // 1 h 2 min 5 s
        #expect(ProgressBar.formatDuration(.infinity) == "--:--")
        #expect(ProgressBar.formatDuration(.nan) == "--:--")
    }

    @Test func rates() {
        #expect(ProgressBar.formatRate(12.34) == "12.3 it/s")
        #expect(ProgressBar.formatRate(250) == "250 it/s")
        #expect(ProgressBar.formatRate(0.4) == "2.50 s/it")      // 1 / 0.4 = 2.5 s per step
        #expect(ProgressBar.formatRate(0) == "-- it/s")
    }

    @Test func statusLine() {
        // 25 of 100 steps in 5 s: 5 it/s; 75 steps left / 5 = 15 s.
        // Bar of 10: floor(0.25 * 10) = 2 filled.
        let line = ProgressBar.line(label: "train", step: 25, total: 100, elapsed: 5,
                                    metrics: [("loss", 0.5)], barWidth: 10)
        #expect(line == "train   25/100 [##........]  25% loss 0.5 | 5.0 it/s | 0:15 left")
    }

    @Test func logModePrintsEveryTenPercentAndASummary() {
        final class Sink { var text = "" }
        let sink = Sink()
        let bar = ProgressBar(total: 200, label: "x", interactive: false, output: { sink.text += $0 })
        for step in 1...200 { bar.update(step: step, metrics: [("loss", 1)]) }
        bar.finish()
        bar.finish()  // a second call prints nothing
        let lines = sink.text.split(separator: "\n")
        #expect(!sink.text.contains("\r"))
        #expect(lines.count == 11)  // 10 %, 20 %, ..., 100 %, then the summary
        #expect(lines.first?.contains(" 20/200 ") == true)
        #expect(lines.last?.hasPrefix("x  done 200 steps in ") == true)
    }

    @Test func interactiveModeRedrawsInPlace() {
        final class Sink { var text = "" }
        let sink = Sink()
        let bar = ProgressBar(total: 3, label: "s", interactive: true, output: { sink.text += $0 })
        bar.update(step: 1)
        bar.update(step: 3)  // the last step always draws
        bar.finish()
        #expect(sink.text.hasPrefix("\r"))
        #expect(sink.text.contains("3/3"))
        #expect(sink.text.hasSuffix("\n"))
        #expect(sink.text.filter { $0 == "\n" }.count == 1)
    }
}
