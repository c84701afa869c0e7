// Grades the learner's exercises. Each check runs in a child process — the chapter's runner
// `checkNN --run ID`, built beside this test bundle — so a crash in learner code (an index out of
// range, a force-unwrapped nil) fails that one check with the runtime's message, and a check that
// runs past `checkTimeLimit` (an infinite loop) is stopped and failed, instead of killing or
// hanging the whole test run.
//
//   not attempted -> the test is skipped (cancelled) with the file to open
//   wrong answer  -> the test fails with expected vs actual and a hint
//   crash         -> the test fails with the crash message and the hint
//   too slow      -> the test fails saying so
//
// CI sets EXERCISES_EXPECT_STUBS=1 to prove that every shipped stub reports "not attempted".

import ExerciseChecks
import Foundation
import Testing

let expectStubs = ProcessInfo.processInfo.environment["EXERCISES_EXPECT_STUBS"] == "1"

/// The path of an executable built beside this test bundle (e.g. "check02").
func builtExecutable(_ name: String) -> String {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent.hasSuffix(".xctest") || directory.path.contains(".xctest/") {
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
    }
    return directory.appendingPathComponent(name).path
}

/// Runs chapter `chapter`'s check `id` on the learner's code and turns its verdict into a pass, a
/// skip or a failure.
func grade(chapter: String, id: String, hint: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var verdict = runCheckInChild(executable: builtExecutable("check\(chapter)"), id: id)
    if case .crashed(let message) = verdict { verdict = .crashed("\(id): \(message) — hint: \(hint)") }
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
