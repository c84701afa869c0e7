// Matrix multiply: the kernel under every Linear, Conv2d (through im2col) and attention.
//
//     C[m,n] = (accumulate ? C : 0) + op(A)[m,k] · op(B)[k,n]
//
// `gemmNaive` is the definition, three loops a learner can read; `gemm` computes the
// same numbers some 50-100 times faster. It is the classic GotoBLAS/BLIS design
// (Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", 2008;
// Van Zee & van de Geijn, "BLIS", 2015), in plain Swift with SIMD vectors of V floats:
// V = 8 (256-bit registers: AVX2 + FMA, or two NEON registers on arm64), and V = 16 (512-bit,
// AVX-512) when the package was built on a CPU that has it (see `GemmPath`).
//
//  1. Pack. op(A) is copied into slivers of MR = 6 rows laid out k-major (for each k,
//     the 6 values of a column), op(B) into slivers of NR = 2V columns (for each k, NR
//     values of a row). The copy reads either storage order, so the transposed cases
//     cost nothing extra later, and the kernel always streams contiguous memory. For a
//     convolution, B's panels are packed straight from the images (`ImplicitColumns`), or
//     the product runs with its operands swapped and the images are not packed at all
//     (`IndirectConv`, the same micro-kernel idea with one operand read in place). The
//     copy asks for memory a few rows or cache lines ahead of where it reads (a prefetch
//     hint), so it streams instead of waiting on every far-apart row. The small products
//     of `gemmBatched` (attention heads) read a stored A where it is: packing it would
//     cost as much as multiplying it. Those 16 columns wide run 16 x 16 tiles on the
//     512-bit path (`SixteenRows`), one vector of B and 16 of A's values a step.
//  2. Block. k is cut into blocks of KC = 256, so one B block of a task (KC x 384
//     floats) stays in L2 and one A sliver (KC x 6) in L1 while the kernel sweeps.
//  3. Micro-kernel. A 6 x NR tile of C lives in 12 vector registers (of the 16 AVX2
//     has, or the 32 of AVX-512) for the whole k loop; each step loads NR values of B,
//     broadcasts 6 of A and issues 12 fused multiply-adds (vfmadd231ps). That ratio keeps
//     both FMA units busy. A 512-bit FMA does twice the work of a 256-bit one, and on
//     CPUs with two 512-bit FMA units that doubles the kernel's peak.
//  4. Edges. Packing pads the last slivers with zeros; a tile that sticks out of C is
//     computed into a 6 x NR scratch tile and only its valid part is copied.
//
// Determinism: every element of C is summed in the same order (k blocks of KC in
// order, k in order within a block) whatever the thread count, because threads only
// split C into rectangles of whole tiles, never k. Results are bit-identical for any
// `Parallel.threadCount`. Nor on the path: each lane of either width does the same fused
// multiply-adds in the same order, so both paths give the same bits.

import CSupport

// MARK: - The path

/// Which micro-kernel `gemm` runs: 8-float vectors (AVX2 + FMA on x86-64, NEON pairs on arm64)
/// or 16-float vectors (AVX-512). Which exist is decided when the package is built: Package.swift
/// reads the building CPU's features and, only if it has AVX-512, compiles for it and sets the
/// `AVX512` condition (a binary never contains an instruction the machine that built it lacks).
/// The widest available runs by default; `GemmPath.with(_:)` picks another for a scope (tests
/// and `bench` run every available path).
public enum GemmPath: String, CaseIterable, Sendable {
    case vector8 = "8 floats per register"
    case vector16 = "16 floats per register (AVX-512)"

    /// The paths this build can run, narrowest first.
    public static var available: [GemmPath] {
        #if AVX512
        return [.vector8, .vector16]
        #else
        return [.vector8]
        #endif
    }

    /// The widest available path: what `gemm` runs outside any `with(_:)`.
    public static var widest: GemmPath { available.last! }

    /// What the 8-float path is on this build's CPU.
    public static var vector8Name: String {
        #if arch(arm64)
        return "NEON (2 × 128-bit per 8 floats)"
        #else
        return "AVX2 + FMA (256-bit)"
        #endif
    }

    /// Vector width in bits.
    public var bits: Int { self == .vector8 ? 256 : 512 }

    /// A short name for tables: "AVX2 + FMA (256-bit)" or "AVX-512 (512-bit)".
    public var name: String { self == .vector8 ? GemmPath.vector8Name : "AVX-512 (512-bit)" }

    /// Whether a product with n columns runs 16-float tiles (32 columns wide) on this path. Below 32
    /// columns (an attention head's 16, say) half of every wide tile would be padding, so the
    /// 8-float kernel runs instead; both give the same bits.
    func usesWideTiles(n: Int) -> Bool { self == .vector16 && n >= 32 }

    @TaskLocal private static var scoped: GemmPath? = nil

    /// The path `gemm` runs here.
    public static var current: GemmPath { scoped ?? widest }

    /// Runs `body` with `gemm` on `path`, which must be available (a programming error otherwise).
    public static func with<R>(_ path: GemmPath, _ body: () throws -> R) rethrows -> R {
        precondition(available.contains(path), "GemmPath.with: \(path.name) is not compiled into this build")
        return try $scoped.withValue(path, operation: body)
    }
}

