// The fast `gemm` / `gemmBatched` against the three-loop oracle `gemmNaive`.
//
// Tolerance: the two sum the k products in different orders (the fast one in blocks of
// 256, in registers), so an element may differ by rounding. Each float operation errs
// by at most eps = 2^-24 relative, so |fast - naive| <= 2 k eps Σ_p |a_ip||b_pj| bounds
// it; we allow 4 k eps Σ|a||b|.
import Testing
@testable import Tensor

/// Seeded inputs in [-1, 1) from the package's generator, so every run tests the same numbers.
extension RandomGenerator {
    fileprivate mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in uniform(in: -1...1) } }
}

/// One product's storage: A, B and C with their leading dimensions (padding allowed).
private struct GemmCase {
    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int
    let lda: Int, ldb: Int, ldc: Int
    var a: [Float], b: [Float], c: [Float]

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, pad: Int = 0, seed: UInt64) {
        self.transA = transA; self.transB = transB; self.m = m; self.n = n; self.k = k
        lda = (transA ? m : k) + pad
        ldb = (transB ? k : n) + pad
        ldc = n + pad
        var rng = RandomGenerator(seed: seed)
        a = rng.array((transA ? k : m) * lda)
        b = rng.array((transB ? n : k) * ldb)
        c = rng.array(m * ldc)  // nonzero: accumulate must add to it, overwrite must ignore it
    }

    func aAt(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
    func bAt(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }

    /// Runs `kernel` (gemm or gemmNaive) on a copy of C and returns it.
    func run(accumulate: Bool, _ kernel: GemmFunction) -> [Float] {
        var out = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    kernel(transA, transB, m, n, k, pa.baseAddress!, lda, pb.baseAddress!, ldb,
                           pc.baseAddress!, ldc, accumulate)
                }
            }
        }
        return out
    }

    /// Fast (on every path this build can run) vs naive, element by element within 4 k eps Σ|a||b|;
    /// padding of C untouched.
    func check(accumulate: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        for path in GemmPath.available {
            GemmPath.with(path) { check(accumulate: accumulate, path: path, sourceLocation: sourceLocation) }
        }
    }

    private func check(accumulate: Bool, path: GemmPath, sourceLocation: SourceLocation) {
        let fast = run(accumulate: accumulate, gemmFast)
        let naive = run(accumulate: accumulate, gemmOracle)
        var worst: (excess: Float, i: Int, j: Int) = (0, -1, -1)
        for i in 0..<m {
            for j in 0..<n {
                var scale: Float = accumulate ? abs(c[i * ldc + j]) : 0
                for p in 0..<k { scale += abs(aAt(i, p) * bAt(p, j)) }
                let tolerance = 4 * Float(k + 1) * Float.ulpOfOne / 2 * scale
                let excess = abs(fast[i * ldc + j] - naive[i * ldc + j]) - tolerance
                if excess > worst.excess { worst = (excess, i, j) }
            }
            for j in n..<ldc where fast[i * ldc + j] != c[i * ldc + j] {
                Issue.record("C padding written at [\(i), \(j)]", sourceLocation: sourceLocation)
            }
        }
        #expect(worst.i == -1,
                "\(path.name): transA=\(transA) transB=\(transB) m=\(m) n=\(n) k=\(k) accumulate=\(accumulate): [\(worst.i), \(worst.j)] off by \(worst.excess) beyond tolerance",
                sourceLocation: sourceLocation)
    }
}

private typealias GemmFunction = (Bool, Bool, Int, Int, Int, UnsafePointer<Float>, Int,
                                  UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int, Bool) -> Void
private let gemmFast: GemmFunction = {
    gemm(transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10, accumulate: $11)
}
private let gemmOracle: GemmFunction = {
    gemmNaive(transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10, accumulate: $11)
}

private let transposes = [(false, false), (false, true), (true, false), (true, true)]

