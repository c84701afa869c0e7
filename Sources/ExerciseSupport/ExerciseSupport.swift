import Foundation

// What exercise stubs and their checks share: the "not attempted" signal and answer comparison.

/// Thrown by an exercise stub that the learner has not written yet. Names the file to open.
public struct NotAttempted: Error, CustomStringConvertible {
    public let exercise: String
    public let file: String

    /// `throw NotAttempted()` in a stub records the function and its file automatically.
    public init(_ exercise: String = #function, file: String = #filePath) {
        self.exercise = exercise
        // Show the path from the package root ("exercises/Chapter01/Schedules.swift").
        if let range = file.range(of: "/exercises/") {
            self.file = "exercises/" + file[range.upperBound...]
        } else {
            self.file = file
        }
    }

    public var description: String { "\(exercise) is not attempted yet: open \(file)" }
}