// MARK: - The oracle

/// C = (accumulate ? C : 0) + op(A)·op(B), three loops, summed in Float in k order.
/// The readable definition `gemm` is tested against. Row-major storage:
/// op(A)[i,p] is `a[i*lda + p]`, or `a[p*lda + i]` when `transA` (A stored as [k,m]);
/// op(B)[p,j] is `b[p*ldb + j]`, or `b[j*ldb + p]` when `transB` (B stored as [n,k]).
public func gemmNaive(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                let aip = transA ? a[p * lda + i] : a[i * lda + p]
                let bpj = transB ? b[j * ldb + p] : b[p * ldb + j]
                sum += aip * bpj
            }
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum
        }
    }
}

// MARK: - Public entry points

/// C[m,n] = (accumulate ? C : 0) + op(A) · op(B), row-major, leading dimensions lda/ldb/ldc.
/// op(A) is A [m,k] (lda >= k) or, when `transA`, the transpose of A stored as [k,m]
/// (lda >= m). Same for B ([k,n], or stored [n,k] when `transB`).
/// C must not overlap A or B. Parallel over `Parallel.threadCount` threads; the
/// result does not depend on the thread count.
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    gemm(GemmProblem(transA: transA, transB: transB, m: m, n: n, k: k,
                     a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate))
}

/// C = (accumulate ? C : 0) + A · op(B) where B is the im2col columns of a group of images
/// [K, G·P] (`transB` false: the forward convolution) or their transpose (`transB`: the weight
/// gradient), packed straight from the images. The same numbers, to the bit, as `gemm` on the
/// written-out columns: packing produces the same panels, and the arithmetic is unchanged.
func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
          columns: ImplicitColumns, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    precondition((transB ? n : k) == columns.rows && (transB ? k : n) == columns.width,
                 "gemm: the columns are [\(columns.rows), \(columns.width)], op(B) is [\(k), \(n)] (transB=\(transB))")
    var p = GemmProblem(transA: transA, transB: transB, m: m, n: n, k: k,
                        a: a, lda: lda, b: columns.images, ldb: transB ? k : n, c: c, ldc: ldc, accumulate: accumulate)
    p.columns = columns
    gemm(p)
}

/// Checks the problem, then multiplies on the current path, timed as "products (gemm)".
private func gemm(_ p: GemmProblem) {
    p.validate("gemm")
    if p.isTrivial { p.finishTrivial(); return }
    let started = Profiler.timesKernels ? Profiler.now() : 0
    defer { if started != 0 { Profiler.kernelEnded("products (gemm)", since: started) } }
    #if AVX512
    if GemmPath.current.usesWideTiles(n: p.n) { return gemm(p, SIMD16<Float>.self) }
    #endif
    gemm(p, SIMD8<Float>.self)
}

/// `gemm` with vectors of type V (the micro-kernel's width).
private func gemm<V: SIMD>(_ p: GemmProblem, _: V.Type) where V.Scalar == Float {
    let plan = GemmPlan(p, nr: 2 * V.scalarCount)
    if plan.tasks == 1 || Parallel.threadCount == 1 {
        let workspace = Workspace(plan)
        plan.packA(p, into: workspace.packedA, sliverRange: 0..<plan.rowSlivers)
        for t in 0..<plan.tasks { plan.run(task: t, p, packedA: workspace.packedA, bBlock: workspace.bBlock, V.self) }
        workspace.free()
        return
    }
    let packedA = allocateFloats(plan.packedACount)
    defer { packedA.deallocate() }
    // Pack A in a few fixed chunks of slivers, then compute the C rectangles.
    let aChunks = plan.packedACount >= 262_144 ? min(plan.rowSlivers, 8) : 1
    Parallel.forEach(aChunks) { chunk in
        let lo = chunk * plan.rowSlivers / aChunks, hi = (chunk + 1) * plan.rowSlivers / aChunks
        plan.packA(p, into: packedA, sliverRange: lo..<hi)
    }
    Parallel.forEach(plan.tasks) { t in
        let bBlock = allocateFloats(plan.bBlockCount)
        plan.run(task: t, p, packedA: packedA, bBlock: bBlock, V.self)
        bBlock.deallocate()
    }
}

