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
/// Returns the output folder (the caller removes it).
@discardableResult
func expectMineRun(_ chapter: String, exercises: [String], measure: String,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let dir = temporaryDirectory("\(chapter)-mine")
    let run = try runChapter(chapter, ["--quick", "--mine", "--out", dir])
    #expect(run.status == 0, "stderr: \(run.stderr)", sourceLocation: sourceLocation)
    let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
    #expect(report.contains("## Your code: the grade") && report.contains(measure), sourceLocation: sourceLocation)
    let weights = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".safetensors") }
    #expect(weights.isEmpty, "--mine must not cache weights trained by the learner's code: \(weights)", sourceLocation: sourceLocation)
    let grade = try String(contentsOfFile: dir + "/mine-grade.txt", encoding: .utf8)
    if ProcessInfo.processInfo.environment["EXERCISES_EXPECT_SOLUTIONS"] == "1" {
        #expect(grade.contains("all your build exercises") && !run.stdout.contains("is not attempted yet"), "\(grade)",
                sourceLocation: sourceLocation)
    } else if grade.hasPrefix("not graded") {
        for name in exercises {
            #expect(run.stdout.contains("--mine: \(name) is not attempted yet"), "\(name)", sourceLocation: sourceLocation)
        }
    }
    return dir
}
