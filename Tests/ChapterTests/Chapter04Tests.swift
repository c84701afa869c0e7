// End-to-end: `04-time --quick` draws the embedding, trains a tiny time-conditioned UNet, samples it
// with both samplers and judges; `--quick --ablate` runs the three-way comparison; bad flags exit 2.

import Foundation
import Imaging
import Testing

@Suite("Chapter 4: 04-time end to end", .serialized)
struct Chapter04Tests {
    @Test("--quick --ablate writes sections 4.1–4.6, figures that decode, samples/ and verdicts.csv; a rerun uses the cache")
    func quickRun() throws {
        let dir = temporaryDirectory("ch04")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("04-time", ["--quick", "--ablate", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3).prefix(4)) }
        #expect(headings == ["4.1 ", "4.2 ", "4.3 ", "4.4 ", "4.5 ", "4.6 "], "headings: \(headings)")
        for phrase in ["ω_i = 10000", "AdaGN", "combinations", "MSE of ε̂", "told t = 500 always", "guessing the middle of the range", "Sun et al. 2025",
                       "told t as (3 seeds)", "ancestral", "DDIM (η = 0)"] {
            #expect(report.contains(phrase), "report.md should mention \(phrase)")
        }
        let regex = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
        let links = regex.matches(in: report, range: NSRange(report.startIndex..., in: report))
            .map { String(report[Range($0.range(at: 1), in: report)!]) }
        #expect(links == ["embedding.png", "loss.png", "samples.png", "comparison.png", "comparison-samples.png"], "links: \(links)")
        for name in links {
            let image = try Image.readPNG(dir + "/" + name)
            #expect(image.width > 100 && image.height > 100, "\(name): \(image.width)×\(image.height)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/samples")
        #expect(files.count == 16 && files.allSatisfy { $0.hasSuffix(".png") }, "samples/: \(files)")
        let lines = try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "index,file,valid,verdict" && lines.count == 17)
        // The main run plus 3 conditionings × 3 seeds, the sinusoidal seed-0 one shared: 9 weight files.
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 9, "cached weights: \(weights.sorted())")

        let again = try runChapter("04-time", ["--quick", "--out", dir])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("Loaded cached weights from time-sinusoidal-"), "stdout: \(again.stdout.prefix(2000))")
        #expect(try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n") == lines)
    }

    @Test("--help lists the chapter's flags; a bad --conditioning exits 2 naming the flag and the choices")
    func flags() throws {
        let help = try runChapter("04-time", ["--help"])
        #expect(help.status == 0)
        for flag in ["--conditioning", "--train-steps", "--channels", "--eta", "--sampling-steps", "--ablate"] { #expect(help.stdout.contains(flag)) }
        let bad = try runChapter("04-time", ["--quick", "--conditioning", "cosine", "--out", temporaryDirectory("ch04-bad")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--conditioning") && bad.stderr.contains("'sinusoidal'"), "stderr: \(bad.stderr)")
    }
}

@Suite("Chapter 4: --mine")
struct Chapter04MineTests {
    @Test("--mine runs the learner's embedding and residual block (or says they fell back), caches nothing, grades validity")
    func mine() throws {
        let dir = try expectMineRun("04-time", exercises: ["sinusoidalEmbedding", "resBlock"], measure: "valid samples")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let both = try runChapter("04-time", ["--quick", "--mine", "--ablate", "--out", dir])
        #expect(both.status == 2 && both.stderr.contains("--mine and --ablate"), "stderr: \(both.stderr)")
    }
}