/// Batched: for i in 0..<batch, C_i = (accumulate ? C_i : 0) + op(A_i)·op(B_i), where
/// A_i = a + i*strideA, B_i = b + i*strideB, C_i = c + i*strideC (element strides;
/// strideB may be 0 to share one B, likewise strideA). The C_i must not overlap.
/// Small matrices (attention heads) are spread over threads by batch item, large ones
/// are each multiplied by the parallel `gemm`. Bit-identical for any thread count.
public func gemmBatched(batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                        a: UnsafePointer<Float>, lda: Int, strideA: Int,
                        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int, accumulate: Bool) {
    if batch < 0 { fatalError("gemmBatched: batch must be >= 0, got \(batch)") }
    if batch == 0 { return }
    if strideA < 0 || strideB < 0 || strideC < 0 {
        fatalError("gemmBatched: strides must be >= 0, got strideA=\(strideA) strideB=\(strideB) strideC=\(strideC)")
    }
    let p0 = GemmProblem(transA: transA, transB: transB, m: m, n: n, k: k,
                         a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    p0.validate("gemmBatched")
    if batch > 1 && strideC < (m - 1) * ldc + n && m > 0 && n > 0 {
        fatalError("gemmBatched: strideC \(strideC) makes the output matrices overlap (m=\(m), n=\(n), ldc=\(ldc))")
    }
    func item(_ i: Int) -> GemmProblem {
        GemmProblem(transA: transA, transB: transB, m: m, n: n, k: k,
                    a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                    c: c + i * strideC, ldc: ldc, accumulate: accumulate)
    }
    if p0.isTrivial {
        for i in 0..<batch { item(i).finishTrivial() }
        return
    }
    let started = Profiler.timesKernels ? Profiler.now() : 0
    defer { if started != 0 { Profiler.kernelEnded("products (gemm)", since: started) } }
    #if AVX512
    if GemmPath.current.usesWideTiles(n: n) { return gemmBatched(batch, p0, item, SIMD16<Float>.self) }
    let sixteenRows = GemmPath.current == .vector16 && SixteenRows.suits(p0)
    #else
    let sixteenRows = false
    #endif
    gemmBatched(batch, p0, item, sixteenRows: sixteenRows, SIMD8<Float>.self)
}

/// `gemmBatched` with vectors of type V; `sixteenRows`: small products run `SixteenRows` tiles.
private func gemmBatched<V: SIMD>(_ batch: Int, _ p0: GemmProblem, _ item: (Int) -> GemmProblem, sixteenRows: Bool = false,
                                  _: V.Type) where V.Scalar == Float {
    let plan = GemmPlan(p0, nr: 2 * V.scalarCount)
    if plan.tasks > 1 {
        // Big matrices: parallel inside each product.
        for i in 0..<batch { gemm(item(i), V.self) }
        return
    }
    // Small matrices: a fixed number of chunks of whole products, one workspace each.
    let chunks = min(batch, 32)
    #if AVX512
    // After SixteenRows, what is left of each product: the rows below its last 16-row tile, if any.
    let rest = SixteenRows.rest(of: p0)
    let restPlan = sixteenRows && rest.m > 0 ? GemmPlan(rest, nr: plan.nr) : plan
    #endif
    Parallel.forEach(chunks) { chunk in
        let workspace = Workspace(plan)
        for i in (chunk * batch / chunks)..<((chunk + 1) * batch / chunks) {
            #if AVX512
            // SixteenRows computes whole 16-row tiles and leaves the rows below them, a smaller product.
            let p = sixteenRows ? SixteenRows.run(item(i), bBlock: workspace.bBlock) : item(i)
            if p.m == 0 { continue }
            let plan = restPlan
            #else
            let p = item(i)
            #endif
            // A read in place pays from k = 32 on (measured on attention's shapes on a Zen 3: P·V, k = 64, ×1.5–1.8;
            // Q·Kᵀ with k = 16 lost 13–20 %, its tiles too short for six row pointers each).
            if !p.transA && p.k >= 32 && p.k <= KC {
                plan.runReadingA(p, bBlock: workspace.bBlock, V.self)
            } else {
                plan.packA(p, into: workspace.packedA, sliverRange: 0..<plan.rowSlivers)
                plan.run(task: 0, p, packedA: workspace.packedA, bBlock: workspace.bBlock, V.self)
            }
        }
        workspace.free()
    }
}

#if AVX512
/// Small products 16 columns wide (attention's Q·Kᵀ over 16 positions, or P·V with 16 channels a head) on
/// the 512-bit path: tiles of 16 rows by one 16-float vector, A read where it is. The 6-row tiles of the
/// 8-float kernel computed 18 rows for every 16 and copied the last tile of each product through scratch.
/// Every C value is the same sum in the same order (one fused multiply-add per k from zero, then one
/// store or add), so the bits are those of the 6-row tiles.
private enum SixteenRows {
    static func suits(_ p: GemmProblem) -> Bool {
        p.n == 16 && p.m >= 16 && p.k >= 1 && p.k <= KC && !p.transA && p.columns == nil
    }

    /// Computes C's first ⌊m/16⌋·16 rows and returns the product left: the rows below them (m = 0 if none).
    static func run(_ p: GemmProblem, bBlock: UnsafeMutablePointer<Float>) -> GemmProblem {
        // B [k, 16]: read where it is when stored so, packed as [k, 16] from a transposed one.
        var b = p.b, ldb = p.ldb
        if p.transB {
            packBSliver(p, cols: 0, nr: 16, k0: 0, kc: p.k, bBlock)
            (b, ldb) = (UnsafePointer(bBlock), 16)
        }
        for i0 in stride(from: 0, to: p.m / 16 * 16, by: 16) {
            tile(p.k, p.a + i0 * p.lda, p.lda, b, ldb, p.c + i0 * p.ldc, p.ldc, p.accumulate)
        }
        return rest(of: p)
    }

    /// The rows of `p` below its last whole 16-row tile, as a product of their own (m = 0 if none).
    static func rest(of p: GemmProblem) -> GemmProblem {
        let full = p.m / 16 * 16
        return GemmProblem(transA: false, transB: p.transB, m: p.m - full, n: p.n, k: p.k,
                           a: p.a + full * p.lda, lda: p.lda, b: p.b, ldb: p.ldb,
                           c: p.c + full * p.ldc, ldc: p.ldc, accumulate: p.accumulate)
    }

    /// C[16, 16] (+)= A[16, kc] · B[kc, 16], A's rows lda apart, B's rows ldb apart; the tile in 16 registers.
    @inline(__always)
    private static func tile(_ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ addToC: Bool) {
        typealias V = SIMD16<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V()
        var c8 = V(), c9 = V(), c10 = V(), c11 = V(), c12 = V(), c13 = V(), c14 = V(), c15 = V()
        // Two row pointers, rows 0–7 and 8–15, each read at r·lda from its own.
        var pa = a, pa8 = a + 8 * lda, pb = b
        for _ in 0..<kc {
            let bv = load(pb, V.self)
            c0 = c0.addingProduct(V(repeating: pa[0]), bv); c1 = c1.addingProduct(V(repeating: pa[lda]), bv)
            c2 = c2.addingProduct(V(repeating: pa[2 * lda]), bv); c3 = c3.addingProduct(V(repeating: pa[3 * lda]), bv)
            c4 = c4.addingProduct(V(repeating: pa[4 * lda]), bv); c5 = c5.addingProduct(V(repeating: pa[5 * lda]), bv)
            c6 = c6.addingProduct(V(repeating: pa[6 * lda]), bv); c7 = c7.addingProduct(V(repeating: pa[7 * lda]), bv)
            c8 = c8.addingProduct(V(repeating: pa8[0]), bv); c9 = c9.addingProduct(V(repeating: pa8[lda]), bv)
            c10 = c10.addingProduct(V(repeating: pa8[2 * lda]), bv); c11 = c11.addingProduct(V(repeating: pa8[3 * lda]), bv)
            c12 = c12.addingProduct(V(repeating: pa8[4 * lda]), bv); c13 = c13.addingProduct(V(repeating: pa8[5 * lda]), bv)
            c14 = c14.addingProduct(V(repeating: pa8[6 * lda]), bv); c15 = c15.addingProduct(V(repeating: pa8[7 * lda]), bv)
            pa += 1; pa8 += 1; pb += ldb
        }
        @inline(__always) func put(_ v: V, _ row: Int) {
            let out = c + row * ldc
            store(addToC ? load(out, V.self) + v : v, out)
        }
        put(c0, 0); put(c1, 1); put(c2, 2); put(c3, 3); put(c4, 4); put(c5, 5); put(c6, 6); put(c7, 7)
        put(c8, 8); put(c9, 9); put(c10, 10); put(c11, 11); put(c12, 12); put(c13, 13); put(c14, 14); put(c15, 15)
    }
}
#endif

// MARK: - Problem and plan

/// Register tile: MR rows by nr = 2V columns (12 vector accumulators).
private let MR = 6
/// k block: one packed A sliver (KC*MR floats) sits in L1, a task's B block in L2.
private let KC = gemmKBlock
/// The k block of every product: each output is summed KC terms at a time, each block from zero
/// and then added to the total (`IndirectConv` blocks its sums the same way, for the same bits).
let gemmKBlock = 256
/// Row slivers per block of A that stays in L2 while B slivers pass through L1 (96 rows).
private let MCS = 16
/// How far ahead the packing loops ask for memory (`diffusion_prefetch`): 4 rows of a stored B, or
/// 64 floats (4 cache lines) along a row they read 8 floats at a time.
private let prefetchRows = 4, prefetchFloats = 64
/// Widest column strip of one task: 384 columns (384 KB of packed B), in slivers of nr columns.
private let maxStripColumns = 384
/// Products below this many flops (4.2 M: 128³) run on one thread, where handing out tasks would
/// cost more than it saves. (At 1 << 23, 128³ ran on one thread: best of 4 on a Zen 4 at 2 threads,
/// 101.9 GFLOP/s against NumPy's 125.9; as four tasks, 128.3.)
private let parallelFlops = 1 << 22

private struct GemmProblem {
    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let c: UnsafeMutablePointer<Float>, ldc: Int
    let accumulate: Bool
    /// When set, B is a convolution's im2col columns read through this view while packing
    /// (`b` and `ldb` are then unused): the columns are never written out in full.
    var columns: ImplicitColumns? = nil

    func validate(_ op: String) {
        if m < 0 || n < 0 || k < 0 { fatalError("\(op): negative size m=\(m) n=\(n) k=\(k)") }
        let aCols = transA ? m : k, bCols = transB ? k : n
        if lda < aCols {
            fatalError("\(op): lda=\(lda) < \(transA ? "m" : "k")=\(aCols) (transA=\(transA))")
        }
        if ldb < bCols {
            fatalError("\(op): ldb=\(ldb) < \(transB ? "k" : "n")=\(bCols) (transB=\(transB))")
        }
        if ldc < n { fatalError("\(op): ldc=\(ldc) < n=\(n)") }
    }

    var isTrivial: Bool { m == 0 || n == 0 || k == 0 }

    /// m or n is 0 (nothing to do) or k is 0 (C = accumulate ? C : 0).
    func finishTrivial() {
        if accumulate || m == 0 || n == 0 { return }
        for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
    }
}

/// How one product is cut: C is split into `tasks` rectangles of whole tiles,
/// `strips` column strips times `rowParts` row parts, chosen from the shape only.
private struct GemmPlan {
    /// Columns per B sliver and per register tile: 2V.
    let nr: Int
    let rowSlivers: Int, colSlivers: Int
    let stripSlivers: Int, strips: Int
    let rowPartSlivers: Int, rowParts: Int
    let kBlocks: Int, mPad: Int

    var tasks: Int { strips * rowParts }
    let packedACount: Int, bBlockCount: Int

    init(_ p: GemmProblem, nr: Int) {
        self.nr = nr
        rowSlivers = (p.m + MR - 1) / MR
        colSlivers = (p.n + nr - 1) / nr
        mPad = rowSlivers * MR
        kBlocks = (p.k + KC - 1) / KC
        let flops = 2 * p.m * p.n * p.k
        // Aim for about 8 tasks on big products (balances 2-4 threads), 1 on small ones.
        let target = flops < parallelFlops ? 1 : 8
        var width = min(colSlivers, maxStripColumns / nr)
        if (colSlivers + width - 1) / width < target {
            // Narrower strips, down to 64 columns when B's rows are read in place (shorter pieces of
            // a row cost more), down to one sliver when B is transposed (read a sliver at a time anyway).
            let narrowest = p.transB ? 1 : min(64 / nr, colSlivers)
            width = max(narrowest, (colSlivers + target - 1) / target)
        }
        stripSlivers = width
        strips = (colSlivers + width - 1) / width
        // Split rows too when the strips alone are too few, keeping >= 8 slivers (48 rows) per part.
        let parts = max(1, min(target / strips, rowSlivers / 8))
        rowPartSlivers = (rowSlivers + parts - 1) / parts
        rowParts = (rowSlivers + rowPartSlivers - 1) / rowPartSlivers
        packedACount = mPad * p.k
        bBlockCount = min(KC, p.k) * stripSlivers * nr
    }

    /// Packs A row slivers `sliverRange` for all k blocks. Block `kb` of sliver `s`
    /// starts at `kb*KC*mPad + s*MR*kc` and holds `kc` steps of MR values.
    func packA(_ p: GemmProblem, into dst: UnsafeMutablePointer<Float>, sliverRange: Range<Int>) {
        for kb in 0..<kBlocks {
            let k0 = kb * KC, kc = min(KC, p.k - k0)
            for s in sliverRange {
                packASliver(p, rows: s * MR, k0: k0, kc: kc, dst + kb * KC * mPad + s * MR * kc)
            }
        }
    }

    /// Computes the C rectangle of `task`, k block by k block.
    func run<V: SIMD>(task: Int, _ p: GemmProblem, packedA: UnsafeMutablePointer<Float>, bBlock: UnsafeMutablePointer<Float>,
                      _: V.Type) where V.Scalar == Float {
        let strip = task % strips, part = task / strips
        let s0 = strip * stripSlivers, s1 = min(colSlivers, s0 + stripSlivers)
        let r0 = part * rowPartSlivers, r1 = min(rowSlivers, r0 + rowPartSlivers)
        for kb in 0..<kBlocks {
            let k0 = kb * KC, kc = min(KC, p.k - k0)
            let addToC = p.accumulate || kb > 0
            let aBlock = packedA + kb * KC * mPad
            packBBlock(p, slivers: s0..<s1, nr: nr, k0: k0, kc: kc, bBlock)
            // BLIS's loop order: a block of row slivers (its packed A, MCS x MR x kc floats, stays
            // in L2) against one B sliver at a time (kc x nr floats, which stays in L1 while
            // every row sliver of the block streams past it).
            for rb in stride(from: r0, to: r1, by: MCS) {
                for s in s0..<s1 {
                    let bSliver = UnsafePointer(bBlock + (s - s0) * nr * kc)
                    for r in rb..<min(r1, rb + MCS) {
                        tile(p, row: r, column: s, kc: kc, PackedRows(at: aBlock + r * MR * kc), bSliver, addToC, V.self)
                    }
                }
            }
        }
    }

    /// A small product (one task, k within one block, A stored [m, k]) with A read where it is: only B is
    /// packed. The same tiles and sums as packing both.
    func runReadingA<V: SIMD>(_ p: GemmProblem, bBlock: UnsafeMutablePointer<Float>, _: V.Type) where V.Scalar == Float {
        packBBlock(p, slivers: 0..<colSlivers, nr: nr, k0: 0, kc: p.k, bBlock)
        for s in 0..<colSlivers {
            let bSliver = UnsafePointer(bBlock + s * nr * p.k)
            for r in 0..<rowSlivers {
                tile(p, row: r, column: s, kc: p.k, StoredRows(p, rows: r * MR), bSliver, p.accumulate, V.self)
            }
        }
    }

    /// The tile of C at row sliver r and column sliver s: op(A)'s rows from `a`, B's from the packed sliver.
    @inline(__always)
    private func tile<V: SIMD, A: TileRows>(_ p: GemmProblem, row r: Int, column s: Int, kc: Int, _ a: A,
                                            _ bSliver: UnsafePointer<Float>, _ addToC: Bool, _: V.Type) where V.Scalar == Float {
        let i0 = r * MR, rows = min(MR, p.m - i0), j0 = s * nr, cols = min(nr, p.n - j0)
        let cTile = p.c + i0 * p.ldc + j0
        if rows == MR && cols == nr {
            microKernel(kc, a, bSliver, nr, cTile, p.ldc, addToC, V.self)
        } else {
            edgeTile(kc, a, bSliver, nr, cTile, p.ldc, addToC, rows, cols, V.self)
        }
    }
}

/// Per-thread scratch: all of packed A and one B block.
private struct Workspace {
    let packedA: UnsafeMutablePointer<Float>
    let bBlock: UnsafeMutablePointer<Float>
    init(_ plan: GemmPlan) {
        packedA = allocateFloats(plan.packedACount)
        bBlock = allocateFloats(plan.bBlockCount)
    }
    func free() { packedA.deallocate(); bBlock.deallocate() }
}

@inline(__always)
private func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(1, count))
}

