// End-to-end tests run each chapter's executable with --quick into a temporary folder.

import Foundation
import Testing

/// Runs the built chapter executable `name` (e.g. "01-noise") with `arguments`; returns its
/// exit status, standard output and standard error.
func runChapter(_ name: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    // The test bundle sits in the build folder beside the executables it depends on.
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent.hasSuffix(".xctest") || directory.path.contains(".xctest/") {
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
    }
    let executable = directory.appendingPathComponent(name)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Truncates the first cached weights file in `dir` whose name starts with `prefix` (as a crash mid-write
/// would leave it), reruns `chapter` with `arguments`, and expects it to stop with exit status 1 and one
/// line on stderr naming the file.
func expectCorruptCacheNamed(_ chapter: String, _ arguments: [String], in dir: String, prefix: String,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard let file = try FileManager.default.contentsOfDirectory(atPath: dir).first(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".safetensors") })
    else { Issue.record("no cached \(prefix)… file in \(dir)", sourceLocation: sourceLocation); return }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/" + file))
    try handle.truncate(atOffset: 100)
    try handle.close()
    let broken = try runChapter(chapter, arguments)
    #expect(broken.status == 1 && broken.stderr.contains(file), "stderr: \(broken.stderr)", sourceLocation: sourceLocation)
    #expect(broken.stderr.split(separator: "\n").count == 1, "one line: \(broken.stderr)", sourceLocation: sourceLocation)
}

/// A fresh temporary folder.
func temporaryDirectory(_ prefix: String) -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// `chapter --quick --mine` into a fresh folder, checked for what every `--mine` run promises: exit 0,
/// a graded last section mentioning `measure`, no cached weights, and `mine-grade.txt`. With the
/// shipped stubs each of `exercises` must be reported as not attempted (the library's ran); in CI's
/// second pass (EXERCISES_EXPECT_SOLUTIONS=1, solutions copied into exercises/) all must have run.
///
/// The run also draws "your code drew these" beside the library's model. `library: .trainedFirst`
/// runs the chapter without `--mine` first (caching the library's weights), so the figure has both
/// sides: identical to the bit with the stubs (both are the library's code), and with the solutions
/// where `solutionsIdentical` (the solutions compute the library's model in the same order).
/// `.missing` runs `--mine` alone first and expects the note that says how to get the library's side.
/// `.notNeeded` (chapter 1) has no trained model to wait for.
/// Returns the output folder (the caller removes it).
enum LibrarySide { case trainedFirst, missing, notNeeded }

@discardableResult
func expectMineRun(_ chapter: String, exercises: [String], measure: String, library: LibrarySide = .trainedFirst,
                   solutionsIdentical: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let dir = temporaryDirectory("\(chapter)-mine")
    let solutions = ProcessInfo.processInfo.environment["EXERCISES_EXPECT_SOLUTIONS"] == "1"
    func weights() throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }) }
    if library == .missing {
        let alone = try runChapter(chapter, ["--quick", "--mine", "--out", dir])
        #expect(alone.status == 0, "stderr: \(alone.stderr)", sourceLocation: sourceLocation)
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(report.contains("mine-vs-library.png") && report.contains("is not on disk yet")
                && report.contains("`swift run -c release \(chapter) --quick --out \(dir)`"), sourceLocation: sourceLocation)
    }
    if library != .notNeeded {
        let plain = try runChapter(chapter, ["--quick", "--out", dir])
        #expect(plain.status == 0, "stderr: \(plain.stderr)", sourceLocation: sourceLocation)
    }
    let before = try weights()
    let run = try runChapter(chapter, ["--quick", "--mine", "--out", dir])
    #expect(run.status == 0, "stderr: \(run.stderr)", sourceLocation: sourceLocation)
    let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
    #expect(report.contains("## Your code: the grade") && report.contains(measure), sourceLocation: sourceLocation)
    let after = try weights()
    #expect(after == before, "--mine must not cache weights trained by the learner's code: \(after.subtracting(before))",
            sourceLocation: sourceLocation)
    #expect(report.contains("(mine-vs-library.png)") && report.contains("your code (left), the library's (right)"),
            "the report must show the learner's drawing beside the library's", sourceLocation: sourceLocation)
    if !solutions {
        #expect(report.contains("both are the library's code, and identical"), sourceLocation: sourceLocation)
    } else if solutionsIdentical {
        #expect(report.contains("The two are identical to the last bit"), sourceLocation: sourceLocation)
    } else {
        #expect(report.contains("The two are identical to the last bit") || report.contains("The two differ by at most"),
                sourceLocation: sourceLocation)
    }
    let grade = try String(contentsOfFile: dir + "/mine-grade.txt", encoding: .utf8)
    if solutions {
        #expect(grade.contains("all your build exercises") && !run.stdout.contains("is not attempted yet"), "\(grade)",
                sourceLocation: sourceLocation)
    } else if grade.hasPrefix("not graded") {
        for name in exercises {
            #expect(run.stdout.contains("--mine: \(name) is not attempted yet"), "\(name)", sourceLocation: sourceLocation)
        }
    }
    return dir
}
