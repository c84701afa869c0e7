// End-to-end: `03-unet --quick` trains a tiny UNet, denoises, samples and judges; writes its report,
// figures, one PNG per sample and verdicts.csv; a second run into the same folder uses the cache.

import Foundation
import Imaging
import Testing

@Suite("Chapter 3: 03-unet end to end", .serialized)
struct Chapter03Tests {
    @Test("--quick writes sections 3.1–3.8, figures that decode, samples/ and verdicts.csv; a rerun uses the cache")
    func quickRun() throws {
        let dir = temporaryDirectory("ch03")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("03-unet", ["--quick", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("Loaded cached weights"))
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3).prefix(4)) }
        #expect(headings == ["3.1 ", "3.2 ", "3.3 ", "3.4 ", "3.5 ", "3.6 ", "3.7 ", "3.8 "], "headings: \(headings)")
        for phrase in ["parameters", "receptive field", "combinations covered", "skips zeroed"] {
            #expect(report.contains(phrase), "report.md should mention \(phrase)")
        }

        let regex = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
        let links = regex.matches(in: report, range: NSRange(report.startIndex..., in: report))
            .map { String(report[Range($0.range(at: 1), in: report)!]) }
        #expect(links == ["data.png", "loss.png", "denoise.png", "samples.png"], "links: \(links)")
        for name in links {
            let image = try Image.readPNG(dir + "/" + name)
            #expect(image.width > 100 && image.height > 100, "\(name): \(image.width)×\(image.height)")
        }

        // --quick draws 16 samples: 16 PNGs of 16×16 and 16 rows in verdicts.csv.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/samples").sorted()
        #expect(files.count == 16 && files.allSatisfy { $0.hasSuffix(".png") }, "samples/: \(files)")
        #expect(files.first?.hasPrefix("000-") == true)
        let sample = try Image.readPNG(dir + "/samples/" + files[0])
        #expect(sample.width == 16 && sample.height == 16)
        let lines = try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "index,file,valid,verdict")
        #expect(lines.count == 17, "verdicts.csv: \(lines.count - 1) rows")

        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 1 && weights[0].hasPrefix("unet-"), "cached weights: \(weights)")
        let again = try runChapter("03-unet", ["--quick", "--out", dir])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("Loaded cached weights from \(weights[0])"), "stdout: \(again.stdout.prefix(2000))")
        #expect(try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n") == lines)
    }

    @Test("--help lists the chapter's flags and exits 0")
    func help() throws {
        let run = try runChapter("03-unet", ["--help"])
        #expect(run.status == 0)
        for flag in ["--quick", "--seed", "--out", "--retrain", "--ablate", "--train-steps", "--samples", "--eta", "--sampling-steps"] { #expect(run.stdout.contains(flag)) }
    }

    @Test("--eta outside 0…1 exits 2 naming the flag; a corrupt weight cache is an error naming the file and --retrain")
    func badEtaAndCorruptCache() throws {
        let bad = try runChapter("03-unet", ["--quick", "--eta", "1.5", "--out", temporaryDirectory("ch03-eta")])
        #expect(bad.status == 2 && bad.stderr.contains("--eta"), "stderr: \(bad.stderr)")
        let dir = temporaryDirectory("ch03-corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runChapter("03-unet", ["--quick", "--out", dir]).status == 0)
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 1)
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: dir + "/" + weights[0]))
        let run = try runChapter("03-unet", ["--quick", "--out", dir])
        #expect(run.status == 1, "status \(run.status)")
        #expect(run.stderr.contains(weights[0]) && run.stderr.contains("--retrain"), "stderr: \(run.stderr)")
        // --retrain replaces the corrupt file.
        #expect(try runChapter("03-unet", ["--quick", "--retrain", "--out", dir]).status == 0)
    }

    @Test("--channels that GroupNorm(8) cannot split exits 2 naming the flag")
    func badChannels() throws {
        let run = try runChapter("03-unet", ["--quick", "--channels", "12", "--out", temporaryDirectory("ch03-bad")])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--channels"), "stderr: \(run.stderr)")
    }
}

@Suite("Chapter 3: --mine")
struct Chapter03MineTests {
    @Test("--mine trains and samples the UNet through the learner's hourglass (or says it fell back), caches nothing, grades validity")
    func mine() throws {
        let dir = try expectMineRun("03-unet", exercises: ["hourglass"], measure: "valid samples", library: .missing)
        defer { try? FileManager.default.removeItem(atPath: dir) }
    }
}
