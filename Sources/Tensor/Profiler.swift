// Where a training step's time goes: every primitive op, forward and backward, timed and summed by
// kind, like PyTorch's profiler table. Off unless `Profiler.profile { … }` runs (then each op pays
// one clock read); `bench --profile` prints the table for the bench models.
//
// Forward: ops run one after another on the calling thread, and each ends in `Tensor.record`, so
// an op's time is the time since the previous op ended. Backward: each node's backward closure is
// timed on its own, and the bookkeeping around them (ordering the graph, summing the gradients
// that meet at a tensor) separately. `scope("attention") { … }` files every op inside it, forward
// and backward, under that name instead of the op's own. The matrix multiply also counts its own
// time wherever it is called from (a convolution, attention, a Linear), as a cross-cut, and so do
// the convolution's copies (im2col, col2im, the reshuffles, the direct loops).

import Dispatch
import Foundation

public enum Profiler {
    public enum Phase: String, Sendable { case forward, backward, other }

    /// One line of the table: `kind` (a scope's name, else the op's), the op, the phase.
    public struct Key: Hashable, Sendable {
        public let kind: String, op: String, phase: Phase
        public init(kind: String, op: String, phase: Phase) { self.kind = kind; self.op = op; self.phase = phase }
    }

    /// Seconds and calls per key, and the wall time of the profiled body.
    public struct Table: Sendable {
        public var seconds: [Key: Double] = [:]
        public var calls: [Key: Int] = [:]
        /// Time inside named kernels — "products (gemm)", "im2col", "col2im"… — summed over their
        /// calls wherever they ran (already counted in the ops that called them: a cross-cut).
        public var kernelSeconds: [String: Double] = [:]
        public var wallSeconds = 0.0

        /// Seconds per kind and phase.
        public func byKind() -> [(kind: String, forward: Double, backward: Double, other: Double)] {
            var rows: [String: (Double, Double, Double)] = [:]
            for (key, s) in seconds {
                var r = rows[key.kind] ?? (0, 0, 0)
                switch key.phase { case .forward: r.0 += s; case .backward: r.1 += s; case .other: r.2 += s }
                rows[key.kind] = r
            }
            return rows.map { ($0.key, $0.value.0, $0.value.1, $0.value.2) }
                .sorted { $0.forward + $0.backward + $0.other > $1.forward + $1.backward + $1.other }
        }
    }

    nonisolated(unsafe) private static var table = Table()
    nonisolated(unsafe) private static var on = false
    /// The thread that called `profile`: only its ops are timed (other threads' ops, say those of
    /// tests running side by side, are not part of this profile and must not touch its table).
    nonisolated(unsafe) private static var owner = pthread_self()
    /// Time inside named kernels, kept apart from `table` because worker threads add to it.
    nonisolated(unsafe) private static var kernelSeconds: [String: Double] = [:]
    nonisolated(unsafe) private static var mark: UInt64 = 0
    nonisolated(unsafe) private static var scopeName: String? = nil
    nonisolated(unsafe) private static var inBackward = false
    nonisolated(unsafe) private static var inSection = false
    nonisolated(unsafe) private static var insideAlone = false
    private static let kernelLock = NSLock()

    /// Whether a profile is being taken on this thread (one clock read per op when it is).
    public static var isOn: Bool { on && pthread_equal(pthread_self(), owner) != 0 }

    /// Runs `body` with every op timed; returns the table. Not reentrant; ops must run on the
    /// calling thread (the kernels may use any number of threads inside each op).
    public static func profile(_ body: () -> Void) -> Table {
        precondition(!on, "Profiler.profile is not reentrant")
        table = Table()
        kernelSeconds = [:]
        let start = now()
        mark = start
        owner = pthread_self()
        on = true
        body()
        on = false
        var result = table
        result.wallSeconds = seconds(from: start, to: now())
        kernelLock.lock()
        result.kernelSeconds = kernelSeconds
        kernelLock.unlock()
        return result
    }

    /// Files every op run by `body` (and later their backward) under `name` (the outermost scope wins).
    public static func scope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        guard isOn, scopeName == nil else { return try body() }
        scopeName = name
        defer { scopeName = nil }
        return try body()
    }

    /// Times `body`, work that is no op (an optimizer update, preparing a batch), as `name`.
    public static func section<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        guard isOn, !inSection else { return try body() }
        let start = now()
        add(Key(kind: "untimed gaps", op: "between ops", phase: .other), from: mark, to: start)
        inSection = true
        defer {
            inSection = false
            let end = now()
            add(Key(kind: name, op: name, phase: .other), from: start, to: end)
            mark = end
        }
        return try body()
    }

    // MARK: - Hooks (Tensor.record, backward, gemm)

    /// Called as a forward op ends; returns the kind its node files its backward under.
    static func forwardOpEnded(_ op: String) -> String {
        let kind = scopeName ?? op
        guard !inBackward, !inSection else { return kind }
        let end = now()
        add(Key(kind: kind, op: op, phase: .forward), from: mark, to: end)
        mark = end
        return kind
    }

    /// Times one node's backward closure (`kind`/`op`), or the bookkeeping between them.
    static func timeBackward<R>(kind: String, op: String, _ body: () -> R) -> R {
        let start = now()
        let result = body()
        add(Key(kind: kind, op: op, phase: .backward), from: start, to: now())
        return result
    }

    /// Marks the backward pass: ops it runs (gradients summed with `+`) are not forward ops.
    static func backwardPass<R>(_ body: () -> R) -> R {
        inBackward = true
        defer { inBackward = false; mark = now() }
        return body()
    }

    /// Adds the time since `start` to the kernel `name` (any thread).
    static func kernelEnded(_ name: String, since start: UInt64) {
        let elapsed = seconds(from: start, to: now())
        kernelLock.lock()
        kernelSeconds[name, default: 0] += elapsed
        kernelLock.unlock()
    }

    /// Runs `body`, adding its time to the kernel `name` when profiling. `alone`: the kernels
    /// `body` calls are not timed apart (a loop that spreads several kernels over the threads,
    /// where the calling thread's share of each would misstate them).
    @inline(__always)
    static func kernel<R>(_ name: String, alone: Bool = false, _ body: () -> R) -> R {
        guard timesKernels else { return body() }
        let start = now()
        defer { kernelEnded(name, since: start) }
        if !alone { return body() }
        insideAlone = true
        defer { insideAlone = false }
        return body()
    }

    /// Whether kernels called here are timed: profiling, on the profiled thread, and not inside
    /// a kernel timed `alone`.
    static var timesKernels: Bool { isOn && !insideAlone }

    @inline(__always) static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private static func seconds(from a: UInt64, to b: UInt64) -> Double { Double(b &- a) / 1e9 }

    private static func add(_ key: Key, from a: UInt64, to b: UInt64) {
        table.seconds[key, default: 0] += seconds(from: a, to: b)
        table.calls[key, default: 0] += 1
    }
}