// MARK: - Packing

/// dst[p*MR + r] = op(A)[i0 + r, k0 + p], zero for rows past m.
@inline(__always)
private func packASliver(_ pr: GemmProblem, rows i0: Int, k0: Int, kc: Int, _ dst: UnsafeMutablePointer<Float>) {
    let rows = min(MR, pr.m - i0)
    if pr.transA {
        // A stored [k, m]: the MR values of one k are adjacent.
        for p in 0..<kc {
            let src = pr.a + (k0 + p) * pr.lda + i0
            for r in 0..<rows { dst[p * MR + r] = src[r] }
            for r in rows..<MR { dst[p * MR + r] = 0 }
        }
    } else {
        // A stored [m, k]: a transpose, 8 k at a time through registers (rows past the
        // sliver or past m are zero vectors), then the remaining k one by one.
        var p = 0
        while p + 8 <= kc {
            let src = pr.a + i0 * pr.lda + k0 + p
            if p & 15 == 0 && p + prefetchFloats < kc {  // once per cache line of each row
                for r in 0..<rows { diffusion_prefetch(src + r * pr.lda + prefetchFloats) }
            }
            @inline(__always) func row(_ r: Int) -> SIMD8<Float> { r < rows ? load8(src + r * pr.lda) : SIMD8() }
            let t = transposed(row(0), row(1), row(2), row(3), row(4), row(5), SIMD8(), SIMD8())
            let out = dst + p * MR
            store6(t.0, out); store6(t.1, out + MR); store6(t.2, out + 2 * MR); store6(t.3, out + 3 * MR)
            store6(t.4, out + 4 * MR); store6(t.5, out + 5 * MR); store6(t.6, out + 6 * MR); store6(t.7, out + 7 * MR)
            p += 8
        }
        for r in 0..<rows {
            let src = pr.a + (i0 + r) * pr.lda + k0
            for q in p..<kc { dst[q * MR + r] = src[q] }
        }
        for r in rows..<MR { for q in p..<kc { dst[q * MR + r] = 0 } }
    }
}