@Suite("Matmul kernel")
struct MatmulKernelTests {
    /// Every tile edge: sizes below, at and just past the 6x16 tile and 256 k block.
    @Test(arguments: [1, 3, 17, 65, 129])
    func awkwardSizesAllTransposes(m: Int) {
        for (transA, transB) in transposes {
            for n in [1, 3, 17, 65, 129] {
                for k in [1, 3, 17, 65, 129] {
                    let t = GemmCase(transA: transA, transB: transB, m: m, n: n, k: k,
                                     seed: UInt64(m * 1_000_000 + n * 1000 + k))
                    t.check(accumulate: false)
                    t.check(accumulate: true)
                }
            }
        }
    }

    /// Leading dimensions larger than the rows (a view into a wider matrix).
    @Test func paddedLeadingDimensions() {
        for (transA, transB) in transposes {
            for (m, n, k) in [(7, 19, 5), (17, 33, 300), (64, 48, 16)] {
                let t = GemmCase(transA: transA, transB: transB, m: m, n: n, k: k, pad: 3, seed: 42)
                t.check(accumulate: false)
                t.check(accumulate: true)
            }
        }
    }

    /// Big enough for several k blocks (KC = 256) and several parallel tasks.
    @Test func largeProductsSeveralBlocksAndTasks() {
        for (transA, transB) in transposes {
            let t = GemmCase(transA: transA, transB: transB, m: 70, n: 300, k: 600, pad: 1, seed: 7)
            t.check(accumulate: true)
        }
        GemmCase(transA: false, transB: false, m: 200, n: 40, k: 300, seed: 8).check(accumulate: false)
        // A convolution's weight gradient: two column slivers of a transposed B, a long k, split
        // into strips of one sliver each.
        GemmCase(transA: false, transB: true, m: 32, n: 27, k: 9000, seed: 9).check(accumulate: true)
    }

    @Test func emptyAndZeroK() {
        var t = GemmCase(transA: false, transB: false, m: 4, n: 5, k: 0, seed: 3)
        t.a = [0]; t.b = [0]
        #expect(t.run(accumulate: false, gemmFast) == [Float](repeating: 0, count: 20))
        #expect(t.run(accumulate: true, gemmFast) == t.c)
        let empty = GemmCase(transA: false, transB: false, m: 0, n: 5, k: 3, seed: 3)
        #expect(empty.run(accumulate: false, gemmFast) == [])
    }

    /// The result must not depend on how many threads computed it, on any path.
    @Test(arguments: GemmPath.available)
    func bitIdenticalForAnyThreadCount(path: GemmPath) {
        GemmPath.with(path) { bitIdenticalForAnyThreadCount() }
    }

    private func bitIdenticalForAnyThreadCount() {
        // The count is scoped to this test (`withThreads`), so suites running at the same time cannot change it.
        for (transA, transB) in transposes {
            for (m, n, k) in [(130, 300, 600), (37, 1000, 70), (3, 2000, 300), (32, 27, 9000)] {
                let t = GemmCase(transA: transA, transB: transB, m: m, n: n, k: k, seed: 11)
                var results: [[Float]] = []
                for threads in [1, 2, 3] {
                    results.append(Parallel.withThreads(threads) { t.run(accumulate: true, gemmFast) })
                }
                #expect(results[0] == results[1] && results[0] == results[2], "m=\(m) n=\(n) k=\(k)")
            }
        }
        var batchResults: [[Float]] = []
        for threads in [1, 2, 3] {
            batchResults.append(Parallel.withThreads(threads) {
                runBatched(batch: 40, transA: false, transB: true, m: 16, n: 16, k: 64, shareB: false, by: .batched)
            })
        }
        #expect(batchResults[0] == batchResults[1] && batchResults[0] == batchResults[2])
    }

