// The doors a learner walks through must not crash: every chapter, given an output folder it cannot
// write, an --out that names a file, or nonsense numbers, and (for the chapters that train) a
// corrupt weight cache, a damaged loss log or weights full of NaN, ends in one line on stderr that
// names what is wrong, with exit status 1 (2 for bad usage) — never a trap or a backtrace — and
// loses nothing already written.

import Foundation
import Testing

/// Every chapter executable, and whether it trains (has a weight cache).
private let chapters: [(name: String, trains: Bool)] = [
    ("00-tensors", false), ("01-noise", false), ("02-mlp", true), ("03-unet", true), ("04-time", true),
    ("05-attention", true), ("06-text", true),
]

/// A run's stderr is one line (the message) and it did not crash.
private func expectOneLine(_ run: (status: Int32, stdout: String, stderr: String), status: Int32, mentions: [String],
                           _ what: String) {
    #expect(run.status == status, "\(what): status \(run.status), stderr: \(run.stderr)")
    let lines = run.stderr.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("\r") && !$0.contains("█") }
    #expect(lines.count == 1, "\(what): stderr should be one line, got \(lines.count): \(run.stderr)")
    for word in mentions { #expect(run.stderr.contains(word), "\(what): stderr should name \(word): \(run.stderr)") }
    for crash in ["Fatal error", "backtrace", "Error raised at top level", "SIGILL"] {
        #expect(!run.stderr.contains(crash), "\(what): crashed: \(run.stderr)")
    }
}

@Suite("Every chapter's doors: one-line errors, never a crash")
struct DoorTests {
    @Test("an --out that cannot be created, that is a file, or is empty", arguments: chapters.map(\.name))
    func badOut(_ chapter: String) throws {
        let dir = temporaryDirectory("door-\(chapter)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/a-file"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: file))

        expectOneLine(try runChapter(chapter, ["--quick", "--out", "/proc/no-such-folder/x"]), status: 1,
                      mentions: ["/proc/no-such-folder/x", "--out"], "\(chapter) --out /proc/…")
        expectOneLine(try runChapter(chapter, ["--quick", "--out", file]), status: 1, mentions: [file, "is a file"],
                      "\(chapter) --out FILE")
        expectOneLine(try runChapter(chapter, ["--quick", "--out", file + "/sub"]), status: 1, mentions: ["a-file"],
                      "\(chapter) --out FILE/sub")
        expectOneLine(try runChapter(chapter, ["--quick", "--out", ""]), status: 2, mentions: ["--out"], "\(chapter) --out \"\"")
        // Nothing already written was lost: the file is as it was.
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me")
    }

    @Test("sizes that would overflow, and rates that are not numbers, are usage errors naming the flag",
          arguments: [("03-unet", ["--channels", "4611686018427387904"], "--channels"),
                      ("04-time", ["--batch", "9223372036854775807"], "--batch"),
                      ("05-attention", ["--train-steps", "0"], "--train-steps"),
                      ("02-mlp", ["--ema", "5"], "--ema"), ("02-mlp", ["--ema", "-1"], "--ema"), ("02-mlp", ["--ema", "nan"], "--ema"),
                      ("02-mlp", ["--lr", "inf"], "--lr"), ("06-text", ["--guidance", "nan"], "--guidance"),
                      ("06-text", ["--sampling-steps", "1001"], "--sampling-steps"), ("06-text", ["--steps", "5"], "--steps")])
    func badNumbers(_ chapter: String, _ arguments: [String], _ flag: String) throws {
        let dir = temporaryDirectory("door-num")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        expectOneLine(try runChapter(chapter, ["--quick"] + arguments + ["--out", dir]), status: 2, mentions: [flag],
                      "\(chapter) \(arguments)")
        // A usage error stops before anything is written.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test("flags a chapter does not have are refused", arguments: [("00-tensors", "--ablate"), ("01-noise", "--retrain")])
    func flagsNotTaken(_ chapter: String, _ flag: String) throws {
        expectOneLine(try runChapter(chapter, ["--quick", flag]), status: 2, mentions: [flag], "\(chapter) \(flag)")
    }

    @Test("a damaged loss log retrains with a notice; corrupt or NaN weights are refused naming the file",
          arguments: chapters.filter(\.trains).map(\.name))
    func corruptCache(_ chapter: String) throws {
        let dir = temporaryDirectory("door-cache-\(chapter)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try runChapter(chapter, ["--quick", "--out", dir])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        guard let weights = names.first(where: { $0.hasSuffix(".safetensors") }) else {
            Issue.record("\(chapter): no weights cached in \(names)")
            return
        }
        let log = dir + "/" + weights.replacingOccurrences(of: ".safetensors", with: "-loss.csv")

        // 1. A garbled loss log: trained again with a one-line notice, and the run succeeds (an empty or
        //    short log is tried on a small model in ChapterKitTests).
        for damage in ["step,loss\n1,0.5\n2,banana\n"] {
            try Data(damage.utf8).write(to: URL(fileURLWithPath: log))
            let run = try runChapter(chapter, ["--quick", "--out", dir])
            #expect(run.status == 0, "\(chapter), log \(damage.debugDescription): stderr \(run.stderr)")
            #expect(run.stdout.contains("note: the loss log") && run.stdout.contains("training anew"),
                    "\(chapter): no notice in \(run.stdout.prefix(1500))")
        }

        // 2. Weights whose every value is NaN (a well-formed file otherwise): refused, not sampled.
        let path = dir + "/" + weights
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let nan = Float.nan.bitPattern
        for i in stride(from: 8 + headerLength, to: bytes.count, by: 4) {
            for b in 0..<4 { bytes[i + b] = UInt8(truncatingIfNeeded: nan >> (8 * UInt32(b))) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectOneLine(try runChapter(chapter, ["--quick", "--out", dir]), status: 1, mentions: [weights, "--retrain"],
                      "\(chapter) NaN weights")

        // 3. Not a weights file at all: refused, naming the file and --retrain.
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: path))
        expectOneLine(try runChapter(chapter, ["--quick", "--out", dir]), status: 1, mentions: [weights, "--retrain"],
                      "\(chapter) corrupt weights")
        #expect(FileManager.default.fileExists(atPath: dir + "/report.md"), "the first run's report is kept")
    }
}
