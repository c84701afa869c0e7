// Matrix-multiply benchmark: GFLOP/s of `gemm` / `gemmBatched` on square sizes and on
// the course's real shapes, with 1 thread and with all threads.
//
// Prints CSV lines `name,size,threads,value,unit`; size is `MxNxK` (or `B@MxNxK` for a
// batch). `scripts/numpy_matmul.py` prints the same lines for NumPy/OpenBLAS
// (names prefixed `numpy_`), so the two can be compared shape by shape.
import Foundation
import Tensor

/// One benchmarked product: C[m,n] = op(A)·op(B), `batch` times.
private struct MatmulBenchShape {
    let name: String
    let batch: Int, m: Int, n: Int, k: Int
    let transA: Bool, transB: Bool
}

/// The shapes; keep in step with `scripts/numpy_matmul.py`.
private func matmulBenchShapes(quick: Bool) -> [MatmulBenchShape] {
    var shapes = (quick ? [64, 256] : [64, 128, 256, 512, 1024]).map {
        MatmulBenchShape(name: "square", batch: 1, m: $0, n: $0, k: $0, transA: false, transB: false)
    }
    // Convolution as im2col GEMM: M = cout, N = batch*H*W, K = cin*9.
    let convs = quick ? [(64, 4096, 288)] :
        [(32, 16384, 27), (32, 16384, 288), (64, 4096, 288), (64, 4096, 576),
         (64, 1024, 576), (64, 4096, 1152), (32, 16384, 864), (3, 16384, 288)]
    for (m, n, k) in convs {
        // forward  Y = W[cout, cin*9] · cols[cin*9, BHW]
        shapes.append(.init(name: "conv_fwd", batch: 1, m: m, n: n, k: k, transA: false, transB: false))
        // weights  dW = dY[cout, BHW] · colsᵀ
        shapes.append(.init(name: "conv_dW", batch: 1, m: m, n: k, k: n, transA: false, transB: true))
        // input    dCols = Wᵀ · dY[cout, BHW]
        shapes.append(.init(name: "conv_dcols", batch: 1, m: k, n: n, k: m, transA: true, transB: false))
    }
    // Attention heads: scores Q·Kᵀ and the weighted sum P·V.
    shapes.append(.init(name: "attn", batch: 256, m: 16, n: 16, k: 64, transA: false, transB: true))
    shapes.append(.init(name: "attn", batch: 256, m: 64, n: 64, k: 16, transA: false, transB: true))
    if !quick {
        shapes.append(.init(name: "attn", batch: 256, m: 64, n: 16, k: 64, transA: false, transB: false))
    }
    return shapes
}

/// Seconds per call of `body`: the best of `rounds` timed rounds, each of enough calls to do about
/// `targetFlops` of work (one call and one round when `quick`), after one warm-up call.
func benchSeconds(quick: Bool, targetFlops: Double, rounds: Int, flops: Double, _ body: () -> Void) -> Double {
    body()  // warm up caches, the allocator and the kernels' scratch buffers
    let reps = quick ? 1 : max(1, Int(targetFlops / flops))
    var best = Double.infinity
    for _ in 0..<(quick ? 1 : rounds) {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { body() }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(reps))
    }
    return best
}

/// Benchmarks `gemm` and `gemmBatched`; one CSV line per shape and thread count.
public func runMatmulBench(quick: Bool) {
    let runThreads = Parallel.threadCount  // bench's --threads (scoped by main.swift)
    let threadCounts = runThreads > 1 ? [1, runThreads] : [1]
    var rng = RandomGenerator(seed: 0x9E37_79B9_7F4A_7C15)
    func random() -> Float { rng.uniform(in: -0.5...0.5) }
    // MATMUL_BENCH_FILTER=conv_dW (say) runs only the lines whose name or size contains it.
    let filter = ProcessInfo.processInfo.environment["MATMUL_BENCH_FILTER"] ?? ""
    for s in matmulBenchShapes(quick: quick) {
        let size = (s.batch > 1 ? "\(s.batch)@" : "") + "\(s.m)x\(s.n)x\(s.k)"
        if !filter.isEmpty && !"matmul_\(s.name),\(size)".contains(filter) { continue }
        let a = (0..<(s.batch * s.m * s.k)).map { _ in random() }
        let b = (0..<(s.batch * s.k * s.n)).map { _ in random() }
        var c = [Float](repeating: 0, count: s.batch * s.m * s.n)
        let lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n
        let flops = 2.0 * Double(s.batch * s.m * s.n * s.k)
        for path in GemmPath.available { for threads in threadCounts {
            let seconds = GemmPath.with(path) { Parallel.withThreads(threads) { a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        benchSeconds(quick: quick, targetFlops: 2e8, rounds: 5, flops: flops) {
                            if s.batch == 1 {
                                gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                     a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                     c: pc.baseAddress!, ldc: s.n, accumulate: false)
                            } else {
                                gemmBatched(batch: s.batch, transA: s.transA, transB: s.transB,
                                            m: s.m, n: s.n, k: s.k,
                                            a: pa.baseAddress!, lda: lda, strideA: s.m * s.k,
                                            b: pb.baseAddress!, ldb: ldb, strideB: s.k * s.n,
                                            c: pc.baseAddress!, ldc: s.n, strideC: s.m * s.n,
                                            accumulate: false)
                            }
                        }
                    }
                }
            } } }
            // The widest path keeps the plain name (comparable with numpy_ lines); narrower ones say their width.
            let name = "matmul_\(s.name)" + (path == GemmPath.widest ? "" : "_\(path.bits)bit")
            print("\(name),\(size),\(threads),\(String(format: "%.1f", flops / seconds / 1e9)),GFLOP/s")
        } }
    }
}
