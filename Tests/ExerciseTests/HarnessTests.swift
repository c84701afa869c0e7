// The grading harness contains what learner code can do wrong: a crash is one failed check that
// shows the runtime's message, an endless loop is stopped at the time limit, a stub is "not
// attempted" — proved on `harness-demo`, whose code misbehaves on purpose.

import ExerciseChecks
import Foundation
import Testing

@Suite("The grading harness")
struct HarnessTests {
    let demo = builtExecutable("harness-demo")

    @Test("a right answer passes; a stub is not attempted, naming its file")
    func passAndStub() {
        #expect(runCheckInChild(executable: demo, id: "passes") == .passed)
        #expect(runCheckInChild(executable: demo, id: "stub") == .notAttempted(file: "exercises/ChapterXX/Demo.swift"))
    }

    @Test("a crash is reported with the runtime's message")
    func crash() {
        let verdict = runCheckInChild(executable: demo, id: "crashes")
        guard case .crashed(let message) = verdict else {
            Issue.record("expected a crash verdict, got \(verdict)")
            return
        }
        #expect(message.contains("Index out of range"), "\(message)")
    }

    @Test("an endless loop is stopped at the time limit and failed")
    func endlessLoop() {
        let start = Date()
        let verdict = runCheckInChild(executable: demo, id: "loops", limit: 2)
        #expect(Date().timeIntervalSince(start) < 20)
        guard case .failed(let message) = verdict else {
            Issue.record("expected a failure, got \(verdict)")
            return
        }
        #expect(message.contains("did not finish within 2 s"), "\(message)")
    }
}
