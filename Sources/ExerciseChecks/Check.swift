// The machinery that grades exercises: a check runs the learner's function on inputs, compares
// with the library's own version of the idea, and returns a verdict. The tests run each check in
// a child process, so a learner's crash is one failed check, never a dead test run.

import Dispatch
import Foundation
@_exported import ExerciseSupport
import Tensor

/// One graded exercise of a chapter. `API` is the chapter's set of exercise functions, so the
/// same check grades `exercises/` and `solutions/`.
public struct Check<API>: @unchecked Sendable {
    /// Warm-ups are a formula or a shape rule on their own; build exercises are pieces the chapter
    /// really runs (its `--mine` runs the learner's in place of the library's).
    public enum Kind: String, Sendable { case warmUp = "warm-up", build }

    public let id: String
    public let kind: Kind
    /// The file the learner edits, from the package root.
    public let file: String
    public let hint: String
    public let run: (API) throws -> Void

    public init(_ id: String, kind: Kind = .warmUp, file: String, hint: String, run: @escaping (API) throws -> Void) {
        self.id = id; self.kind = kind; self.file = file; self.hint = hint; self.run = run
    }
}

/// A wrong answer: what was expected, what came back, and the hint.
public struct WrongAnswer: Error, CustomStringConvertible {
    public let description: String
    public init(_ what: String, expected: String, actual: String, hint: String) {
        description = "\(what)\n  expected: \(expected)\n  actual:   \(actual)\n  hint: \(hint)"
    }
}

public enum Verdict: Equatable, Sendable {
    case passed
    case notAttempted(file: String)
    case failed(String)
    case crashed(String)

    /// One line on standard output: how a child process reports to its parent.
    public var line: String {
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: "\\n") }
        switch self {
        case .passed: return "VERDICT passed"
        case .notAttempted(let file): return "VERDICT not-attempted " + escape(file)
        case .failed(let message): return "VERDICT failed " + escape(message)
        case .crashed(let message): return "VERDICT crashed " + escape(message)
        }
    }

    /// Reads the verdict line from a child's standard output.
    public init?(output: String) {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("VERDICT ") }) else { return nil }
        let rest = line.dropFirst("VERDICT ".count)
        let (kind, payload) = rest.firstIndex(of: " ").map { (String(rest[..<$0]), String(rest[rest.index(after: $0)...])) }
            ?? (String(rest), "")
        let text = payload.replacingOccurrences(of: "\\n", with: "\n")
        switch kind {
        case "passed": self = .passed
        case "not-attempted": self = .notAttempted(file: text)
        case "failed": self = .failed(text)
        case "crashed": self = .crashed(text)
        default: return nil
        }
    }
}

/// Runs a check in this process and classifies the outcome.
public func evaluate<API>(_ check: Check<API>, _ api: API) -> Verdict {
    do {
        try check.run(api)
        return .passed
    } catch let e as NotAttempted {
        return .notAttempted(file: e.file)
    } catch {
        return .failed("\(error)")
    }
}

// MARK: - Comparing answers

/// Throws a `WrongAnswer` unless `actual` has `expected`'s shape and values within `tolerance`
/// (absolute, plus relative to the value's size).
public func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-4, _ what: String, hint: String) throws {
    guard actual.shape == expected.shape else {
        throw WrongAnswer(what + " (shape)", expected: "shape \(expected.shape)", actual: "shape \(actual.shape)", hint: hint)
    }
    try expectClose(actual.data, expected.data, tolerance: tolerance, what, hint: hint)
}

public func expectClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4, _ what: String, hint: String) throws {
    guard actual.count == expected.count else {
        throw WrongAnswer(what + " (count)", expected: "\(expected.count) values", actual: "\(actual.count) values", hint: hint)
    }
    for i in 0..<actual.count where !(Swift.abs(actual[i] - expected[i]) <= tolerance * (1 + Swift.abs(expected[i]))) {
        throw WrongAnswer(what + " (first difference at index \(i))", expected: show(expected, around: i),
                          actual: show(actual, around: i), hint: hint)
    }
}

