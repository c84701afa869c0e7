// Grades the learner's exercises. Each check runs in a child process (an exit test), so a
// crash in learner code — an index out of range, a force-unwrapped nil — fails that one check
// with its message instead of killing the whole test run.
//
//   not attempted -> the test is skipped (cancelled) with the file to open
//   wrong answer  -> the test fails with expected vs actual and a hint
//   crash         -> the test fails with the signal
//
// CI sets EXERCISES_EXPECT_STUBS=1 to prove that every shipped stub reports "not attempted".

import ExerciseChecks
import Foundation
import Testing

let expectStubs = ProcessInfo.processInfo.environment["EXERCISES_EXPECT_STUBS"] == "1"

/// Shown when learner code crashed the child process (the exit test then reports the signal).
let crashComment: Comment = "your code crashed (a trap: index out of range, unwrapping nil, integer overflow, …); `swift run progress` shows the crash message"

/// Turns the child's result into a pass, a skip or a failure.
func grade(_ result: ExitTest.Result?, id: String, hint: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard let result else { return }  // the exit test itself already recorded why it could not run
    let stdout = String(decoding: result.standardOutputContent, as: UTF8.self)
    let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
    let verdict: Verdict
    switch result.exitStatus {
    case .exitCode(0): verdict = Verdict(output: stdout) ?? .crashed("the check printed no verdict")
    default:
        let reason = stderr.split(separator: "\n").last(where: { $0.contains("Fatal error") || $0.contains("error") })
        verdict = .crashed("\(id) crashed (\(result.exitStatus))\(reason.map { ": " + $0 } ?? "") — hint: \(hint)")
    }
    if expectStubs {
        if case .notAttempted = verdict { return }
        Issue.record("shipped stub for \(id) should report 'not attempted' but gave: \(verdict)", sourceLocation: sourceLocation)
        return
    }
    switch verdict {
    case .passed: return
    case .notAttempted(let file): try Test.cancel("not attempted yet: open \(file)", sourceLocation: sourceLocation)
    case .failed(let message), .crashed(let message): Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}
