// End-to-end: `08-few-steps --quick` loads chapter 2's models from chapter 2's folder (or trains them),
// measures three samplers per network call, the rings before and after, and distils a v-trained teacher
// round by round; then the same samplers and a guided distillation on chapter 7's image model (trained
// here when chapter 7's folder lacks it); a rerun loads every model and measurement from the caches and
// gives the same tables; bad flags exit 2 and a corrupt cached student or measurement is an error naming it.

import Foundation
import Imaging
import Testing

@Suite("Chapter 8: 08-few-steps end to end", .serialized)
struct Chapter08Tests {
    @Test("--quick reuses chapter 2's weights, writes sections 8.1–8.8 and their figures; a rerun measures the same from the caches")
    func quickRun() throws {
        let chapter2 = temporaryDirectory("ch08-from-02"), dir = temporaryDirectory("ch08")
        defer { for d in [chapter2, dir] { try? FileManager.default.removeItem(atPath: d) } }
        #expect(try runChapter("02-mlp", ["--quick", "--dataset", "rings", "--out", chapter2]).status == 0)
        let run = try runChapter("08-few-steps", ["--quick", "--chapter2", chapter2, "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = report.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3).prefix(4)) }
        #expect(headings == ["8.1 ", "8.2 ", "8.3 ", "8.4 ", "8.5 ", "8.6 ", "8.7 ", "8.8 "], "headings: \(headings)")
        for phrase in ["DPM-Solver++(2M)", "precision", "recall", "rings loaded from chapter 2's cache", "moons trained now",
                       "3 hidden layers", "truncated SNR", "1-step student", "Consistency models",
                       "two passes", "trained now in", "unguided", "The 4-step student draws"] {
            #expect(report.contains(phrase), "report.md should mention \(phrase)")
        }
        let regex = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
        let links = regex.matches(in: report, range: NSRange(report.startIndex..., in: report))
            .map { String(report[Range($0.range(at: 1), in: report)!]) }
        #expect(links == ["quality-per-call.png", "samples-per-call.png", "rings-before-after.png", "distilled.png",
                          "image-quality-per-call.png", "image-samples-per-call.png", "image-distilled.png"], "links: \(links)")
        for name in links {
            let image = try Image.readPNG(dir + "/" + name)
            #expect(image.width > 400 && image.height > 200, "\(name): \(image.width)×\(image.height)")
        }
        // Chapter 2's rings model was loaded from its folder, not copied or trained here; the other two datasets,
        // the 3-layer rings model and the v-trained teacher were trained here, and the three students (8 → 4 → 2 → 1).
        let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
        #expect(weights.filter { $0.hasPrefix("mlp-rings-") }.count == 2, "3 layers on ε and 4 on v: \(weights)")
        #expect(weights.filter { $0.hasPrefix("mlp-moons-") || $0.hasPrefix("mlp-spiral-") }.count == 2, "\(weights)")
        #expect(Set(weights.filter { $0.hasPrefix("student-rings-") }.map { $0.split(separator: "-")[2] }) == ["4", "2", "1"], "\(weights)")
        // Chapter 7's two models (no chapter 7 folder here), the image students (8 → 4 → 2 → 1) and two measurements.
        #expect(weights.filter { $0.hasPrefix("autoencoder-") || $0.hasPrefix("latent-text-") }.count == 2, "\(weights)")
        #expect(Set(weights.filter { $0.hasPrefix("image-student-") }.map { $0.split(separator: "-")[2] }) == ["4", "2", "1"], "\(weights)")
        #expect(weights.filter { $0.hasPrefix("image-quality-") || $0.hasPrefix("image-students-") }.count == 2, "\(weights)")

        let again = try runChapter("08-few-steps", ["--quick", "--chapter2", chapter2, "--out", dir])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        let second = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(second.contains("all weights from the caches") && second.contains("(cached)") && second.contains("read back from image-quality-"))
        // The tables of measurements (every line starting "| "), but for the rounds' training times, are the same.
        let tables = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.contains(" s |") && !$0.contains("(cached)") } }
        #expect(tables(report).count > 10 && tables(report) == tables(second))
    }

    @Test("bad flags exit 2 naming the flag; a corrupt cached student or measurement is an error naming its file")
    func badInput() throws {
        let dir = temporaryDirectory("ch08-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (arguments, flag) in [(["--teacher-steps", "6"], "--teacher-steps"), (["--samples", "10"], "--samples"),
                                  (["--dataset", "circles"], "--dataset"), (["--round-steps", "0"], "--round-steps"),
                                  (["--image-samples", "2"], "--image-samples"), (["--image-round-steps", "0"], "--image-round-steps")] {
            let bad = try runChapter("08-few-steps", ["--quick"] + arguments + ["--out", dir])
            #expect(bad.status == 2 && bad.stderr.contains(flag), "\(arguments): \(bad.stderr)")
        }
        let small = ["--quick", "--teacher-steps", "2", "--samples", "60", "--image-samples", "4", "--image-round-steps", "4",
                     "--chapter2", dir, "--chapter7", dir, "--out", dir]
        let first = try runChapter("08-few-steps", small)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        try expectCorruptCacheNamed("08-few-steps", small, in: dir, prefix: "student-")
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("student-") }.forEach { try FileManager.default.removeItem(atPath: dir + "/" + $0) }
        try expectCorruptCacheNamed("08-few-steps", small, in: dir, prefix: "image-quality-")
    }
}

@Suite("Chapter 8: --mine")
struct Chapter08MineTests {
    @Test("--mine runs the learner's grid, DPM-Solver++(2M) step and distillation target (or says they fell back), caches nothing, grades both measures")
    func mine() throws {
        let dir = try expectMineRun("08-few-steps", exercises: ["logSNRTimesteps", "dpmSolverStep", "distillationTarget"],
                                    measure: "trained on your target")
        try? FileManager.default.removeItem(atPath: dir)
    }
}
