// End-to-end: `05-attention --quick --ablate` trains tiny attention and pointwise UNets on the
// paired Shapes, samples and judges them, draws attention maps; a rerun uses the cache; bad flags exit 2.

import Foundation
import Imaging
import Testing

@Suite("Chapter 5: 05-attention end to end", .serialized)
struct Chapter05Tests {
    @Test("--quick --ablate writes sections 5.1–5.7, figures that decode, samples/ and verdicts.csv; a rerun uses the cache")
    func quickRun() throws {
        let dir = temporaryDirectory("ch05")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("05-attention", ["--quick", "--ablate", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3).prefix(4)) }
        #expect(headings == ["5.1 ", "5.2 ", "5.3 ", "5.4 ", "5.5 ", "5.6 ", "5.7 "], "headings: \(headings)")
        for phrase in ["softmax(Q·Kᵀ/√d)", "receptive field", "same colour", "pairs covered", "pointwise MLP (control)"] {
            #expect(report.contains(phrase), "report.md should mention \(phrase)")
        }
        let regex = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
        let links = regex.matches(in: report, range: NSRange(report.startIndex..., in: report))
            .map { String(report[Range($0.range(at: 1), in: report)!]) }
        #expect(links == ["data.png", "loss.png", "samples.png", "attention.png"], "links: \(links)")
        for name in links {
            let image = try Image.readPNG(dir + "/" + name)
            #expect(image.width > 100 && image.height > 100, "\(name): \(image.width)×\(image.height)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/samples")
        #expect(files.count == 16 && files.allSatisfy { $0.hasSuffix(".png") })
        let lines = try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "index,file,valid,same colour,verdict" && lines.count == 17)
        // attention × 3 seeds (seed 0 shared with the main run) + pointwise × 3 seeds.
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 6, "cached weights: \(weights.sorted())")

        let again = try runChapter("05-attention", ["--quick", "--out", dir])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("Loaded cached weights from paired-attention-"), "stdout: \(again.stdout.prefix(2000))")
        #expect(try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n") == lines)
    }

    @Test("--help lists the flags; --heads that does not divide 2c exits 2 naming the flag")
    func flags() throws {
        let help = try runChapter("05-attention", ["--help"])
        #expect(help.status == 0)
        for flag in ["--heads", "--steps", "--channels", "--sampling-steps", "--ablate"] { #expect(help.stdout.contains(flag)) }
        let bad = try runChapter("05-attention", ["--quick", "--heads", "3", "--out", temporaryDirectory("ch05-bad")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--heads"), "stderr: \(bad.stderr)")
    }
}
