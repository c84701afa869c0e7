// The profiler's promises: each op's time lands under its own name, forward and backward; a
// scope files its ops (and their backward) under the scope; a section's inner ops are not counted
// twice; the parts add up to no more than the wall time; products are counted wherever they run.

import Tensor
import Testing

@Suite("Profiler")
struct ProfilerTests {
    @Test("ops are filed by name and phase, scopes and sections by their names, and nothing twice")
    func filesOpsScopesAndSections() {
        var rng = RandomGenerator(seed: 5)
        let a = Tensor.randn([96, 128], using: &rng, requiresGrad: true)
        let b = Tensor.randn([128, 64], using: &rng, requiresGrad: true)
        let table = Profiler.profile {
            let h = a.matmul(b)                                               // matmul, forward
            let p = Profiler.scope("attention") { h.softmax(axis: -1) }        // max, sub, exp, sum, div: all "attention"
            let loss = Profiler.scope("loss") { (p * p).sum() }
            loss.backward()
            Profiler.section("optimizer") { _ = a.detached() * 0.5 + b.sum() }  // ops inside: the section's, not theirs
        }
        func seconds(_ kind: String, _ op: String, _ phase: Profiler.Phase) -> Double? {
            table.seconds[Profiler.Key(kind: kind, op: op, phase: phase)]
        }
        #expect(table.calls[Profiler.Key(kind: "matmul", op: "matmul", phase: .forward)] == 1)
        #expect(table.calls[Profiler.Key(kind: "matmul", op: "matmul", phase: .backward)] == 1)
        #expect(seconds("attention", "exp", .forward) != nil && seconds("attention", "exp", .backward) != nil,
                "the softmax's ops, forward and backward, belong to the scope")
        #expect(seconds("exp", "exp", .forward) == nil && seconds("exp", "exp", .backward) == nil)
        #expect(seconds("optimizer", "optimizer", .other) != nil)
        #expect(!table.seconds.keys.contains { $0.phase == .forward && ($0.op == "detached" || $0.kind == "add") },
                "the section's own ops must not be counted again as forward ops: \(table.seconds.keys)")
        #expect((table.kernelSeconds["products (gemm)"] ?? 0) > 0, "forward and backward matmuls ran gemm")
        let accounted = table.seconds.values.reduce(0, +)
        #expect(accounted <= table.wallSeconds * 1.001 && accounted >= table.wallSeconds * 0.5,
                "parts \(accounted) s against wall \(table.wallSeconds) s")
        #expect(!Profiler.isOn)
    }

    @Test("off outside profile, and other threads' ops are not taken into a profile")
    func offAndThreadScoped() {
        #expect(!Profiler.isOn)
        let seenElsewhere = Flag()
        let table = Profiler.profile {
            let other = Thread { seenElsewhere.value = Profiler.isOn }   // a plain thread, not the profiling one
            other.start()
            while !other.isFinished { usleep(1000) }
            _ = Tensor.ones([4]) + Tensor.ones([4])
        }
        #expect(seenElsewhere.value == false)
        #expect(table.calls[Profiler.Key(kind: "add", op: "add", phase: .forward)] == 1)
    }
}

import Foundation

/// A Bool another thread sets (read after that thread has finished).
private final class Flag: @unchecked Sendable { var value: Bool? = nil }
