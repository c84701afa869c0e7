// End-to-end: `07-latent --quick --ablate` trains a tiny autoencoder and a tiny latent text-to-image
// model, measures the reconstructions, the scale factor, adherence per guidance scale, the cost of
// pixels against latents, image-to-image, negative prompts and interpolation; a rerun loads both
// models from the cache and draws the same samples; bad flags exit 2 and a corrupt cached file is an
// error naming it.

import Foundation
import Imaging
import Testing

@Suite("Chapter 7: 07-latent end to end", .serialized)
struct Chapter07Tests {
    @Test("--quick --ablate writes sections 7.1–7.8 and their figures, and caches the six models it trained")
    func quickRun() throws {
        let dir = temporaryDirectory("ch07")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("07-latent", ["--quick", "--ablate", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3).prefix(4)) }
        #expect(headings == ["7.1 ", "7.2 ", "7.3 ", "7.4 ", "7.5 ", "7.6 ", "7.7 ", "7.8 "], "headings: \(headings)")
        for phrase in ["48×", "12,288 → 256", "reparameterisation", "KL", "scale factor", "all three", "activations held for backward",
                       "| pixels, ", "β = 1e-5", "ε-prediction", "SDEdit", "negative prompt", "slerp"] {
            #expect(report.contains(phrase), "report.md should mention \(phrase)")
        }
        let regex = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
        let links = regex.matches(in: report, range: NSRange(report.startIndex..., in: report))
            .map { String(report[Range($0.range(at: 1), in: report)!]) }
        #expect(links == ["data.png", "autoencoder-loss.png", "reconstructions.png", "latent-channels.png", "random-latents.png",
                          "latent-loss.png", "guidance.png", "image-to-image.png", "negative.png", "interpolation.png"], "links: \(links)")
        for name in links {
            let image = try Image.readPNG(dir + "/" + name)
            #expect(image.width > 100 && image.height > 60, "\(name): \(image.width)×\(image.height)")
        }
        let lines = try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "index,file,valid,verdict,prompt" && lines.count == 9, "verdicts.csv: \(lines.prefix(2))")
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }.sorted()
        #expect(weights.filter { $0.hasPrefix("autoencoder-") }.count == 2, "this run's autoencoder and --ablate's β = 1e-5 one: \(weights)")
        #expect(weights.filter { $0.hasPrefix("latent-text-") }.count == 3, "this run's latent model and --ablate's two: \(weights)")
        #expect(weights.filter { $0.hasPrefix("pixel-text-") }.count == 1, "--ablate's pixel-space model: \(weights)")
    }

    @Test("a bad flag exits 2 naming it; a rerun loads both models from the cache; a corrupt cached autoencoder is an error naming the file")
    func badInput() throws {
        let dir = temporaryDirectory("ch07-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let beta = try runChapter("07-latent", ["--quick", "--beta", "-1", "--out", dir])
        #expect(beta.status == 2 && beta.stderr.contains("--beta"), "stderr: \(beta.stderr)")
        let both = try runChapter("07-latent", ["--quick", "--mine", "--ablate", "--out", dir])
        #expect(both.status == 2 && both.stderr.contains("--mine"), "stderr: \(both.stderr)")
        let steps = try runChapter("07-latent", ["--quick", "--autoencoder-steps", "0", "--out", dir])
        #expect(steps.status == 2 && steps.stderr.contains("--autoencoder-steps"), "stderr: \(steps.stderr)")

        // Train both models once (a few steps); a rerun loads them and draws the same samples; then break the
        // autoencoder's file: the next run stops and names it.
        let first = try runChapter("07-latent", ["--quick", "--train-steps", "1", "--samples", "2", "--out", dir])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let again = try runChapter("07-latent", ["--quick", "--train-steps", "1", "--samples", "2", "--out", dir])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        let second = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(second.contains("Loaded the cached autoencoder") && second.contains("Loaded cached weights"))
        // The w = 3 row of 7.4's table without its last column (the sampling time).
        let sampleRows = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("| 3 |") }.map { $0.split(separator: "|").dropLast() } }
        #expect(!sampleRows(report).isEmpty && sampleRows(report) == sampleRows(second), "the w = 3 row: \(sampleRows(report)) vs \(sampleRows(second))")
        try expectCorruptCacheNamed("07-latent", ["--quick", "--train-steps", "1", "--samples", "2", "--out", dir], in: dir, prefix: "autoencoder-")
    }
}

@Suite("Chapter 7: --mine")
struct Chapter07MineTests {
    @Test("--mine runs the learner's reparameterisation, KL and scale factor (or says they fell back), caches nothing, grades both measures")
    func mine() throws {
        let dir = try expectMineRun("07-latent", exercises: ["reparameterize", "gaussianKL", "latentScaleFactor"], measure: "all as asked, at w = 3")
        try? FileManager.default.removeItem(atPath: dir)
    }
}