/// Packs the B slivers `slivers` (nr columns each) of k block [k0, k0 + kc): sliver s (numbered
/// from the first) at dst + s*nr*kc, laid out as dst[p*nr + c] = op(B)[k0 + p, s*nr + c].
@inline(__always)
private func packBBlock(_ pr: GemmProblem, slivers: Range<Int>, nr: Int, k0: Int, kc: Int, _ dst: UnsafeMutablePointer<Float>) {
    if let view = pr.columns, !pr.transB {
        // im2col columns: each row of the strip is written by the view into a short buffer
        // (a few short copies from the image rows it comes from), then cut into the slivers.
        let first = slivers.lowerBound * nr, width = min(pr.n, slivers.upperBound * nr) - first
        view.withLayout(columns: first, count: width, rows: k0, kc) { runs, runCount, rowOffsets in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: slivers.count * nr) { buffer in
                let row = buffer.baseAddress!
                (row + width).update(repeating: 0, count: slivers.count * nr - width)
                for p in 0..<kc {
                    view.fill(rowOffset: rowOffsets[p], runs: runs, count: runCount, into: row)
                    var out = dst + p * nr
                    for s in 0..<slivers.count {
                        for q in stride(from: 0, to: nr, by: 8) { store8(load8(row + s * nr + q), out + q) }
                        out += nr * kc
                    }
                }
            }
        }
        return
    }
    if let view = pr.columns {
        // Transposed im2col columns (the weight gradient): op(B)[p, c] is column k0 + p of row c.
        // Per sliver, its rows (kc pixels each) are written by the view, then packed as a stored
        // transposed B.
        let first = slivers.lowerBound * nr, last = min(pr.n, slivers.upperBound * nr)
        view.withLayout(columns: k0, count: kc, rows: first, last - first) { runs, runCount, rowOffsets in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: nr * kc) { buffer in
                let rows = buffer.baseAddress!
                for s in slivers {
                    let j0 = s * nr, cols = min(nr, pr.n - j0)
                    for c in 0..<cols {
                        view.fill(rowOffset: rowOffsets[j0 + c - first], runs: runs, count: runCount, into: rows + c * kc)
                    }
                    let local = GemmProblem(transA: pr.transA, transB: true, m: pr.m, n: cols, k: kc, a: pr.a, lda: pr.lda,
                                            b: UnsafePointer(rows), ldb: kc, c: pr.c, ldc: pr.ldc, accumulate: pr.accumulate)
                    packBSliver(local, cols: 0, nr: nr, k0: 0, kc: kc, dst + (s - slivers.lowerBound) * nr * kc)
                }
            }
        }
        return
    }
    if pr.transB {
        for s in slivers { packBSliver(pr, cols: s * nr, nr: nr, k0: k0, kc: kc, dst + (s - slivers.lowerBound) * nr * kc) }
        return
    }
    // B stored [k, n]: walk B row by row (long contiguous reads the prefetcher follows;
    // sliver by sliver would touch a new page for every 64 bytes), scattering 16-value
    // pieces into the slivers. Rows are far apart (a 16384-column B puts 64 KB between them),
    // and the CPU's own prefetcher does not guess the jump: without asking for the row 4 ahead,
    // each row waits for memory with little else in flight.
    let fullEnd = min(slivers.upperBound, pr.n / nr)
    let lo = slivers.lowerBound * nr, hi = min(pr.n, slivers.upperBound * nr)
    let farApart = pr.ldb >= 1024  // rows a page (4 KB) or more apart; nearer, the CPU's prefetcher keeps up
    for p in 0..<kc {
        let src = pr.b + (k0 + p) * pr.ldb
        if farApart && p + prefetchRows < kc {
            let ahead = src + prefetchRows * pr.ldb
            for j in stride(from: lo, to: hi, by: 16) { diffusion_prefetch(ahead + j) }  // a cache line each
        }
        var out = dst + p * nr
        for s in slivers.lowerBound..<fullEnd {
            for q in stride(from: 0, to: nr, by: 8) { store8(load8(src + s * nr + q), out + q) }
            out += nr * kc
        }
    }
    for s in fullEnd..<slivers.upperBound {
        packBSliver(pr, cols: s * nr, nr: nr, k0: k0, kc: kc, dst + (s - slivers.lowerBound) * nr * kc)
    }
}

