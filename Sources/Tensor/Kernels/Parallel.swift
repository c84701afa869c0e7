// Parallel loops for the kernels.
//
// The kernels split their work into a fixed number of chunks that depends on the
// problem shape only, never on the thread count, and each chunk writes its own part
// of the output. So a result is bit-identical whether it was computed by 1, 2 or 64
// threads; `threadCount` only changes how fast it arrives.
import Dispatch
import Foundation

public enum Parallel {
    nonisolated(unsafe) private static var storedThreadCount = ProcessInfo.processInfo.activeProcessorCount

    /// Number of worker threads used by kernels (default: active processor count).
    /// Settable, e.g. by benchmarks to measure one thread. Values below 1 mean 1.
    public static var threadCount: Int {
        get { storedThreadCount }
        set { storedThreadCount = max(1, newValue) }
    }

    /// Runs `body(i)` for every `i` in `0..<iterations`, spread over `threadCount`
    /// threads; inline (in index order) when `threadCount == 1` or `iterations == 1`.
    ///
    /// Iterations are handed out one at a time from a shared counter, so uneven
    /// iterations balance. `body` must only write memory no other iteration writes.
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        let workers = min(threadCount, iterations)
        if workers <= 1 {
            for i in 0..<iterations { body(i) }
            return
        }
        // A locked counter rather than `Synchronization.Atomic`, which needs macOS 15.
        let lock = NSLock()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                lock.lock()
                let i = next
                next += 1
                lock.unlock()
                if i >= iterations { break }
                body(i)
            }
        }
    }
}
