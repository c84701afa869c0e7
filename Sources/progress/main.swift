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

    @Option(parsing: .unconditional, help: ArgumentHelp("Check one chapter only, e.g. 03.", valueName: "NN")) var chapter: String?
    @Flag(help: "Keep watching exercises/: recheck a chapter whenever one of its files is saved, and say what is next.")
    var watch = false

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

setvbuf(stdout, nil, _IOLBF, 0)  // line by line, also into a pipe: --watch prints as it goes
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

/// One exercise's line as shown, and its status word.
struct Outcome {
    let id: String
    let kind: String
    let verdict: Verdict
    var status: String {
        switch verdict {
        case .passed: "passed"
        case .notAttempted: "not attempted"
        case .failed: "failing"
        case .crashed: "crashing"
        }
    }
}

/// Builds chapter `nn`'s runner and runs every check; prints one line per exercise. Returns the
/// outcomes, or nil if the chapter does not compile (the errors are printed).
@discardableResult
func checkChapter(_ nn: String) -> [Outcome]? {
    print("\nChapter \(nn)")
    let build = run(["swift", "build", "--product", "check\(nn)"])
    if build.status != 0 {
        let errors = build.output.split(separator: "\n").filter { $0.contains("error:") }
        print("  not compiling — fix these, then run again:")
        for e in errors.prefix(5) { print("    " + e.replacingOccurrences(of: root + "/", with: "")) }
        return nil
    }
    var outcomes: [Outcome] = []
    for line in run([binPath + "/check\(nn)"]).output.split(separator: "\n") {
        // Each line is "<exercise id> <kind> VERDICT …", written by runChecksCommandLine.
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, let verdict = Verdict(output: String(parts[2])) else { continue }
        let outcome = Outcome(id: String(parts[0]), kind: String(parts[1]), verdict: verdict)
        let (mark, detail): (String, String)
        switch verdict {
        case .passed: (mark, detail) = ("✔", "")
        case .notAttempted(let file): (mark, detail) = ("·", file)
        case .failed(let message): (mark, detail) = ("✘", message)
        case .crashed(let message): (mark, detail) = ("‼", message)
        }
        let shown = detail.replacingOccurrences(of: "\n", with: "\n      ")
        print("  \(mark) \(outcome.id.padding(toLength: 20, withPad: " ", startingAt: 0)) \(outcome.kind.padding(toLength: 8, withPad: " ", startingAt: 0)) \(outcome.status)\(shown.isEmpty ? "" : ": " + shown)")
        outcomes.append(outcome)
    }
    if let grade = mineGrade(nn) { print("  " + grade) }
    return outcomes
}

/// The last `--mine` grade of chapter `nn` (its default output folder's mine-grade.txt), if any.
func mineGrade(_ nn: String) -> String? {
    let output = root + "/output"
    guard let folder = (try? FileManager.default.contentsOfDirectory(atPath: output))?.first(where: { $0.hasPrefix(nn + "-") }),
          let text = try? String(contentsOfFile: output + "/" + folder + "/mine-grade.txt", encoding: .utf8) else { return nil }
    let lines = text.split(separator: "\n")
    return "--mine: " + (lines.first.map(String.init) ?? "?") + (lines.count > 1 ? " (\(lines[1]))" : "")
}

/// The first exercise of `outcomes` not yet passing, as a line for the learner.
func nextStep(_ nn: String, _ outcomes: [Outcome]?) -> String {
    guard let outcomes else { return "Next: make exercises/Chapter\(nn) compile." }
    guard let next = outcomes.first(where: { $0.verdict != .passed }) else { return "Chapter \(nn): every exercise passes." }
    if case .notAttempted(let file) = next.verdict { return "Next: \(next.id) in \(file)." }
    return "Next: fix \(next.id) (\(next.status))."
}

if options.watch {
    // rustlings' watch mode: check each chapter once, then recheck a chapter whenever one of its
    // exercise files is saved, and say which exercise is next. Ctrl-C ends it.
    func stamps(_ chapter: String) -> [String: Date] {
        let folder = root + "/exercises/" + chapter
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return Dictionary(uniqueKeysWithValues: names.map { name in
            (name, ((try? FileManager.default.attributesOfItem(atPath: folder + "/" + name))?[.modificationDate] as? Date) ?? .distantPast)
        })
    }
    var seen = Dictionary(uniqueKeysWithValues: chapters.map { ($0, stamps($0)) })
    for chapter in chapters {
        let nn = String(chapter.dropFirst("Chapter".count))
        print(nextStep(nn, checkChapter(nn)))
    }
    print("\nWatching exercises/ — save a file to recheck its chapter; Ctrl-C to stop.")
    while true {
        Thread.sleep(forTimeInterval: 1)
        for chapter in chapters {
            let now = stamps(chapter)
            guard now != seen[chapter] else { continue }
            seen[chapter] = now
            let nn = String(chapter.dropFirst("Chapter".count))
            print(nextStep(nn, checkChapter(nn)))
        }
    }
}

var totals: [String: Int] = [:]
for chapter in chapters {
    let nn = String(chapter.dropFirst("Chapter".count))
    guard let outcomes = checkChapter(nn) else {
        totals["not compiling", default: 0] += 1
        continue
    }
    for outcome in outcomes { totals[outcome.status, default: 0] += 1 }
}
print("\n" + ["passed", "failing", "crashing", "not attempted", "not compiling"]
    .map { "\(totals[$0, default: 0]) \($0)" }.joined(separator: ", "))
