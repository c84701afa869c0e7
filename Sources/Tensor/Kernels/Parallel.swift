// Parallel loops for the kernels.
//
// The kernels split their work into a fixed number of chunks that depends on the
// problem shape only, never on the thread count, and each chunk writes its own part
// of the output. So a result is bit-identical whether it was computed by 1, 2 or 64
// threads; the thread count only changes how fast it arrives.
import Dispatch
import Foundation

/// How many threads the kernels use, and the loop that spreads their chunks over them.
///
/// The thread count is *scoped*, not global: `Parallel.withThreads(1) { … }` makes every kernel
/// called inside the closure (by this task, the tasks it starts and the worker threads of its
/// parallel loops) use one thread, while another task or thread keeps its own count. Outside
/// any `withThreads`, kernels use `processorCount`. Tests that compare 1, 2 and 3 threads can
/// therefore run side by side without changing each other's setting.
public enum Parallel {
    /// The machine's active processor count: the thread count outside any `withThreads`.
    public static let processorCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The count set by the innermost enclosing `withThreads`, nil outside one. A task-local value:
    /// seen by this task and its child tasks; on a plain thread, by that thread only.
    @TaskLocal private static var scopedThreadCount: Int? = nil

    /// Number of worker threads the kernels use here: the innermost `withThreads(n)`'s n,
    /// else `processorCount`.
    public static var threadCount: Int { scopedThreadCount ?? processorCount }

    /// Runs `body` with the kernels using `threads` worker threads (values below 1 mean 1).
    /// ```
    /// let y = Parallel.withThreads(1) { a.matmul(b) }   // one thread, whatever else is running
    /// ```
    public static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        try $scopedThreadCount.withValue(max(1, threads), operation: body)
    }

    /// How many workers `forEach(iterations)` starts here: min(threadCount, iterations).
    static func workers(for iterations: Int) -> Int { min(threadCount, iterations) }

    /// Runs `body(i)` for every `i` in `0..<iterations`, spread over `threadCount`
    /// threads; inline (in index order) when `threadCount == 1` or `iterations == 1`.
    ///
    /// Iterations are handed out one at a time from a shared counter, so uneven
    /// iterations balance. `body` must only write memory no other iteration writes.
    /// The workers run with the caller's thread count, so a kernel nested in `body` uses it too.
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        let threads = threadCount
        let workers = min(threads, iterations)
        if workers <= 1 {
            for i in 0..<iterations { body(i) }
            return
        }
        // A locked counter rather than `Synchronization.Atomic`, which needs macOS 15.
        let lock = NSLock()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            // Dispatch's worker threads are not tasks and do not inherit task-local values: pass the scope on.
            $scopedThreadCount.withValue(threads) {
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
}