/// dst[p*nr + c] = op(B)[k0 + p, j0 + c], zero for columns past n.
@inline(__always)
private func packBSliver(_ pr: GemmProblem, cols j0: Int, nr: Int, k0: Int, kc: Int, _ dst: UnsafeMutablePointer<Float>) {
    let cols = min(nr, pr.n - j0)
    if !pr.transB {
        for p in 0..<kc {
            let src = pr.b + (k0 + p) * pr.ldb + j0
            for c in 0..<cols { dst[p * nr + c] = src[c] }
            for c in cols..<nr { dst[p * nr + c] = 0 }
        }
    } else {
        // B stored [n, k]: a transpose, 8 k by 8 columns at a time through registers
        // (columns past n are zero vectors), then the remaining k one by one.
        var p = 0
        while p + 8 <= kc {
            for h in 0..<(nr / 8) {
                let out = dst + p * nr + 8 * h
                guard 8 * h < cols else {
                    for q in 0..<8 { store8(SIMD8(), out + q * nr) }   // columns past n
                    continue
                }
                let src = pr.b + (j0 + 8 * h) * pr.ldb + k0 + p
                let valid = cols - 8 * h
                if p & 15 == 0 && p + prefetchFloats < kc {  // once per cache line of each row
                    for r in 0..<min(8, valid) { diffusion_prefetch(src + r * pr.ldb + prefetchFloats) }
                }
                @inline(__always) func row(_ r: Int) -> SIMD8<Float> { r < valid ? load8(src + r * pr.ldb) : SIMD8() }
                let t = transposed(row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
                store8(t.0, out); store8(t.1, out + nr); store8(t.2, out + 2 * nr); store8(t.3, out + 3 * nr)
                store8(t.4, out + 4 * nr); store8(t.5, out + 5 * nr); store8(t.6, out + 6 * nr); store8(t.7, out + 7 * nr)
            }
            p += 8
        }
        for c in 0..<cols {
            let src = pr.b + (j0 + c) * pr.ldb + k0
            for q in p..<kc { dst[q * nr + c] = src[q] }
        }
        for c in cols..<nr { for q in p..<kc { dst[q * nr + c] = 0 } }
    }
}

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Lanes 0..<6 of `v` to p[0..<6] (a 16-byte and an 8-byte store).
@inline(__always)
private func store6(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
    UnsafeMutableRawPointer(p + 4).storeBytes(of: v.highHalf.lowHalf, as: SIMD2<Float>.self)
}

/// The transpose of the 8x8 block whose rows are v0...v7, as three rounds of "unzip"
/// (even lanes, then odd lanes, of each pair of rows): one round rotates the 6-bit
/// index (row, column) of an element right by one bit, so three swap row and column.
@inline(__always)
private func transposed(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>,
                        _ v4: SIMD8<Float>, _ v5: SIMD8<Float>, _ v6: SIMD8<Float>, _ v7: SIMD8<Float>)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    @inline(__always) func even(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        SIMD16(lowHalf: x, highHalf: y).evenHalf
    }
    @inline(__always) func odd(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        SIMD16(lowHalf: x, highHalf: y).oddHalf
    }
    var t = (v0, v1, v2, v3, v4, v5, v6, v7)
    for _ in 0..<3 {
        t = (even(t.0, t.1), even(t.2, t.3), even(t.4, t.5), even(t.6, t.7),
             odd(t.0, t.1), odd(t.2, t.3), odd(t.4, t.5), odd(t.6, t.7))
    }
    return t
}