    /// Every path does the same fused multiply-adds in the same order for each element of C, so
    /// the paths agree to the bit (a checkpoint trained on one machine samples the same on another).
    @Test func pathsGiveTheSameBits() {
        for (transA, transB) in transposes {
            for (m, n, k) in [(65, 129, 300), (7, 40, 17), (130, 1000, 70)] {
                let t = GemmCase(transA: transA, transB: transB, m: m, n: n, k: k, pad: 1, seed: 13)
                let results = GemmPath.available.map { path in GemmPath.with(path) { t.run(accumulate: true, gemmFast) } }
                #expect(results.allSatisfy { $0 == results[0] }, "m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    /// Batched vs a loop of gemmNaive, including a shared B (strideB = 0), for small
    /// products (parallel over the batch) and large ones (parallel inside each product), on every path.
    @Test(arguments: GemmPath.available)
    func batchedMatchesLoopOfNaive(path: GemmPath) {
        GemmPath.with(path) { batchedMatchesLoopOfNaive() }
    }

    private func batchedMatchesLoopOfNaive() {
        for (transA, transB) in transposes {
            for (batch, m, n, k) in [(5, 17, 9, 33), (3, 64, 64, 16), (2, 100, 200, 300)] {
                for shareB in [false, true] {
                    let fast = runBatched(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k,
                                          shareB: shareB, by: .batched)
                    let naive = runBatched(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k,
                                           shareB: shareB, by: .naiveLoop)
                    // Inputs in [-1, 1): Σ|a||b| <= k, plus |C| < 1 for the accumulated C.
                    let tolerance = 4 * Float(k + 1) * Float.ulpOfOne / 2 * Float(k + 1)
                    let worst = zip(fast, naive).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst <= tolerance, "batch=\(batch) m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) shareB=\(shareB)")
                }
            }
        }
    }

    /// Small batched products read a stored A in place (from k = 32 on), where `gemm` packs it first, and
    /// on the 512-bit path run 16-column products in 16-row tiles (the rows below the last whole tile in
    /// the 6-row ones): the same sums, so the same bits as a loop of `gemm`, edges and all.
    @Test(arguments: GemmPath.available)
    func batchedReadingAInPlaceHasGemmsBits(path: GemmPath) {
        GemmPath.with(path) {
            for transB in [false, true] {
                for (batch, m, n, k) in [(5, 17, 9, 33), (4, 64, 16, 64), (3, 13, 40, 256), (2, 6, 16, 32),
                                         (3, 16, 16, 64), (2, 37, 16, 48), (2, 40, 16, 16), (2, 21, 16, 256)] {
                    let batched = runBatched(batch: batch, transA: false, transB: transB, m: m, n: n, k: k,
                                             shareB: false, by: .batched)
                    let looped = runBatched(batch: batch, transA: false, transB: transB, m: m, n: n, k: k,
                                            shareB: false, by: .gemmLoop)
                    #expect(batched == looped, "batch=\(batch) m=\(m) n=\(n) k=\(k) transB=\(transB)")
                }
            }
        }
    }

    private enum BatchRunner { case batched, naiveLoop, gemmLoop }

    /// C_i for i in 0..<batch, padded strides, by gemmBatched or by a loop of gemmNaive or of gemm.
    private func runBatched(batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            shareB: Bool, by runner: BatchRunner) -> [Float] {
        let lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 1
        let strideA = (transA ? k : m) * lda + 5
        let strideB = shareB ? 0 : (transB ? n : k) * ldb + 3
        let strideC = m * ldc + 2
        var rng = RandomGenerator(seed: UInt64(batch * 7919 + m * 31 + n * 17 + k))
        let a = rng.array(batch * strideA)
        let b = rng.array(max(1, batch * strideB + (transB ? n : k) * ldb))
        var c = rng.array(batch * strideC)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let pa = pa.baseAddress!, pb = pb.baseAddress!, pc = pc.baseAddress!
                    if runner == .batched {
                        gemmBatched(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k,
                                    a: pa, lda: lda, strideA: strideA, b: pb, ldb: ldb, strideB: strideB,
                                    c: pc, ldc: ldc, strideC: strideC, accumulate: true)
                    } else {
                        let each = runner == .gemmLoop ? gemmFast : gemmOracle
                        for i in 0..<batch {
                            each(transA, transB, m, n, k, pa + i * strideA, lda, pb + i * strideB, ldb,
                                 pc + i * strideC, ldc, true)
                        }
                    }
                }
            }
        }
        return c
    }
}
