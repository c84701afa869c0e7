// Parallel loops for the kernels.
//
// The kernels split their work into a fixed number of chunks that depends on the
// problem shape only, never on the thread count, and each chunk writes its own part
// of the output. So a result is bit-identical whether it was computed by 1, 2 or 64
// threads; the thread count only changes how fast it arrives.
import Dispatch
import Foundation
import Synchronization

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

    /// Runs `body` with the thread count `threads` in scope: a pool worker runs its share of a
    /// loop this way, so a kernel nested in the loop sees the caller's count.
    static func withScopedThreads(_ threads: Int, _ body: () -> Void) {
        $scopedThreadCount.withValue(threads, operation: body)
    }

    /// How many workers `forEach(iterations)` starts here: min(threadCount, iterations).
    static func workers(for iterations: Int) -> Int { min(threadCount, iterations) }

    /// Runs `body(i)` for every `i` in `0..<iterations`, spread over `threadCount`
    /// threads; inline (in index order) when `threadCount == 1` or `iterations == 1`.
    ///
    /// Iterations are handed out one at a time from a shared counter, so uneven
    /// iterations balance. `body` must only write memory no other iteration writes.
    /// The workers run with the caller's thread count, so a kernel nested in `body` uses it too.
    ///
    /// The work goes to the persistent `WorkerPool` (threads that wait for work instead of being
    /// woken by Dispatch for every call); when the pool is busy (another thread's loop, or a loop
    /// nested in one) or too small for `threadCount`, to Dispatch. Which ran changes nothing but speed.
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        let threads = threadCount
        let workers = min(threads, iterations)
        if workers <= 1 {
            for i in 0..<iterations { body(i) }
            return
        }
        let ran = withoutActuallyEscaping(body) { body in
            WorkerPool.shared.run(iterations, workers: workers, threads: threads, body)
        }
        if ran { return }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            // Dispatch's worker threads are not tasks and do not inherit task-local values: pass the scope on.
            $scopedThreadCount.withValue(threads) {
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if i >= iterations { break }
                    body(i)
                }
            }
        }
    }
}

/// Threads that stay alive between parallel loops. A loop publishes its job, the workers (which
/// spin for about a tenth of a millisecond after each job, then sleep) pick it up, and the caller
/// works on it too; iterations come from one shared counter. Spinning is what saves the time: a
/// sleeping thread takes some microseconds to wake, and a training step runs thousands of loops.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: Parallel.processorCount - 1)

    /// One loop: its body, how many iterations, and the caller's thread count.
    private struct Job {
        let body: (Int) -> Void
        let iterations: Int
        let threads: Int
    }

    private let size: Int
    private let busy = Mutex<Bool>(false)          // one loop at a time
    /// The current job's number: a worker that sees it change tries to join.
    private let announcement = Atomic<Int>(0)
    /// Places on the current job that no worker has taken yet. A worker takes one before it reads
    /// `job` (the caller then waits for it, so `job` cannot change under it); the caller takes back
    /// the places still open once it has run out of iterations, so it never waits for a worker that
    /// was asleep and wakes only after the work is done.
    private let openPlaces = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)          // workers that took a place and are done
    private let next = Atomic<Int>(0)              // the next iteration to hand out
    private let sleeping = Atomic<Int>(0)
    private let condition = NSCondition()
    nonisolated(unsafe) private var job: Job?

    /// Spins before a worker sleeps: about 0.1 ms (measured on a Zen 4: 200,000 spins 95 µs, 20,000
    /// spins 9 µs). Long enough to outlast most serial stretches of a training step between its
    /// parallel loops (the autodiff bookkeeping, the small ops), so that the next loop finds the
    /// worker awake instead of waking it: a system call on the caller's side, then some microseconds
    /// before the worker runs. At 20,000 spins a bench run (3 models, 2 threads) woke its worker
    /// about 32,000 times, at 200,000 about 4,300, and the unet16 and mlp steps took 8–11 % less time
    /// (median of 8 alternated runs; unet32's step, 10 times longer, changed by 1 %).
    private let spinLimit = 200_000

    private init(workers: Int) {
        size = max(0, workers)
        for index in 0..<size {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "diffusion.worker.\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body` over `iterations` on the caller and `workers − 1` pool threads; false (nothing
    /// run) if the pool is busy or has fewer than `workers − 1` threads.
    func run(_ iterations: Int, workers: Int, threads: Int, _ body: @escaping (Int) -> Void) -> Bool {
        let helpers = workers - 1
        guard helpers <= size, busy.withLock({ taken in
            if taken { return false }
            taken = true
            return true
        }) else { return false }
        defer { busy.withLock { $0 = false } }
        job = Job(body: body, iterations: iterations, threads: threads)
        next.store(0, ordering: .relaxed)
        finished.store(0, ordering: .relaxed)
        openPlaces.store(helpers, ordering: .releasing)
        announcement.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) > 0 {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
        drain(body, iterations)
        // Out of iterations: wait only for the workers that joined. (Waiting for every place to be
        // taken cost a sleeping worker's wake-up on each loop that ran faster than it: chapter 2's
        // small MLP trained at 0.6–0.8 times its speed with Dispatch.)
        let joined = helpers - openPlaces.exchange(0, ordering: .acquiringAndReleasing)
        while finished.load(ordering: .acquiring) < joined {}
        job = nil
        return true
    }

    private func drain(_ body: (Int) -> Void, _ iterations: Int) {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= iterations { return }
            body(i)
        }
    }

    private func work() {
        var seen = 0  // the last job number this worker looked at
        while true {
            var spins = 0
            var current = announcement.load(ordering: .acquiring)
            while current == seen {
                if spins < spinLimit {
                    spins += 1
                } else {
                    condition.lock()
                    sleeping.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    while announcement.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                    sleeping.wrappingSubtract(1, ordering: .relaxed)
                    condition.unlock()
                }
                current = announcement.load(ordering: .acquiring)
            }
            seen = current
            guard takePlace() else { continue }  // the job is full, or its caller has finished it
            do {
                // The job's closure must be released before the caller is told we are done: the
                // caller's `withoutActuallyEscaping` checks that nothing holds on to it.
                let job = self.job!
                Parallel.withScopedThreads(job.threads) { drain(job.body, job.iterations) }
            }
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }

    /// Takes one of the current job's open places, if any is left. (The job may be newer than the
    /// announcement this worker saw: it then works on that one, whose caller counts it.)
    private func takePlace() -> Bool {
        var places = openPlaces.load(ordering: .relaxed)
        while places > 0 {
            let (taken, seen) = openPlaces.compareExchange(expected: places, desired: places - 1, ordering: .acquiring)
            if taken { return true }
            places = seen
        }
        return false
    }
}