// MARK: - Micro-kernel

@inline(__always)
private func load<V: SIMD>(_ p: UnsafePointer<Float>, _: V.Type) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Where the micro-kernel finds its MR values of op(A) at each step of k.
private protocol TileRows {
    /// Row r's value at the current k.
    func value(_ r: Int) -> Float
    /// On to the next k.
    mutating func advance()
}

/// A packed sliver: the MR values of one k side by side, k after k.
private struct PackedRows: TileRows {
    var at: UnsafePointer<Float>
    @inline(__always) func value(_ r: Int) -> Float { at[r] }
    @inline(__always) mutating func advance() { at += MR }
}

/// MR rows of a stored A [m, k], read where they are (`gemmBatched`'s small products, whose A is
/// read from L1 anyway and whose packing would cost as much as the multiply). Rows past m read
/// the last row again: computed, never stored.
private struct StoredRows: TileRows {
    let r0: UnsafePointer<Float>, r1: UnsafePointer<Float>, r2: UnsafePointer<Float>
    let r3: UnsafePointer<Float>, r4: UnsafePointer<Float>, r5: UnsafePointer<Float>
    var k = 0
    /// Rows i0..<i0 + MR of A, of which min(MR, m − i0) exist.
    init(_ p: GemmProblem, rows i0: Int) {
        let rows = min(MR, p.m - i0)
        func row(_ i: Int) -> UnsafePointer<Float> { p.a + (i0 + min(i, rows - 1)) * p.lda }
        (r0, r1, r2, r3, r4, r5) = (row(0), row(1), row(2), row(3), row(4), row(5))
    }
    @inline(__always) func value(_ r: Int) -> Float {
        switch r {
        case 0: r0[k]
        case 1: r1[k]
        case 2: r2[k]
        case 3: r3[k]
        case 4: r4[k]
        default: r5[k]
        }
    }
    @inline(__always) mutating func advance() { k += 1 }
}

