// The machinery that grades exercises: a check runs the learner's function on inputs, compares
// with the library's own version of the idea, and returns a verdict. The tests run each check in
// a child process, so a learner's crash is one failed check, never a dead test run.

import Foundation
@_exported import ExerciseSupport
import Tensor

/// One graded exercise of a chapter. `API` is the chapter's set of exercise functions, so the
/// same check grades `exercises/` and `solutions/`.
public struct Check<API>: @unchecked Sendable {
    public let id: String
    /// The file the learner edits, from the package root.
    public let file: String
    public let hint: String
    public let run: (API) throws -> Void

    public init(_ id: String, file: String, hint: String, run: @escaping (API) throws -> Void) {
        self.id = id; self.file = file; self.hint = hint; self.run = run
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

func show(_ values: [Float], around i: Int) -> String {
    let lo = Swift.max(0, i - 2), hi = Swift.min(values.count, i + 3)
    let shown = (lo..<hi).map { j in (j == i ? ">" : "") + String(format: "%.6g", values[j]) }.joined(separator: ", ")
    return "[\(lo > 0 ? "…, " : "")\(shown)\(hi < values.count ? ", …" : "")] (\(values.count) values)"
}

// MARK: - A command-line runner (used by `swift run progress`)

/// `checkNN` executables call this. With `--run ID` it evaluates one check and prints its verdict;
/// with no arguments it runs every check in a child process of itself (so a crash is contained)
/// and prints one verdict line per check, prefixed by its id.
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--run", check.id]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        var verdict: Verdict
        do {
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
                let last = errors.split(separator: "\n").last(where: { $0.contains("error") || $0.contains("Fatal") }) ?? ""
                verdict = .crashed("signal/status \(process.terminationStatus) \(last)")
            } else {
                verdict = Verdict(output: String(decoding: data, as: UTF8.self)) ?? .crashed("no verdict printed")
            }
        } catch {
            verdict = .crashed("could not start: \(error)")
        }
        print("\(check.id) \(verdict.line)")
    }
    exit(0)
}
