// End-to-end: `05-attention --quick --ablate` trains tiny UNets with attention and with its two
// controls on the paired Shapes, samples and judges them, draws attention maps; a rerun uses the
// cache; bad flags exit 2 naming the flag.

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
        for phrase in ["softmax(Q·Kᵀ/√d)", "receptive field", "16×16 px", "same colour", "pairs covered", "TV of the left and right",
                       "left shape → right shape", "| positionwise | 29123 |", "| attention | 29123 |", "| pointwise |"] {
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
        // attention × 3 seeds (seed 0 shared with the main run) + positionwise × 3 + pointwise × 3.
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 9, "cached weights: \(weights.sorted())")
        for kind in ["attention", "positionwise", "pointwise"] {
            #expect(weights.filter { $0.hasPrefix("paired-\(kind)-") }.count == 3, "cached weights: \(weights.sorted())")
        }

        let again = try runChapter("05-attention", ["--quick", "--out", dir])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("Loaded cached weights from paired-attention-"), "stdout: \(again.stdout.prefix(2000))")
        #expect(try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n") == lines)
    }

    @Test("--help lists the flags; a bad --heads, --eta, --mixing or an unknown flag exits 2 naming it")
    func flags() throws {
        let help = try runChapter("05-attention", ["--help"])
        #expect(help.status == 0)
        for flag in ["--quick", "--seed", "--out", "--retrain", "--ablate", "--mixing", "--heads", "--train-steps", "--channels", "--batch",
                     "--lr", "--samples", "--eta", "--sampling-steps"] {
            #expect(help.stdout.contains(flag), "--help should list \(flag)")
        }
        for (arguments, named) in [(["--heads", "3"], "--heads"), (["--eta", "1.5"], "--eta"), (["--mixing", "convolution"], "--mixing"),
                                   (["--train-steps", "many"], "--train-steps"), (["--colour", "red"], "--colour")] {
            let dir = temporaryDirectory("ch05-bad")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let bad = try runChapter("05-attention", ["--quick"] + arguments + ["--out", dir])
            #expect(bad.status == 2, "\(arguments): status \(bad.status)")
            #expect(bad.stderr.contains(named), "\(arguments): stderr \(bad.stderr)")
        }
    }

    @Test("--mixing positionwise trains the control alone and says there are no attention maps")
    func controlAlone() throws {
        let dir = temporaryDirectory("ch05-control")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("05-attention", ["--quick", "--mixing", "positionwise", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("no attention maps"))
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 1 && weights[0].hasPrefix("paired-positionwise-"), "cached weights: \(weights)")
    }
}

@Suite("Chapter 5: --mine")
struct Chapter05MineTests {
    @Test("--mine runs the learner's attention block (or says it fell back), caches nothing, grades the colour rule")
    func mine() throws {
        let dir = try expectMineRun("05-attention", exercises: ["selfAttentionBlock"], measure: "share a colour")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let control = try runChapter("05-attention", ["--quick", "--mine", "--mixing", "pointwise", "--out", dir])
        #expect(control.status == 2 && control.stderr.contains("--mixing attention"), "stderr: \(control.stderr)")
    }
}
