// End-to-end: `02-mlp --quick` trains, samples and measures; writes its report, figures and CSVs;
// a second run into the same folder reuses the cached weights; bad flags exit 2 naming the value.

import Foundation
import Imaging
import Testing

@Suite("Chapter 2: 02-mlp end to end", .serialized)
struct Chapter02Tests {
    @Test("--quick writes sections 2.1–2.6, figures that decode, data.csv and samples.csv; a rerun uses the cache")
    func quickRun() throws {
        let dir = temporaryDirectory("ch02")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ContinuousClock()
        var run: (status: Int32, stdout: String, stderr: String) = (0, "", "")
        let firstTime = try clock.measure { run = try runChapter("02-mlp", ["--quick", "--out", dir]) }
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("Loaded cached weights"))
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)

        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3)) }
        #expect(headings.map { String($0.prefix(4)) } == ["2.1 ", "2.2 ", "2.3 ", "2.4 ", "2.5 ", "2.6 "], "headings: \(headings)")
        for phrase in ["energy distance", "noise floor", "DDIM, 50 steps", "DDPM ancestral"] {
            #expect(report.contains(phrase), "report.md should mention \(phrase)")
        }

        let regex = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
        let links = regex.matches(in: report, range: NSRange(report.startIndex..., in: report))
            .map { String(report[Range($0.range(at: 1), in: report)!]) }
        #expect(links == ["datasets.png", "loss.png", "samples.png", "reverse.png", "field.png", "ddim.png"], "links: \(links)")
        for name in links {
            let image = try Image.readPNG(dir + "/" + name)
            #expect(image.width > 200 && image.height > 200, "\(name): \(image.width)×\(image.height)")
        }

        // --quick draws 500 samples and 500 fresh data points, as CSVs with header x,y.
        for name in ["samples.csv", "data.csv"] {
            let lines = try String(contentsOfFile: dir + "/" + name, encoding: .utf8).split(separator: "\n")
            #expect(lines.first == "x,y", "\(name) header")
            #expect(lines.count == 501, "\(name): \(lines.count - 1) rows")
            let values = lines.dropFirst().flatMap { $0.split(separator: ",").map { Double($0) } }
            #expect(values.count == 1000 && values.allSatisfy { $0 != nil && $0!.isFinite }, "\(name) holds finite numbers")
        }
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 1 && weights[0].hasPrefix("mlp-moons-"), "cached weights: \(weights)")

        // Same folder, same configuration: the weights come from the cache, and it is faster.
        let samplesFirst = try String(contentsOfFile: dir + "/samples.csv", encoding: .utf8)
        var again: (status: Int32, stdout: String, stderr: String) = (0, "", "")
        let secondTime = try clock.measure { again = try runChapter("02-mlp", ["--quick", "--out", dir]) }
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("Loaded cached weights from \(weights[0])"), "stdout: \(again.stdout.prefix(2000))")
        #expect(secondTime < firstTime, "rerun \(secondTime) vs first run \(firstTime)")
        // Sampling is seeded and the cached weights are the trained ones: the rerun writes the same samples.
        #expect(try String(contentsOfFile: dir + "/samples.csv", encoding: .utf8) == samplesFirst)
    }

    @Test("a diverging run (--lr 1e12) stops with exit 1 and a message naming the step, and caches no weights")
    func diverging() throws {
        let dir = temporaryDirectory("ch02-nan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("02-mlp", ["--quick", "--lr", "1e12", "--out", dir])
        #expect(run.status == 1, "status \(run.status), stderr: \(run.stderr)")
        #expect(run.stderr.contains("training diverged: the loss became") && run.stderr.contains("at step"), "stderr: \(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!files.contains { $0.hasSuffix(".safetensors") }, "no weights may be cached from a diverged run: \(files)")
    }

    @Test("an unknown --dataset exits 2 naming the value and the choices")
    func unknownDataset() throws {
        let run = try runChapter("02-mlp", ["--quick", "--dataset", "circles", "--out", temporaryDirectory("ch02-bad")])
        #expect(run.status == 2)
        #expect(run.stderr.contains("circles") && run.stderr.contains("moons"), "stderr: \(run.stderr)")
    }

    @Test("--help lists the chapter's flags and exits 0")
    func help() throws {
        let run = try runChapter("02-mlp", ["--help"])
        #expect(run.status == 0)
        for flag in ["--quick", "--seed", "--out", "--dataset", "--retrain", "--ablate"] { #expect(run.stdout.contains(flag)) }
    }
}

@Suite("Chapter 2: --mine")
struct Chapter02MineTests {
    @Test("--mine trains and samples with the learner's functions (or says which fell back) and grades both samplers")
    func mine() throws {
        let dir = try expectMineRun("02-mlp", exercises: ["trainingStep", "sampleDDPM", "ddimTimesteps", "ddimStep"], measure: "your DDIM-50 against the library's",
                                     solutionsIdentical: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
    }
}