/// Throws a `WrongAnswer` unless every value is within `relative` of the expected one *relative to
/// its own size*: for values that span many orders of magnitude (ᾱ falls to 4e-5), where an absolute
/// tolerance would accept 0 for everything small.
public func expectRelativelyClose(_ actual: [Float], _ expected: [Float], relative: Float = 1e-3, _ what: String, hint: String) throws {
    guard actual.count == expected.count else {
        throw WrongAnswer(what + " (count)", expected: "\(expected.count) values", actual: "\(actual.count) values", hint: hint)
    }
    for i in 0..<actual.count where !(Swift.abs(actual[i] - expected[i]) <= relative * Swift.abs(expected[i])) {
        throw WrongAnswer(what + " (first difference at index \(i), relative tolerance \(relative))",
                          expected: show(expected, around: i), actual: show(actual, around: i), hint: hint)
    }
}

func show(_ values: [Float], around i: Int) -> String {
    let lo = Swift.max(0, i - 2), hi = Swift.min(values.count, i + 3)
    let shown = (lo..<hi).map { j in (j == i ? ">" : "") + String(format: "%.6g", values[j]) }.joined(separator: ", ")
    return "[\(lo > 0 ? "…, " : "")\(shown)\(hi < values.count ? ", …" : "")] (\(values.count) values)"
}

// MARK: - Running a check in a child process, with a time limit

/// How long one check may run before it is stopped and failed (an infinite loop, or an answer far
/// too slow): the checks themselves take well under a second.
public let checkTimeLimit: TimeInterval = 60

/// Runs `executable --run id` (a `checkNN` runner) in a child process and returns its verdict: the
/// child's own verdict line; `.crashed` with the runtime's message ("Fatal error: Index out of
/// range") if it died; `.failed` if it ran past `limit` seconds (it is then killed).
public func runCheckInChild(executable: String, id: String, limit: TimeInterval = checkTimeLimit) -> Verdict {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = ["--run", id]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let finished = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in finished.signal() }
    do {
        try process.run()
    } catch {
        return .crashed("could not start \(executable): \(error)")
    }
    // Read both pipes while the child runs, so a chatty child cannot block on a full pipe.
    /// Each box is written by one reader and read only after `readers.wait()`.
    final class Box: @unchecked Sendable { var data = Data() }
    let output = Box(), errors = Box()
    let readers = DispatchGroup()
    DispatchQueue.global().async(group: readers) { output.data = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: readers) { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
    if finished.wait(timeout: .now() + limit) == .timedOut {
        process.terminate()
        kill(process.processIdentifier, SIGKILL)
        finished.wait()
        readers.wait()
        return .failed("\(id) did not finish within \(Int(limit)) s — an infinite loop, or a loop over far too many steps?")
    }
    readers.wait()
    let text = String(decoding: errors.data, as: UTF8.self)
    if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
        let message = text.split(separator: "\n").last(where: { $0.contains("Fatal error") || $0.contains("error:") })
            .map { String($0).trimmingCharacters(in: .whitespaces) }
        let how = process.terminationReason == .uncaughtSignal ? "signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
        return .crashed("your code crashed (\(how))" + (message.map { ": " + $0 } ?? ""))
    }
    return Verdict(output: String(decoding: output.data, as: UTF8.self)) ?? .crashed("the check printed no verdict")
}

// MARK: - A command-line runner (used by `swift run progress` and the exercise tests)

/// `checkNN` executables call this. With `--run ID` it evaluates one check and prints its verdict;
/// with no arguments it runs every check in a child process of itself (so a crash is contained and
/// an endless loop is stopped) and prints one verdict line per check, prefixed by its id.
public func runChecksCommandLine<API>(_ checks: [Check<API>], _ api: API) -> Never {
    let args = CommandLine.arguments
    if args.count == 3, args[1] == "--run" {
        guard let check = checks.first(where: { $0.id == args[2] }) else {
            print("VERDICT failed no check named \(args[2])"); exit(1)
        }
        print(evaluate(check, api).line)
        exit(0)
    }
    for check in checks {
        print("\(check.id) \(check.kind.rawValue) \(runCheckInChild(executable: CommandLine.arguments[0], id: check.id).line)")
    }
    exit(0)
}
