// End-to-end: `06-text --quick --holdout --prompt …` trains a tiny text-to-image model and a held-out
// one, measures adherence per guidance scale, traces when attributes are decided, draws the prompt;
// `--load` samples from the saved weights; `--interactive` reads prompts; bad prompts exit 2.

import Foundation
import Imaging
import Testing

@Suite("Chapter 6: 06-text end to end", .serialized)
struct Chapter06Tests {
    @Test("--quick --holdout --ablate writes sections 6.1–6.9 and their figures; --load and --interactive sample from the saved weights")
    func quickRun() throws {
        let dir = temporaryDirectory("ch06")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("06-text", ["--quick", "--holdout", "--ablate", "--prompt", "red circle top left", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3).prefix(4)) }
        #expect(headings == ["6.1 ", "6.2 ", "6.3 ", "6.4 ", "6.5 ", "6.6 ", "6.7 ", "6.8 ", "6.9 "], "headings: \(headings)")
        for phrase in ["<pad>", "cross-attention", "ε(x_t, t, ∅)", "all three", "held-out pairs", "CoordConv", "velocity", "| ε, coordinates |", "| v, no coordinates |", "ε-MSE t∈[600,1000)"] {
            #expect(report.contains(phrase), "report.md should mention \(phrase)")
        }
        let regex = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
        let links = regex.matches(in: report, range: NSRange(report.startIndex..., in: report))
            .map { String(report[Range($0.range(at: 1), in: report)!]) }
        #expect(links == ["loss.png", "guidance.png", "adherence.png", "decided.png", "strip.png", "heldout.png"], "links: \(links)")
        for name in links {
            let image = try Image.readPNG(dir + "/" + name)
            #expect(image.width > 100 && image.height > 60, "\(name): \(image.width)×\(image.height)")
        }
        let lines = try String(contentsOfFile: dir + "/verdicts.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "index,file,valid,verdict,prompt" && lines.count == 9, "verdicts.csv: \(lines.prefix(2))")
        #expect(FileManager.default.fileExists(atPath: dir + "/prompts/000-red-circle-top-left.png"))
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }.sorted()
        #expect(weights.count == 10, "the main and the held-out model, and 8 more for --ablate: \(weights)")

        // --load: no training, the prompt drawn from the saved weights (the main model's file is named in the report).
        guard let main = weights.first(where: { report.contains($0) }) else { Issue.record("report names no weights file"); return }
        let loadDir = temporaryDirectory("ch06-load")
        defer { try? FileManager.default.removeItem(atPath: loadDir) }
        let load = try runChapter("06-text", ["--quick", "--load", dir + "/" + main, "--prompt", "blue square", "--out", loadDir])
        #expect(load.status == 0, "stderr: \(load.stderr)")
        #expect(FileManager.default.fileExists(atPath: loadDir + "/prompts/000-blue-square.png"))
        #expect(!FileManager.default.fileExists(atPath: loadDir + "/report.md"))

        // --interactive: one image per prompt read; an unknown word is reported and the loop goes on.
        let chat = try runChapter("06-text", ["--quick", "--load", dir + "/" + main, "--interactive", "--out", loadDir],
                                  input: "green triangle\nred hexagon\ncyan\n")
        #expect(chat.status == 0, "stderr: \(chat.stderr)")
        #expect(chat.stdout.contains("unknown word 'hexagon'"), "stdout: \(chat.stdout)")
        let drawn = try FileManager.default.contentsOfDirectory(atPath: loadDir + "/interactive").sorted()
        #expect(drawn == ["000-green-triangle.png", "001-cyan.png"], "interactive/: \(drawn)")
    }

    @Test("an unknown word exits 2 listing the vocabulary; a corrupt --load file is an error naming it")
    func badInput() throws {
        let run = try runChapter("06-text", ["--quick", "--prompt", "red hexagon", "--out", temporaryDirectory("ch06-bad")])
        #expect(run.status == 2)
        #expect(run.stderr.contains("'hexagon'") && run.stderr.contains("red, green, blue"), "stderr: \(run.stderr)")
        let dir = temporaryDirectory("ch06-corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/broken.safetensors"
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: file))
        let load = try runChapter("06-text", ["--quick", "--load", file, "--out", dir])
        #expect(load.status == 1 && load.stderr.contains("broken.safetensors"), "stderr: \(load.stderr)")

        // A well-formed safetensors file that 06-text did not write: it holds no recipe.
        let foreign = dir + "/foreign.safetensors"
        let header = #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8) + [0, 0, 0, 0])
        try bytes.write(to: URL(fileURLWithPath: foreign))
        let strange = try runChapter("06-text", ["--quick", "--load", foreign, "--out", dir])
        #expect(strange.status == 1 && strange.stderr.contains("foreign.safetensors") && strange.stderr.contains("recipe"),
                "stderr: \(strange.stderr)")

        let target = try runChapter("06-text", ["--quick", "--predict", "noise", "--out", dir])
        #expect(target.status == 2 && target.stderr.contains("--predict"), "stderr: \(target.stderr)")
    }

    @Test("--predict epsilon --no-coordinates trains the DDPM way; --load needs the same flags and names the one missing")
    func epsilonModel() throws {
        let dir = temporaryDirectory("ch06-eps")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("06-text", ["--quick", "--predict", "epsilon", "--no-coordinates", "--samples", "2", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(report.contains("This model predicts ε") && report.contains("no coordinate channels"))
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.count == 1, "\(weights)")
        // Loaded with other flags: refused, naming the settings the file was trained with.
        let other = try runChapter("06-text", ["--quick", "--load", dir + "/" + weights[0], "--prompt", "red", "--out", dir + "/load"])
        #expect(other.status == 1, "status \(other.status)")
        #expect(other.stderr.contains("--predict epsilon") && other.stderr.contains("--no-coordinates"), "stderr: \(other.stderr)")
        #expect(other.stderr.split(separator: "\n").count == 1, "one line: \(other.stderr)")
        let load = try runChapter("06-text", ["--quick", "--predict", "epsilon", "--no-coordinates", "--load", dir + "/" + weights[0],
                                              "--prompt", "red", "--out", dir + "/load"])
        #expect(load.status == 0, "stderr: \(load.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/load/prompts/000-red.png"))
    }
}

@Suite("Chapter 6: --mine")
struct Chapter06MineTests {
    @Test("--mine runs the learner's dropout, v target and guidance (or says they fell back), caches nothing, grades adherence")
    func mine() throws {
        let dir = try expectMineRun("06-text", exercises: ["promptDropout", "velocityTarget", "guidedOutput"], measure: "all as asked, at w = 3")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let both = try runChapter("06-text", ["--quick", "--mine", "--holdout", "--out", dir])
        #expect(both.status == 2 && both.stderr.contains("--mine"), "stderr: \(both.stderr)")
    }
}
