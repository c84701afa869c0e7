// The kernels' thread count is scoped: `Parallel.withThreads(n) { … }` holds for the code inside
// the closure (and the worker threads it starts) and for nothing else, so tests that compare
// 1, 2 and 3 threads can run at the same time without computing "1 thread" with 3.

import Foundation
import Testing
@testable import Tensor

@Suite("Parallel: the thread count is scoped")
struct ParallelTests {
    @Test("outside any scope the kernels use every core; scopes nest and restore; below 1 means 1")
    func scopesNest() {
        #expect(Parallel.threadCount == Parallel.processorCount)
        Parallel.withThreads(3) {
            #expect(Parallel.threadCount == 3)
            #expect(Parallel.workers(for: 100) == 3 && Parallel.workers(for: 2) == 2)
            Parallel.withThreads(1) { #expect(Parallel.threadCount == 1) }
            #expect(Parallel.threadCount == 3)
        }
        #expect(Parallel.withThreads(0) { Parallel.threadCount } == 1)
        #expect(Parallel.threadCount == Parallel.processorCount)
    }

    /// What one thread saw while running `Parallel.forEach` inside its scope.
    final class Observations: @unchecked Sendable {
        let lock = NSLock()
        var countsSeen: [Int] = []                // Parallel.threadCount read inside each iteration
        var threadsUsed = Set<ObjectIdentifier>() // the threads the iterations ran on
        var caller: ObjectIdentifier?
        var workers = 0
        func record() {
            lock.lock()
            countsSeen.append(Parallel.threadCount)
            threadsUsed.insert(ObjectIdentifier(Thread.current))
            lock.unlock()
        }
    }

    @Test("withThreads(1) runs on the calling thread alone while another thread is inside withThreads(3), whose workers see 3")
    func scopesAreIndependent() {
        let one = Observations(), three = Observations()
        let oneEntered = DispatchSemaphore(value: 0), threeEntered = DispatchSemaphore(value: 0)
        let oneFinished = DispatchSemaphore(value: 0), bothFinished = DispatchGroup()
        let timeouts = Observations()  // counts a handshake that timed out (the scopes might then not have overlapped)
        @Sendable func wait(_ semaphore: DispatchSemaphore) {
            if semaphore.wait(timeout: .now() + 30) == .timedOut { timeouts.lock.lock(); timeouts.workers += 1; timeouts.lock.unlock() }
        }
        // Two OS threads, so both scopes are open at the same time however busy the task pool is.
        bothFinished.enter()
        Thread {
            Parallel.withThreads(1) {
                oneEntered.signal()
                wait(threeEntered)  // the other thread is inside withThreads(3) now
                one.caller = ObjectIdentifier(Thread.current)
                one.workers = Parallel.workers(for: 64)
                Parallel.forEach(64) { _ in one.record(); usleep(200) }
                oneFinished.signal()
            }
            bothFinished.leave()
        }.start()
        bothFinished.enter()
        Thread {
            Parallel.withThreads(3) {
                threeEntered.signal()
                wait(oneEntered)
                three.workers = Parallel.workers(for: 64)
                Parallel.forEach(64) { _ in three.record(); usleep(200) }
                wait(oneFinished)  // stay inside the scope until the 1-thread loop is done
            }
            bothFinished.leave()
        }.start()
        #expect(bothFinished.wait(timeout: .now() + 60) == .success)
        #expect(timeouts.workers == 0, "a handshake timed out")

        #expect(one.workers == 1)
        #expect(one.countsSeen == Array(repeating: 1, count: 64))
        #expect(one.threadsUsed == [one.caller!], "the 1-thread loop ran on \(one.threadsUsed.count) threads")
        #expect(three.workers == 3)
        // Worker threads are not tasks: they see 3 only because forEach passes the scope on.
        #expect(three.countsSeen == Array(repeating: 3, count: 64))
    }

    @Test("loops that end before a sleeping worker wakes: every iteration runs once, in its own loop, none left to a late worker")
    func loopsEndingBeforeWorkersWake() {
        // Each round's loop writes its round number into its own slots; a worker that woke late and
        // ran an earlier loop's body, or ran an iteration twice, leaves a wrong count or number.
        let rounds = 2_000, iterations = 3
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: rounds * iterations)
        let marks = UnsafeMutableBufferPointer<Int>.allocate(capacity: rounds * iterations)
        counts.initialize(repeating: 0); marks.initialize(repeating: -1)
        defer { counts.deallocate(); marks.deallocate() }
        Parallel.withThreads(2) {
            for round in 0..<rounds {
                // Every 8th round, long enough a pause that the pool's worker stops spinning (after
                // about 0.1 ms) and sleeps.
                if round % 8 == 0 { usleep(1_000) }
                Parallel.forEach(iterations) { i in
                    counts[round * iterations + i] += 1
                    marks[round * iterations + i] = round
                }
            }
        }
        #expect(Array(counts) == Array(repeating: 1, count: rounds * iterations))
        #expect(Array(marks) == (0..<rounds * iterations).map { $0 / iterations })
    }
}
