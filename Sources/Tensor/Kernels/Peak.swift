// The machine's ceiling: how many floating-point operations per second the CPU does when it does
// nothing but fused multiply-adds on registers (no memory, no dependencies that stall). Every
// GFLOP/s figure of a kernel reads best as a share of this peak for the same vector width.

import Dispatch

public enum FMAPeak {
    /// GFLOP/s of `threads` threads each running independent fused multiply-adds on `path`'s
    /// vectors for about `seconds` (best of three rounds). One FMA counts two operations.
    public static func measure(_ path: GemmPath, threads: Int = 1, seconds: Double = 0.1) -> Double {
        precondition(GemmPath.available.contains(path), "FMAPeak: \(path.name) is not compiled into this build")
        #if AVX512
        if path == .vector16 { return measure(SIMD16<Float>.self, threads: threads, seconds: seconds) }
        #endif
        return measure(SIMD8<Float>.self, threads: threads, seconds: seconds)
    }

    private static func measure<V: SIMD>(_: V.Type, threads: Int, seconds: Double) -> Double where V.Scalar == Float {
        // Calibrate the loop count on one thread, then time all threads together.
        var iterations = 1 << 16
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            sink(chains(V.self, iterations))
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed > seconds / 4 { iterations = Int(Double(iterations) * seconds / elapsed); break }
            iterations *= 4
        }
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.withThreads(threads) { Parallel.forEach(threads) { _ in sink(chains(V.self, iterations)) } }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(threads * iterations * 12 * V.scalarCount * 2) / elapsed / 1e9)
        }
        return best
    }

    /// 12 independent chains of x = x·y + x (as many as the matrix multiply's tile keeps), enough to
    /// cover the FMA latency (4 cycles) on two units.
    @inline(never)
    private static func chains<V: SIMD>(_: V.Type, _ n: Int) -> V where V.Scalar == Float {
        let y = V(repeating: 0.999_999)
        var a0 = V(repeating: 0.5), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5
        var a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11
        for _ in 0..<n {
            a0 = a0.addingProduct(a0, y); a1 = a1.addingProduct(a1, y); a2 = a2.addingProduct(a2, y)
            a3 = a3.addingProduct(a3, y); a4 = a4.addingProduct(a4, y); a5 = a5.addingProduct(a5, y)
            a6 = a6.addingProduct(a6, y); a7 = a7.addingProduct(a7, y); a8 = a8.addingProduct(a8, y)
            a9 = a9.addingProduct(a9, y); a10 = a10.addingProduct(a10, y); a11 = a11.addingProduct(a11, y)
        }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))
    }

    /// Keeps the optimiser from deleting the loop whose result nobody reads.
    @inline(never)
    private static func sink<V: SIMD>(_ v: V) where V.Scalar == Float {
        if v[0] == -1 { print("") }
    }
}
