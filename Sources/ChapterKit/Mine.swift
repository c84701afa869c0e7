// `--mine`: a chapter run on the learner's own code. Wherever the chapter uses a piece the learner
// built in exercises/ChapterNN (a schedule, a training step, a sampling loop, a block of the
// model), the learner's function runs instead of the library's; an exercise not attempted yet
// falls back to the library's and says so. At the end the chapter grades what the learner's code
// produced with its own measures, against thresholds the solutions pass with margin, and writes
// the grade to `mine-grade.txt` in the output folder (which `swift run progress` shows).

import ExerciseSupport
import Imaging
import Foundation
import Tensor

/// One `--mine` run: which build exercises ran, which fell back, and the grade.
public final class MineRun {
    public let chapter: String
    /// The learner's functions that ran, and those that fell back to the library's.
    public private(set) var used: [String] = [], fellBack: [String] = []
    private var grades: [(measure: String, value: String, threshold: String, passed: Bool)] = []
    private var comparison: Comparison?

    /// What the learner's code drew beside what the library's drew from the same noise.
    private struct Comparison {
        let yours: Image, library: Image?, what: String, difference: Float?
    }

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

    /// The note shown when the library's model for this run's flags is not on disk: the command
    /// (this run's, without `--mine`) that trains and caches it.
    private var libraryMissing: String {
        let flags = CommandLine.arguments.dropFirst().filter { $0 != "--mine" }
        return "The library's model for these flags is not on disk yet, so only yours is shown. Run "
            + "`swift run -c release \(([chapter] + flags).joined(separator: " "))` once (its weights are cached), and the next "
            + "`--mine` with the same flags draws the library's samples beside yours, from the same noise."
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

    /// Shows, in the grade's section, `yours` (drawn by the learner's code) beside `library` (drawn
    /// by the library's code from the same noise), with `what` saying what both are. `difference` is
    /// the largest absolute difference between the two drawings' numbers. `library` is nil when the
    /// library's trained model is not on disk; the report then tells the learner how to get it.
    public func compare(yours: Image, library: Image?, what: String, yoursTensor: Tensor? = nil, libraryTensor: Tensor? = nil) {
        var difference: Float?
        if let a = yoursTensor, let b = libraryTensor, a.shape == b.shape {
            difference = zip(a.data, b.data).reduce(Float(0)) { Swift.max($0, abs($1.0 - $1.1)) }
        }
        comparison = Comparison(yours: yours, library: library, what: what, difference: difference)
    }

    /// What a largest difference `d` between the two drawings means.
    private func sameness(_ d: Float) -> String {
        let size = Report.format(Double(d), digits: 3)
        if used.isEmpty { return "No build exercise of yours ran yet, so both are the library's code" + (d == 0 ? ", and identical." : ".") }
        if d == 0 { return "The two are identical to the last bit: your code computes exactly what the library's does." }
        if d < 1e-3 { return "The two differ by at most \(size): rounding, from the same arithmetic done in another order, not a different model." }
        return "The two differ by up to \(size). Correct code that sums in another order drifts apart over many steps of training "
            + "and sampling, so this alone is no fault; the grade below is what counts."
    }

    /// Writes the grade into the notebook (a section of its own) and `mine-grade.txt`.
    public func report(in book: Notebook) {
        book.section("Your code: the grade")
        if let c = comparison {
            let figure = ImageGrid(rows: [[c.yours] + (c.library.map { [$0] } ?? [])], padding: 8,
                                   columnLabels: ["your code drew these"] + (c.library == nil ? [] : ["the library's drew these"]),
                                   textScale: 2).render()
            book.figure(figure, name: "mine-vs-library.png",
                        caption: c.library == nil ? c.what + ": your code" : c.what + ": your code (left), the library's (right)")
            if c.library == nil {
                book.say(libraryMissing)
            } else if let d = c.difference {
                book.say(sameness(d))
            }
        }
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
