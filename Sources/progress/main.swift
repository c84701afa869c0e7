// swift run progress — where you stand: each chapter's exercises as passed, not attempted,
// failing, crashing or not compiling.
//
// For each exercises/ChapterNN it builds that chapter's runner (`checkNN`) on its own, so a
// chapter that does not compile cannot hide the others, then runs it; the runner grades each
// exercise in a child process, so a crash is contained.

import ArgumentParser
import ExerciseChecks
import Foundation

func run(_ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (127, "could not run \(arguments.joined(separator: " ")): \(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

struct ProgressOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress",
        abstract: "Where you stand: each chapter's exercises as passed, not attempted, failing, crashing or not compiling.")

    @Option(help: ArgumentHelp("Check one chapter only, e.g. 03.", valueName: "NN")) var chapter: String?

    func validate() throws {
        if let chapter, chapter.count != 2 || Int(chapter) == nil {
            throw ValidationError("--chapter takes a two-digit chapter number such as 03, got '\(chapter)'")
        }
    }
}

let options: ProgressOptions
do {
    options = try ProgressOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    if ProgressOptions.exitCode(for: error) == .success { print(ProgressOptions.fullMessage(for: error)); exit(0) }
    FileHandle.standardError.write(Data("progress: \(ProgressOptions.message(for: error)) (see --help)\n".utf8))
    exit(2)
}

let root = FileManager.default.currentDirectoryPath
guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root + "/exercises") else {
    FileHandle.standardError.write(Data("progress: no exercises/ folder in \(root); run `swift run progress` from the package root\n".utf8))
    exit(1)
}
let chapters = entries.filter { $0.hasPrefix("Chapter") && (options.chapter == nil || $0 == "Chapter" + options.chapter!) }.sorted()
if chapters.isEmpty {
    FileHandle.standardError.write(Data("progress: no exercises/Chapter\(options.chapter ?? "NN") folder\n".utf8))
    exit(1)
}
let binPath = run(["swift", "build", "--show-bin-path"]).output.trimmingCharacters(in: .whitespacesAndNewlines)

var totals: [String: Int] = [:]
for chapter in chapters {
    let nn = String(chapter.dropFirst("Chapter".count))
    print("\nChapter \(nn)")
    let build = run(["swift", "build", "--product", "check\(nn)"])
    if build.status != 0 {
        let errors = build.output.split(separator: "\n").filter { $0.contains("error:") }
        print("  not compiling — fix these, then run again:")
        for e in errors.prefix(5) { print("    " + e.replacingOccurrences(of: root + "/", with: "")) }
        totals["not compiling", default: 0] += 1
        continue
    }
    let result = run([binPath + "/check\(nn)"])
    for line in result.output.split(separator: "\n") {
        // Each line is "<exercise id> VERDICT …", written by runChecksCommandLine.
        guard let space = line.firstIndex(of: " "), let verdict = Verdict(output: String(line[line.index(after: space)...]))
        else { continue }
        let id = String(line[..<space])
        let (mark, status, detail): (String, String, String)
        switch verdict {
        case .passed: (mark, status, detail) = ("✔", "passed", "")
        case .notAttempted(let file): (mark, status, detail) = ("·", "not attempted", file)
        case .failed(let message): (mark, status, detail) = ("✘", "failing", message)
        case .crashed(let message): (mark, status, detail) = ("‼", "crashing", message)
        }
        let shown = detail.replacingOccurrences(of: "\n", with: "\n      ")
        print("  \(mark) \(id.padding(toLength: 22, withPad: " ", startingAt: 0)) \(status)\(shown.isEmpty ? "" : ": " + shown)")
        totals[status, default: 0] += 1
    }
}
print("\n" + ["passed", "failing", "crashing", "not attempted", "not compiling"]
    .map { "\(totals[$0, default: 0]) \($0)" }.joined(separator: ", "))
