// `--mine`: a chapter run on the learner's own code. Wherever the chapter uses a piece the learner
// built in exercises/ChapterNN (a schedule, a training step, a sampling loop, a block of the
// model), the learner's function runs instead of the library's; an exercise not attempted yet
// falls back to the library's and says so. At the end the chapter grades what the learner's code
// produced with its own measures, against thresholds the solutions pass with margin, and writes
// the grade to `mine-grade.txt` in the output folder (which `swift run progress` shows).

import ExerciseSupport
import Imaging
import Foundation

/// One `--mine` run: which build exercises ran, which fell back, and the grade.
public final class MineRun {
    public let chapter: String
    /// The learner's functions that ran, and those that fell back to the library's.
    public private(set) var used: [String] = [], fellBack: [String] = []
    private var grades: [(measure: String, value: String, threshold: String, passed: Bool)] = []

    public init(chapter: String) { self.chapter = chapter }

    /// The learner's `exercise`, or `library` if it is not attempted yet (recorded, and said once).
    /// Any other error from the learner's code ends the run with its message.
    public func use<T>(_ exercise: String, learner: () throws -> T, library: () -> T) -> T {
        do {
            let value = try learner()
            if !used.contains(exercise) { used.append(exercise) }
            return value
        } catch let stub as NotAttempted {
            if !fellBack.contains(exercise) {
                fellBack.append(exercise)
                print("--mine: \(exercise) is not attempted yet (\(stub.file)); the library's runs in its place")
            }
            return library()
        } catch {
            standardError("\(chapter): --mine: your \(exercise) failed: \(reason(error))")
            exit(1)
        }
    }

    /// Records one measure of the grade: its value, the threshold, and whether it was met.
    public func grade(_ measure: String, value: String, threshold: String, passed: Bool) {
        grades.append((measure, value, threshold, passed))
    }

    /// Whether every measure met its threshold, at least one was graded, and at least one of the
    /// learner's build exercises ran (the library's code alone earns no grade).
    public var passed: Bool { !used.isEmpty && !grades.isEmpty && grades.allSatisfy(\.passed) }

    /// The grade on one line: pass or fail, and whose code ran.
    public var verdict: String {
        if used.isEmpty { return "not graded — no build exercise attempted yet (the library's code ran)" }
        let code = fellBack.isEmpty ? "all your build exercises"
            : "your \(used.joined(separator: ", ")); the library's \(fellBack.joined(separator: ", "))"
        return (passed ? "pass" : "fail") + " — " + code
    }

    /// Writes the grade into the notebook (a section of its own) and `mine-grade.txt`.
    public func report(in book: Notebook) {
        book.section("Your code: the grade")
        book.say(fellBack.isEmpty
                 ? "Every build exercise of this chapter ran from exercises/: \(used.joined(separator: ", "))."
                 : "Ran from exercises/: \(used.isEmpty ? "none" : used.joined(separator: ", ")). Not attempted yet, "
                   + "so the library's ran instead: \(fellBack.joined(separator: ", ")).")
        book.table(headers: ["measure", "your code", "to pass", ""],
                   rows: grades.map { [$0.measure, $0.value, $0.threshold, $0.passed ? "✔" : "✘"] })
        book.say("**\(verdict.prefix(1).uppercased() + verdict.dropFirst())**.")
        let date = ISO8601DateFormatter().string(from: Date())
        book.must { try writeFileAtomically(Data("\(verdict)\n\(date)\n".utf8), to: book.path("mine-grade.txt")) }
    }
}
