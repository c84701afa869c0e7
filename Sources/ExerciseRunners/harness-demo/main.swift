// A runner whose "learner code" misbehaves on purpose, so the tests can prove the grading harness
// contains it: a crash is reported with the runtime's message, an endless loop is stopped at the
// time limit, a stub reads as not attempted, a right answer passes.
import ExerciseChecks
import Foundation

struct DemoAPI {
    var index: (Int) throws -> Int
}

let checks: [Check<DemoAPI>] = [
    Check("passes", file: "demo", hint: "nothing") { api in
        guard try api.index(0) == 10 else { throw WrongAnswer("index(0)", expected: "10", actual: "\(try api.index(0))", hint: "") }
    },
    Check("crashes", file: "demo", hint: "look at the array's count") { api in _ = try api.index(7) },
    Check("loops", file: "demo", hint: "does the loop end?") { api in _ = try api.index(-1) },
    Check("stub", file: "demo", hint: "write it") { _ in throw NotAttempted("stub", file: "/x/exercises/ChapterXX/Demo.swift") },
]

let values = [10, 20, 30]
runChecksCommandLine(checks, DemoAPI(index: { i in
    if i < 0 {
        var n = 0
        while n >= 0 { n = (n &+ 1) & 0xffff }  // never ends
        return n
    }
    return values[i]  // index 7: out of range, a trap
}))