/// C[6, 2V] (+)= op(A)[6, kc] · B[kc, 2V], with the tile in 12 registers of V floats. A's values
/// come from `a` (a packed sliver, or stored rows); B's rows are `ldb` apart: 2V when packed.
@inline(__always)
private func microKernel<V: SIMD, A: TileRows>(_ kc: Int, _ a: A, _ b: UnsafePointer<Float>, _ ldb: Int,
                                               _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ addToC: Bool, _: V.Type)
    where V.Scalar == Float {
    let w = V.scalarCount
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pa = a, pb = b
    for _ in 0..<kc {
        let b0 = load(pb, V.self), b1 = load(pb + w, V.self)
        var ai = V(repeating: pa.value(0))
        c00 = c00.addingProduct(ai, b0); c01 = c01.addingProduct(ai, b1)
        ai = V(repeating: pa.value(1))
        c10 = c10.addingProduct(ai, b0); c11 = c11.addingProduct(ai, b1)
        ai = V(repeating: pa.value(2))
        c20 = c20.addingProduct(ai, b0); c21 = c21.addingProduct(ai, b1)
        ai = V(repeating: pa.value(3))
        c30 = c30.addingProduct(ai, b0); c31 = c31.addingProduct(ai, b1)
        ai = V(repeating: pa.value(4))
        c40 = c40.addingProduct(ai, b0); c41 = c41.addingProduct(ai, b1)
        ai = V(repeating: pa.value(5))
        c50 = c50.addingProduct(ai, b0); c51 = c51.addingProduct(ai, b1)
        pa.advance(); pb += ldb
    }
    @inline(__always) func put(_ v0: V, _ v1: V, _ row: UnsafeMutablePointer<Float>) {
        if addToC {
            store(load(row, V.self) + v0, row); store(load(row + w, V.self) + v1, row + w)
        } else {
            store(v0, row); store(v1, row + w)
        }
    }
    put(c00, c01, c); put(c10, c11, c + ldc); put(c20, c21, c + 2 * ldc)
    put(c30, c31, c + 3 * ldc); put(c40, c41, c + 4 * ldc); put(c50, c51, c + 5 * ldc)
}

/// A tile that sticks out of C: compute the full tile into scratch, copy the valid part.
/// Each element sees exactly the arithmetic of `microKernel` (one sum, then one add).
@inline(never)
private func edgeTile<V: SIMD, A: TileRows>(_ kc: Int, _ a: A, _ b: UnsafePointer<Float>, _ ldb: Int,
                                            _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ addToC: Bool, _ rows: Int, _ cols: Int,
                                            _: V.Type) where V.Scalar == Float {
    let nr = 2 * V.scalarCount
    withUnsafeTemporaryAllocation(of: Float.self, capacity: MR * nr) { tmp in
        let t = tmp.baseAddress!
        microKernel(kc, a, b, ldb, t, nr, false, V.self)
        for r in 0..<rows {
            let row = c + r * ldc, src = t + r * nr
            var j = 0
            while j + 8 <= cols {
                store8(addToC ? load8(row + j) + load8(src + j) : load8(src + j), row + j)
                j += 8
            }
            for j in j..<cols { row[j] = addToC ? row[j] + src[j] : src[j] }
        }
    }
}
