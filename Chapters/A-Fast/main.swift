// Appendix A: how the matrix multiply got fast.
//
// For the learner who has built everything else: the climb from the three loops of the definition to the
// packed, register-tiled, vectorised, multithreaded kernel under every layer of the course
// (Sources/Tensor/Kernels/Matmul.swift), one rung at a time, each rung timed on this machine and
// checked against the naive product. The rungs' code is in Kernels.swift beside this file; Machine.swift
// reads the CPU's name and cache sizes and times a call.
//
//   swift run -c release a-fast [--quick] [--seed N] [--out DIR]

import ArgumentParser
import ChapterKit
import Foundation
import Imaging
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "a-fast",
        abstract: "Appendix A: how the matrix multiply got fast. From the naive triple loop to the library's packed, "
            + "register-tiled, vectorised, multithreaded gemm, each step timed on this machine against its measured FMA "
            + "peak, and a roofline with its measured memory bandwidth. Takes under a minute.")
    @OptionGroup var common: CommonOptions
}
let options = Options.parseOrExit()
let seed = options.common.seed, quick = options.common.quick
let started = Date()
let notebook = Notebook(chapter: Options.chapter, directory: options.directory, title: "Appendix A: how the matrix multiply got fast")

func fmt(_ v: Double, _ digits: Int = 3) -> String { Report.format(v, digits: digits) }
func times(_ v: Double) -> String { "×" + (v >= 10 ? String(format: "%.0f", v) : String(format: "%.2f", v)) }
func percent(_ v: Double) -> String { v >= 0.1 ? String(format: "%.0f %%", 100 * v) : String(format: "%.1f %%", 100 * v) }
func threadsText(_ t: Int) -> String { t == 1 ? "1 thread" : "\(t) threads" }
func ms(_ seconds: Double) -> String { seconds >= 1 ? fmt(seconds) + " s" : fmt(seconds * 1000) + " ms" }
/// A code excerpt: printed, and a ```swift block in the report. Every line of it is a line of Kernels.swift
/// or of the library's Matmul.swift (the chapter's test checks), so the report cannot drift from the code.
func excerpt(_ text: String) {
    print(text)
    notebook.report.code(text, language: "swift")
}

let threads = Parallel.processorCount
let paths = GemmPath.available
let narrow = GemmPath.vector8, widest = GemmPath.widest
let cpu = cpuName()
let caches = cacheSizes()
let load = loadAverage()

notebook.say("Run with seed \(seed)\(quick ? " (--quick: small matrices, one timed call each; the numbers are not meant to be read)" : "") "
    + "on \(cpu == "this machine" ? "a CPU that did not give its name" : cpu), \(threads) thread\(threads == 1 ? "" : "s")"
    + (load.map { String(format: ", with a load average of %.2f over the minute before the run", $0) } ?? "") + ". "
    + "Every number below was measured in this run, on this machine; other programs running at the same time make them lower and noisier "
    + "(a load average near or above the thread count means the cores were shared). The code of each rung is in "
    + "`Chapters/A-Fast/Kernels.swift`; the library's kernel is `Sources/Tensor/Kernels/Matmul.swift`.")

// MARK: - A.1 The ceiling

notebook.section("A.1 The ceiling: the machine's FMA peak")
let peakSeconds = quick ? 0.02 : 0.2
var peak1: [GemmPath: Double] = [:], peakAll: [GemmPath: Double] = [:]
for path in paths {
    peak1[path] = FMAPeak.measure(path, threads: 1, seconds: peakSeconds)
    peakAll[path] = threads > 1 ? FMAPeak.measure(path, threads: threads, seconds: peakSeconds) : peak1[path]
}
notebook.say("C = A·B with A of m × k and B of k × n is m·n·k multiply-adds: **2mnk floating-point operations** (flops), "
    + "whatever the algorithm. A kernel's speed is that count divided by its time, in GFLOP/s (10⁹ flops per second), "
    + "and the ceiling for it is what the CPU does when it does nothing but multiply-adds on numbers already in its registers. "
    + "A *fused multiply-add* (FMA) computes c + a·b on a whole vector register in one instruction, with one rounding: "
    + "on a vector of V floats that is 2V flops. `FMAPeak.measure` (Sources/Tensor/Kernels/Peak.swift) runs 12 independent "
    + "chains of FMAs on registers — no memory, no chain waiting on another — and reports the best of three rounds. "
    + "This build has \(paths.count == 1 ? "one vector width" : "two vector widths"): "
    + paths.map { "\($0.name), \($0.bits / 32) floats per register" }.joined(separator: ", and ") + ".")
notebook.table(headers: ["vector width", "FMA peak, 1 thread", "FMA peak, \(threads) threads", "\(threads) threads / 1"],
               rows: paths.map { p in
                   ["\(p.name)", fmt(peak1[p]!) + " GFLOP/s", fmt(peakAll[p]!) + " GFLOP/s", times(peakAll[p]! / peak1[p]!)]
               })
var ceilingNotes: [String] = []
if paths.count > 1 {
    let r = peak1[widest]! / peak1[narrow]!
    ceilingNotes.append("Here a 512-bit FMA path peaks at \(times(r)) the 256-bit one on one thread. Twice the floats per "
        + "instruction gives ×2 on a core with full-width 512-bit FMA units; a core that splits 512-bit work into two "
        + "256-bit halves (AMD's Zen 4) gives about ×1, and many Intel cores lower their clock while running 512-bit code, "
        + "which lands in between.")
}
if threads > 1 {
    let r = peakAll[widest]! / peak1[widest]!
    ceilingNotes.append("With \(threads) threads the peak is \(times(r)) the one-thread figure, against an ideal ×\(threads): "
        + (r > 0.9 * Double(threads) ? "the cores were free." : "some of the cores' time went to other programs during the run."))
}
let cacheNames = ["L1 data", "L2", "L3"]
let knownCaches = zip(cacheNames, caches).compactMap { name, size in size.map { "\(name) \(bytesText($0))" } }
ceilingNotes.append(knownCaches.isEmpty ? "The system did not report its cache sizes."
    : "The caches, as the system reports them: " + knownCaches.joined(separator: ", ")
        + " (L1 and L2 are each core's own; L3 is usually shared by all cores).")
notebook.say(ceilingNotes.joined(separator: " "))

// The problem every rung solves: A and B with entries uniform in [−1, 1], from the run's seed.
let n = quick ? 96 : 768  // a multiple of 6 and of 16, the packed rungs' tiles (and of 4)
let count = n * n
let flops = 2 * Double(n) * Double(n) * Double(n)
var rng = RandomGenerator(seed: seed)
let a = allocateFloats(count), b = allocateFloats(count), c = allocateFloats(count), reference = allocateFloats(count)
for i in 0..<count { a[i] = rng.uniform(in: -1...1) }
for i in 0..<count { b[i] = rng.uniform(in: -1...1) }

/// One measured rung of the ladder.
struct Rung {
    let id: String, name: String, short: String
    let threads: Int, peakPath: GemmPath, peak: Double
    let gflops: Double, gflopsMedian: Double, seconds: Double, maxError: Float
}
var ladder: [Rung] = []
let roundsNote = quick ? "one timed call" : "best of \(timingRounds) rounds of at least \(fmt(timingRoundSeconds)) s"

/// Runs `body` (which writes C = A·B into `c`) once, compares C with the naive product, times it, and
/// prints the rung's numbers.
@discardableResult
func measureRung(_ id: String, _ name: String, short: String, threads rungThreads: Int = 1, peakPath: GemmPath = narrow,
                 rounds: Int = timingRounds, _ body: () -> Void) -> Rung {
    c.update(repeating: .nan, count: count)
    body()
    let error = maxAbsDifference(c, reference, count: count)
    let t = timeCalls(quick: quick, rounds: rounds, body)
    let g = t.gflops(flops)
    let peak = rungThreads == 1 ? peak1[peakPath]! : peakAll[peakPath]!
    let rung = Rung(id: id, name: name, short: short, threads: rungThreads, peakPath: peakPath, peak: peak,
                    gflops: g.best, gflopsMedian: g.median, seconds: t.best, maxError: error)
    var line = "**\(fmt(g.best)) GFLOP/s** (\(ms(t.best)) per product, \(rounds == timingRounds ? roundsNote : quick ? "one timed call" : "best of \(rounds) calls"); "
        + "median \(fmt(g.median))), \(percent(g.best / peak)) of the \(rungThreads == 1 ? "one-thread" : "\(rungThreads)-thread") "
        + "\(peakPath.bits)-bit FMA peak"
    if let previous = ladder.last, let first = ladder.first {
        line += "; \(times(g.best / previous.gflops)) rung \(previous.id), \(times(g.best / first.gflops)) the naive loop"
    }
    line += ". Largest difference from the naive product: " + (error == 0 ? "**0** (the same bits)." : "\(fmt(Double(error), 2)).")
    notebook.say(line)
    ladder.append(rung)
    return rung
}

// MARK: - A.2 Rung 1: the naive loop

notebook.section("A.2 Rung 1: the naive triple loop")
notebook.say("Every rung multiplies the same two \(n) × \(n) matrices, entries drawn uniformly from [−1, 1] with the run's seed: "
    + "\(fmt(flops / 1e6, 4)) million flops per product. The first rung is the definition, C[i, j] = Σ_p A[i, p]·B[p, j], "
    + "as three loops — the library's own `gemmNaive`, the oracle every fast kernel in the course is tested against:")
excerpt("""
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
    """)
// Rung 1 writes the reference itself: every later rung is compared with its C.
let naiveRounds = 2
let naiveTiming = timeCalls(quick: quick, rounds: naiveRounds) {
    gemmNaive(transA: false, transB: false, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: reference, ldc: n, accumulate: false)
}
do {
    let g = naiveTiming.gflops(flops)
    ladder.append(Rung(id: "1", name: "naive i-j-k loop (gemmNaive)", short: "1 naive i-j-k", threads: 1, peakPath: narrow,
                       peak: peak1[narrow]!, gflops: g.best, gflopsMedian: g.median, seconds: naiveTiming.best, maxError: 0))
    notebook.say("**\(fmt(g.best)) GFLOP/s** (\(ms(naiveTiming.best)) per product, \(quick ? "one timed call" : "best of \(naiveRounds) calls after a first one")), "
        + "\(percent(g.best / peak1[narrow]!)) of the one-thread 256-bit FMA peak. This C is the reference: "
        + "each rung below is compared with it, element by element.")
}

// MARK: - A.3 Rung 2: loop order

notebook.section("A.3 Rung 2: loop order i-k-j")
let bT = allocateFloats(count)  // Bᵀ: bT[j*n + p] = B[p, j]
for p in 0..<n { for j in 0..<n { bT[j * n + p] = b[p * n + j] } }
c.update(repeating: .nan, count: count)
gemmNaive(transA: false, transB: true, m: n, n: n, k: n, a: a, lda: n, b: bT, ldb: n, c: c, ldc: n, accumulate: false)
let transposedError = maxAbsDifference(c, reference, count: count)
let transposedTiming = timeCalls(quick: quick, rounds: naiveRounds) {
    gemmNaive(transA: false, transB: true, m: n, n: n, k: n, a: a, lda: n, b: bT, ldb: n, c: c, ldc: n, accumulate: false)
}
let transposedGflops = transposedTiming.gflops(flops).best
notebook.say("Memory reaches the core in *cache lines* of 64 bytes (16 floats) on x86-64 and most ARM cores, 128 on Apple's. "
    + "Matrices are stored row by row, so A[i, p] and A[i, p+1] are neighbours in one line, but B[p, j] and B[p+1, j] are "
    + "\(n) floats (\(bytesText(4 * n))) apart. The naive inner loop walks *down a column* of B: every step needs a different line, "
    + "and uses 4 of its 64 bytes. It has a second handicap: each `sum += …` must wait for the previous addition to finish "
    + "(a few cycles), and the compiler may not reorder the additions to overlap them, because that would change the rounded result.")
notebook.say("The two handicaps can be told apart. `gemmNaive` can read B transposed, so the same loops over a copy Bᵀ walk both "
    + "operands along rows, contiguous — but keep the one chain of additions: \(fmt(transposedGflops)) GFLOP/s, "
    + "\(times(transposedGflops / ladder[0].gflops)) the column walk"
    + (transposedError == 0 ? " (and the same bits: the same additions in the same order)." : " (largest difference \(fmt(Double(transposedError), 2)))."))
notebook.say("Swapping the two inner loops removes both at once, without copying anything. In the order i, k, j the innermost "
    + "loop runs along a row of B and a row of C, and its iterations are independent (each updates its own C[i, j]), so the "
    + "compiler issues vector instructions that handle 8 or 16 of them at once. Each C[i, j] still receives its products in "
    + "the order p = 0, 1, …, so the rounded sums are the naive loop's:")
excerpt("""
    for i in 0..<m {
        let cRow = c + i * n
        cRow.update(repeating: 0, count: n)
        for p in 0..<k {
            let aip = a[i * k + p]
            let bRow = b + p * n
            for j in 0..<n { cRow[j] += aip * bRow[j] }
        }
    }
    """)
let ikj = measureRung("2", "loop order i-k-j", short: "2 loop order i-k-j") { gemmIKJ(m: n, n: n, k: n, a: a, b: b, c: c) }

// MARK: - A.4 Rung 3: cache blocking

notebook.section("A.4 Rung 3: cache blocking")
let bBytes = 4 * n * n, blockBytes = 4 * blockK * blockN
let l2 = caches[1]
notebook.say("Rung 2 reads all of B — \(bytesText(bBytes)) here — once for every row of C, \(n) times in all"
    + (l2.map { ", and B is \($0 >= bBytes ? "smaller" : "larger") than this core's L2 cache (\(bytesText($0)))" } ?? "")
    + ". Each multiply-add still loads a value of C, loads a value of B and stores C back, so how fast the loop runs depends "
    + "on how fast the caches feed it. *Blocking* reorders the work so that a small piece of B is used by every row of C before the "
    + "next piece is touched: here a block of \(blockK) rows × \(blockN) columns of B (\(bytesText(blockBytes))), which stays in a near cache while "
    + "all \(n) rows of C pass over it. The additions into each C[i, j] still come in the order p = 0, 1, …:")
excerpt("""
    for j0 in stride(from: 0, to: n, by: blockN) {
        let j1 = min(n, j0 + blockN)
        for p0 in stride(from: 0, to: k, by: blockK) {
            let p1 = min(k, p0 + blockK)
            for i in 0..<m {
                let cRow = c + i * n
                for p in p0..<p1 {
                    let aip = a[i * k + p]
                    let bRow = b + p * n
                    for j in j0..<j1 { cRow[j] += aip * bRow[j] }
                }
            }
        }
    }
    """)
let blocked = measureRung("3", "cache blocking (64 x 256 blocks of B)", short: "3 cache blocks") {
    gemmBlocked(m: n, n: n, k: n, a: a, b: b, c: c)
}
notebook.say(blocked.gflops > 1.15 * ikj.gflops ? "Keeping the block near the core bought \(times(blocked.gflops / ikj.gflops)) over rung 2."
    : blocked.gflops < 0.87 * ikj.gflops ? "Here blocking cost speed (\(times(blocked.gflops / ikj.gflops)) rung 2): on this machine, at this size, "
        + "rung 2's stream of B rows was not what held it back."
    : "Here blocking changed little (\(times(blocked.gflops / ikj.gflops)) rung 2): on this machine, at this size, streaming B was not the main "
        + "limit. The other suspect is the load and store of C around every multiply-add, which the next rung removes.")

// MARK: - A.5 Rung 4: packing and a register tile

notebook.section("A.5 Rung 4: packing and a register tile")
notebook.say("In rungs 2 and 3 every multiply-add loads a value of B, loads a value of C and stores C back: three memory "
    + "operations for two flops. A *register tile* keeps a small block of C in local variables — which the compiler keeps "
    + "in registers — for the whole loop over k. For a 4 × 4 tile, each step over k loads 4 values of A and 4 of B and does "
    + "16 multiply-adds with them: 8 loads for 32 flops, and C is written once at the end.")
notebook.say("The kernel wants, at each step, the 4 values of A down a column of its 4 rows, and 4 neighbouring values of a "
    + "row of B. *Packing* copies them into exactly that order first: A's 4 rows into a *sliver* where the 4 values of each "
    + "step sit side by side, B's block into slivers of 4 columns. The copies cost m·k + k·n moves against m·n·k multiply-adds, "
    + "and afterwards the kernel reads both operands straight through. As in the library, k is cut into blocks of "
    + "KC = \(packedKC) (an A sliver is then a few KB and stays in L1); the first block stores its tile into C, later ones add to it. "
    + "The driver and the kernel's loop:")
excerpt("""
    for p0 in stride(from: 0, to: k, by: packedKC) {
        let kc = min(packedKC, k - p0)
        packB(b, n: n, p0: p0, kc: kc, nr: nr, into: packedB)
        for i0 in stride(from: 0, to: m, by: mr) {
            packA(a, k: k, i0: i0, mr: mr, p0: p0, kc: kc, into: packedA)
            for j0 in stride(from: 0, to: n, by: nr) {
                kernel(kc, packedA, packedB + j0 * kc, c + i0 * n + j0, n, p0 > 0)
            }
        }
    }
    // … and in the kernel, c00 … c33 start at 0:
    for _ in 0..<kc {
        let b0 = pb[0], b1 = pb[1], b2 = pb[2], b3 = pb[3]
        let a0 = pa[0], a1 = pa[1], a2 = pa[2], a3 = pa[3]
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3
        pa += 4; pb += 4
    }
    """)
let scalarTile = measureRung("4", "packing + 4 x 4 register tile (plain Swift)", short: "4 packed 4x4 tile") {
    gemmPacked(m: n, n: n, k: n, a: a, b: b, c: c, mr: 4, nr: 4, kernel: scalarKernel4x4)
}
let tileVerdict = scalarTile.gflops > 1.15 * blocked.gflops ? "The tile bought \(times(scalarTile.gflops / blocked.gflops)) over rung 3."
    : "On its own the tile bought little here (\(times(scalarTile.gflops / blocked.gflops)) rung 3): it removed the traffic to C, but its "
        + "arithmetic is no wider than rung 3's — the structure pays off in the next rung, which widens the arithmetic."
notebook.say("The code is written one float at a time, but the compiler is free to do better: the four multiply-adds of a row "
    + "use neighbouring values of B and independent accumulators, so an optimising compiler (LLVM's *SLP vectoriser*) may pack "
    + "each row into one 4-float vector instruction, a multiply and an add — which is what this package's build does on x86-64 "
    + "(rung 3's loop, by comparison, the compiler vectorises 8 floats wide). " + tileVerdict + " "
    + (scalarTile.maxError == 0 ? "The difference from the naive product is still 0: with k = \(n) ≤ KC there is one k block, and each "
        + "tile adds its products in the naive order."
        : "The difference from the naive product is no longer 0: each tile sums its products per k block and then adds the "
            + "blocks, a different order of the same additions, so the roundings differ."))

// MARK: - A.6 Rung 5: vectors and FMA

notebook.section("A.6 Rung 5: vectors and fused multiply-add")
notebook.say("Now the tile is written in vectors on purpose: 6 rows × 16 columns of C in 12 variables of type `SIMD8<Float>` "
    + "(8 floats, a 256-bit register), two per row. Each step over k loads 16 values of B as two vectors, broadcasts each of "
    + "6 values of A to a whole vector, and issues 12 fused multiply-adds with `addingProduct`. The sizes are chosen by the "
    + "registers: 12 accumulators + 2 for B + 1 for the broadcast A = 15 of the 16 vector registers that AVX2 has, so nothing "
    + "spills to memory. And by the load/FMA ratio: 8 loads (2 of B, 6 broadcasts of A) for 12 FMAs. A core typically "
    + "issues 2 loads and 2 FMAs per cycle, so the 12 FMAs take 6 cycles and the 8 loads fit in 4 of them: the FMA units, "
    + "the thing the peak measures, are the bottleneck — the aim of the whole design. This is the library's micro-kernel "
    + "with V = 8; only the driver of rung 4 is around it:")
excerpt("""
    for _ in 0..<kc {
        let b0 = UnsafeRawPointer(pb).loadUnaligned(as: V.self)
        let b1 = UnsafeRawPointer(pb + 8).loadUnaligned(as: V.self)
        var ai = V(repeating: pa[0])
        c00 = c00.addingProduct(ai, b0); c01 = c01.addingProduct(ai, b1)
        ai = V(repeating: pa[1])
        c10 = c10.addingProduct(ai, b0); c11 = c11.addingProduct(ai, b1)
        // … the same for rows 2 to 5 …
        pa += 6; pb += 16
    }
    """)
let simdTile = measureRung("5", "packing + 6 x 16 SIMD tile with FMA", short: "5 SIMD 6x16 tile, FMA") {
    gemmPacked(m: n, n: n, k: n, a: a, b: b, c: c, mr: 6, nr: 16, kernel: simdKernel6x16)
}
notebook.say("The jump from rung 4 is \(times(simdTile.gflops / scalarTile.gflops)): 8 floats per instruction (rung 4's code has 1, "
    + "or 4 where the compiler vectorised its rows), 12 vector accumulators instead of 4, and one FMA where rung 4 needs a multiply "
    + "and an add. An FMA also rounds once instead of "
    + "twice, which changes the last bits of C again.")

// MARK: - A.7 Rung 6: the library on one thread

notebook.section("A.7 Rung 6: the library's gemm on one thread")
notebook.say("The library's `gemm` is the same design grown up (Sources/Tensor/Kernels/Matmul.swift, after Goto & van de Geijn "
    + "2008 and BLIS, Van Zee & van de Geijn 2015). What it adds to rung 5: packing that reads A and B in either storage order "
    + "(a transposed operand costs nothing later; an 8 × 8 block is transposed in registers), zero padding so that any size "
    + "works, a B block of at most 384 columns per task so that it stays in L2 for any n, prefetch hints while packing (the copy "
    + "asks for memory a few rows or cache lines ahead of where it reads, because across rows far apart the CPU's own "
    + "prefetcher does not guess the jump), BLIS's loop order (a block of "
    + "16 row slivers of A — 96 rows, kept in L2 — against one B sliver at a time, kept in L1), and, when the building CPU has "
    + "AVX-512, the same micro-kernel with V = 16 (a 6 × 32 tile in 12 of the 32 registers AVX-512 has), chosen at build time "
    + "(`GemmPath`). One thread, every path this build has:")
var libraryOneThread: [GemmPath: [Float]] = [:]
for path in paths {
    let label = path == narrow ? "a" : "b"
    measureRung("6\(paths.count > 1 ? label : "")", "library gemm on 1 thread (\(path.bits)-bit)", short: "6 library, 1 thread, \(path.bits)-bit",
                peakPath: path) {
        GemmPath.with(path) {
            Parallel.withThreads(1) {
                gemm(transA: false, transB: false, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n, accumulate: false)
            }
        }
    }
    libraryOneThread[path] = Array(UnsafeBufferPointer(start: c, count: count))
}
let library8 = ladder.first { $0.id.hasPrefix("6") }!
var sameBitsAcrossPaths = true
if paths.count > 1 {
    sameBitsAcrossPaths = libraryOneThread[narrow]! == libraryOneThread[widest]!
    let wide = ladder.last!
    notebook.say("The 512-bit path runs at \(times(wide.gflops / library8.gflops)) the 256-bit one (the FMA peaks differ by "
        + "\(times(peak1[widest]! / peak1[narrow]!))). Each lane of either width does the same multiply-adds in the same order, so the "
        + "two paths give " + (sameBitsAcrossPaths ? "**the same bits**: C from one equals C from the other, element for element."
            : "different bits (unexpected: the library promises the same)."))
}
let versusRung5 = library8.gflops / simdTile.gflops
notebook.say("Against rung 5 — the same micro-kernel with the chapter's simpler loops around it — the library's 256-bit path runs at "
    + "\(times(versusRung5)). "
    + (versusRung5 < 1.2 && versusRung5 > 0.83
        ? "At this size the micro-kernel is most of the story; the library's extra blocking is for sizes and shapes where rung 5's "
            + "loops would outgrow the caches (rung 5 packs all \(n) columns of a k block of B at once: \(bytesText(4 * packedKC * n)) here)."
        : versusRung5 >= 1.2 ? "Its loop order and blocking already pay at this size."
        : "Here rung 5's simpler loops are faster at this size; the library's blocking is for sizes and shapes where they would "
            + "outgrow the caches (rung 5 packs all \(n) columns of a k block of B at once: \(bytesText(4 * packedKC * n)) here)."))

// MARK: - A.8 Rung 7: all threads

notebook.section("A.8 Rung 7: the library's gemm on all threads")
notebook.say("Threads split C into rectangles of whole 6 × 2V tiles, a fixed plan that depends only on the shape (about 8 "
    + "rectangles for a large product); each thread takes rectangles from a shared counter, packs its own block of B and "
    + "writes only its own part of C. No thread ever splits the sum over k, so every element of C is added up in the same "
    + "order whatever the thread count, and the result is bit-identical for 1, 2 or 64 threads. Here, \(threads) "
    + "thread\(threads == 1 ? "" : "s"), the \(widest.bits)-bit path:")
let allThreads = measureRung("7", "library gemm on \(threadsText(threads)) (\(widest.bits)-bit)", short: "7 library, \(threadsText(threads)), \(widest.bits)-bit",
                             threads: threads, peakPath: widest) {
    GemmPath.with(widest) {
        gemm(transA: false, transB: false, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n, accumulate: false)
    }
}
let sameBitsAcrossThreads = Array(UnsafeBufferPointer(start: c, count: count)) == libraryOneThread[widest]!
let oneThreadWide = ladder[ladder.count - 2]
notebook.say((threads == 1 ? "This machine reports one processor, so this rung is rung 6 again. "
        : "\(threads) threads run at \(times(allThreads.gflops / oneThreadWide.gflops)) one thread (ideal ×\(threads); the FMA peak itself "
            + "scaled by \(times(peakAll[widest]! / peak1[widest]!)) in A.1). ")
    + "C computed on \(threads) thread\(threads == 1 ? "" : "s") and on one thread: "
    + (sameBitsAcrossThreads ? "**the same bits**." : "different bits (unexpected: the library promises the same)."))

// MARK: - A.9 The ladder

notebook.section("A.9 The ladder")
// The worst case for two different orders of the same Float32 sums: each is within γ_k·Σ_p|a_ip·b_pj| of the exact
// value (Higham, "Accuracy and Stability of Numerical Algorithms", 2002, §3.1: γ_k = k·u/(1 − k·u), u = 2⁻²⁴), so two
// of them differ by at most twice that. Σ_p|a_ip·b_pj| is the product |A|·|B|, computed here by the library.
let u = Double(Float.ulpOfOne) / 2
let gamma = Double(n) * u / (1 - Double(n) * u)
let absA = allocateFloats(count), absB = allocateFloats(count), absC = allocateFloats(count)
for i in 0..<count { absA[i] = abs(a[i]); absB[i] = abs(b[i]) }
gemm(transA: false, transB: false, m: n, n: n, k: n, a: absA, lda: n, b: absB, ldb: n, c: absC, ldc: n, accumulate: false)
let errorBound = 2 * gamma * Double((0..<count).map { absC[$0] }.max()!)
let worstError = Double(ladder.map(\.maxError).max()!)
notebook.table(headers: ["rung", "what", "GFLOP/s", "× previous", "× naive", "share of FMA peak", "max |C − C_naive|"],
               rows: ladder.enumerated().map { i, r in
                   [r.id, r.name, fmt(r.gflops), i == 0 ? "" : times(r.gflops / ladder[i - 1].gflops), i == 0 ? "" : times(r.gflops / ladder[0].gflops),
                    "\(percent(r.gflops / r.peak)) of \(fmt(r.peak)) (\(r.threads == 1 ? "1 thread" : "\(r.threads) threads"), \(r.peakPath.bits)-bit)",
                    r.maxError == 0 ? "0" : fmt(Double(r.maxError), 2)]
               })
let best = ladder.max { $0.gflops < $1.gflops }!
notebook.say("From the definition to the library on all threads: \(times(ladder.last!.gflops / ladder[0].gflops)), "
    + "on the same \(n) × \(n) product, the fastest rung at \(percent(best.gflops / best.peak)) of its FMA peak. "
    + "Rungs 1 to 5 are measured against the one-thread 256-bit peak: the compiler's own vectors and rung 5's `SIMD8` are "
    + "256-bit. None of the rungs computes a wrong product: the largest difference from the naive C is "
    + "\(worstError == 0 ? "0" : fmt(worstError, 2)), where the worst case for two orders of the same Float32 sums, "
    + "2·γ_k·max Σ_p|A[i, p]·B[p, j]| with γ_k = k·u/(1 − k·u) and u = 2⁻²⁴, is \(fmt(errorBound, 2)) for these matrices; "
    + "typical rounding errors grow like √k, not k, which is why the measured differences sit far below it. The numbers are in `ladder.csv`.")

let ladderFloor = pow(10, (log10(ladder.map(\.gflops).min()! / 2)).rounded(.down))
let topPeak = paths.map { peakAll[$0]! }.max()!
let top = 10 * pow(10, (log10(topPeak * 1.5)).rounded(.up))  // a decade of room above the peaks for the legend
var ladderPlot = Plot(title: "The ladder: GFLOP/s of each rung, \(n)x\(n)x\(n)", xLabel: "rung", yLabel: "GFLOP/s (log scale)",
                      width: 960, height: 720, logY: true, xRange: 0.4...7.6, yRange: ladderFloor...top,
                      legend: .topLeft)
/// A rung's place on the x axis: its number, with 6a and 6b side by side.
func position(_ r: Rung) -> Double { Double(r.id.prefix(1))! + (r.id.hasSuffix("a") ? -0.2 : r.id.hasSuffix("b") ? 0.2 : 0) }
// A bar is many thin vertical lines side by side (a thick line would overshoot its value by half its thickness); its
// legend entry is a short line drawn outside the axes.
for (i, r) in ladder.enumerated() {
    let color = Color.palette[i % Color.palette.count]
    ladderPlot.line(r.short, x: [-10.0, -9.0], y: [1.0, 1.0], color: color, thickness: 8)
    let halfWidth = r.id.count > 1 ? 0.1 : 0.15
    for x in stride(from: position(r) - halfWidth, through: position(r) + halfWidth, by: 0.01) {
        ladderPlot.line("", x: [x, x], y: [ladderFloor, r.gflops], color: color, thickness: 2)
    }
}
var peakLines: [(String, Double, Color)] = [("FMA peak, 1 thread, 256-bit", peak1[narrow]!, Color(150, 150, 150))]
if paths.count > 1 { peakLines.append(("FMA peak, 1 thread, 512-bit", peak1[widest]!, Color(80, 80, 80))) }
if threads > 1 { peakLines.append(("FMA peak, \(threads) threads, \(widest.bits)-bit", peakAll[widest]!, Color(0, 0, 0))) }
for (name, value, color) in peakLines {
    ladderPlot.line(name, x: [0.4, 7.6], y: [value, value], color: color, thickness: 2)
}
notebook.figure(ladderPlot, name: "ladder.png",
                caption: "GFLOP/s of each rung on the same \(n) × \(n) product (log scale), with the FMA peaks measured in A.1 as lines.")
notebook.must {
    try writeCSV(notebook.path("ladder.csv"),
                 header: ["rung", "name", "m", "n", "k", "threads", "peak_bits", "gflops", "gflops_median", "max_error", "peak_gflops"],
                 rows: ladder.map { r in
                     [r.id, r.name, "\(n)", "\(n)", "\(n)", "\(r.threads)", "\(r.peakPath.bits)", "\(r.gflops)", "\(r.gflopsMedian)",
                      "\(r.maxError)", "\(r.peak)"]
                 })
}

// MARK: - A.10 The roofline

notebook.section("A.10 The roofline")
// Memory bandwidth: sum an array much larger than the caches, on one thread and on all.
let streamCount = quick ? 4 << 20 : 64 << 20  // 16 MB with --quick, 256 MB otherwise
let stream = allocateFloats(streamCount)
stream.update(repeating: 1, count: streamCount)
var sink: Float = 0
let streamChunks = 16
let partials = allocateFloats(streamChunks)
let stream1 = timeCalls(quick: quick) { sink += streamSum(stream, count: streamCount) }
let streamAll = timeCalls(quick: quick) {
    Parallel.forEach(streamChunks) { chunk in
        let lo = chunk * streamCount / streamChunks, hi = (chunk + 1) * streamCount / streamChunks
        partials[chunk] = streamSum(stream + lo, count: hi - lo)
    }
    sink += (0..<streamChunks).reduce(0) { $0 + partials[$1] }
}
let bandwidth1 = 4 * Double(streamCount) / stream1.best / 1e9
let bandwidthAll = 4 * Double(streamCount) / streamAll.best / 1e9
let l3 = caches[2]
notebook.say("A kernel can also be starved by memory. The *roofline* model (Williams, Waterman & Patterson 2009) puts both limits "
    + "in one picture. A kernel's *arithmetic intensity* I is its flops per byte moved to or from main memory; at most, it "
    + "runs at **min(FMA peak, bandwidth × I)**: a flat roof for kernels that do many flops per byte, a slope for those that "
    + "do few. The bandwidth is measured here by summing an array of \(bytesText(4 * streamCount))"
    + (l3.map { 4 * streamCount >= 4 * $0 ? ", several times the L3 cache (\(bytesText($0)))," : ", which is not much larger than the L3 cache (\(bytesText($0))), so part of it comes from the cache and the figure overstates memory's speed," } ?? "")
    + " with vector loads, reading every byte once: **\(fmt(bandwidth1)) GB/s** on one thread and **\(fmt(bandwidthAll)) GB/s** on \(threads) "
    + "(best of \(quick ? 1 : timingRounds)). The *ridge point*, where the roof turns flat, is at \(fmt(peakAll[widest]! / bandwidthAll)) flop/byte for "
    + "\(threads) threads on the \(widest.bits)-bit path: a kernel with less intensity than that cannot reach the FMA peak, "
    + "however well it is written.")
notebook.say("For C[m, n] = A[m, k]·B[k, n] the least traffic there can be is reading A and B once and writing C once, "
    + "4·(mk + kn + mn) bytes, so I = 2mnk / (4·(mk + kn + mn)): \(fmt(Double(n) / 6)) flop/byte for the ladder's \(n)³ product "
    + "(n/6 for a square). A matrix-vector product (n = 1) uses every value of A for one multiply-add: I ≈ 0.5, far left of the ridge. "
    + "A few shapes, on all threads:")

struct RoofPoint { let kernel: String, shape: String, threads: Int, intensity: Double, gflops: Double }
var roofPoints: [RoofPoint] = []
func intensity(m: Int, n: Int, k: Int) -> Double {
    2 * Double(m) * Double(n) * Double(k) / (4 * (Double(m) * Double(k) + Double(k) * Double(n) + Double(m) * Double(n)))
}
/// Times the library's gemm on all threads (widest path) on random m × k and k × n matrices.
func libraryPoint(m: Int, n: Int, k: Int, label: String) {
    var r = RandomGenerator(seed: seed &+ UInt64(m * 31 + n * 7 + k))
    let pa = allocateFloats(m * k), pb = allocateFloats(k * n), pc = allocateFloats(m * n)
    defer { pa.deallocate(); pb.deallocate(); pc.deallocate() }
    for i in 0..<(m * k) { pa[i] = r.uniform(in: -1...1) }
    for i in 0..<(k * n) { pb[i] = r.uniform(in: -1...1) }
    let t = timeCalls(quick: quick) {
        gemm(transA: false, transB: false, m: m, n: n, k: k, a: pa, lda: k, b: pb, ldb: n, c: pc, ldc: n, accumulate: false)
    }
    roofPoints.append(RoofPoint(kernel: "library gemm", shape: label, threads: threads, intensity: intensity(m: m, n: n, k: k),
                                gflops: 2 * Double(m) * Double(n) * Double(k) / t.best / 1e9))
}
let mv = quick ? 512 : 4096  // the matrix-vector product's matrix: 64 MB in a full run
do {
    var r = RandomGenerator(seed: seed &+ 1)
    let ma = allocateFloats(mv * mv), x = allocateFloats(mv), y = allocateFloats(mv), yRef = allocateFloats(mv)
    defer { ma.deallocate(); x.deallocate(); y.deallocate(); yRef.deallocate() }
    for i in 0..<(mv * mv) { ma[i] = r.uniform(in: -1...1) }
    for i in 0..<mv { x[i] = r.uniform(in: -1...1) }
    let chunks = 16
    let t = timeCalls(quick: quick) {
        Parallel.forEach(chunks) { chunk in matvecRows((chunk * mv / chunks)..<((chunk + 1) * mv / chunks), k: mv, a: ma, x: x, y: y) }
    }
    roofPoints.append(RoofPoint(kernel: "streaming matrix-vector (Kernels.swift)", shape: "\(mv)x1x\(mv)", threads: threads,
                                intensity: intensity(m: mv, n: 1, k: mv), gflops: 2 * Double(mv) * Double(mv) / t.best / 1e9))
    let tg = timeCalls(quick: quick) {
        gemm(transA: false, transB: false, m: mv, n: 1, k: mv, a: ma, lda: mv, b: x, ldb: 1, c: yRef, ldc: 1, accumulate: false)
    }
    roofPoints.append(RoofPoint(kernel: "library gemm", shape: "\(mv)x1x\(mv)", threads: threads,
                                intensity: intensity(m: mv, n: 1, k: mv), gflops: 2 * Double(mv) * Double(mv) / tg.best / 1e9))
}
let thin = quick ? 256 : 2048
libraryPoint(m: thin, n: thin, k: 16, label: "\(thin)x\(thin)x16")
for s in quick ? [32, 64, 96] : [64, 256, 1024] { libraryPoint(m: s, n: s, k: s, label: "\(s)x\(s)x\(s)") }
for r in ladder {
    roofPoints.append(RoofPoint(kernel: "rung \(r.id): \(r.name)", shape: "\(n)x\(n)x\(n)", threads: r.threads,
                                intensity: intensity(m: n, n: n, k: n), gflops: r.gflops))
}
/// The roof over intensity I for `threads` threads: min(peak, bandwidth × I), with the widest path's peak.
func roof(_ i: Double, threads t: Int) -> Double { t == 1 ? min(peak1[widest]!, bandwidth1 * i) : min(peakAll[widest]!, bandwidthAll * i) }
notebook.table(headers: ["kernel", "m x n x k", "threads", "intensity (flop/byte)", "GFLOP/s", "roof there", "share of the roof"],
               rows: roofPoints.map { p in
                   [p.kernel, p.shape, "\(p.threads)", fmt(p.intensity), fmt(p.gflops), fmt(roof(p.intensity, threads: p.threads)),
                    percent(p.gflops / roof(p.intensity, threads: p.threads))]
               })
let streaming = roofPoints[0], gemmMatvec = roofPoints[1]
let ridge = peakAll[widest]! / bandwidthAll
let squares = roofPoints.filter { $0.kernel == "library gemm" && $0.shape.split(separator: "x").count == 3
    && Set($0.shape.split(separator: "x")).count == 1 }
let (rightOfRidge, leftOfRidge) = (squares.filter { $0.intensity >= ridge }, squares.filter { $0.intensity < ridge })
let streamingShare = streaming.gflops / roof(streaming.intensity, threads: threads)
notebook.say("The streaming matrix-vector product runs at \(percent(streamingShare)) of its roof"
    + (streamingShare > 1.1 ? " — above it, because its \(bytesText(4 * mv * mv)) matrix fits in the caches, which feed the core faster "
        + "than main memory (in a full run the matrix is 64 MB). " : ". ")
    + "At I ≈ 0.5 the roof is memory's, not the FMA units': at \(fmt(streaming.gflops)) GFLOP/s the product uses "
    + "\(percent(streaming.gflops / peakAll[widest]!)) of the FMA peak, and no way of writing it could use much more. The library's `gemm` on the same product "
    + "reaches \(fmt(gemmMatvec.gflops)) GFLOP/s: a GEMM kernel is the wrong tool for it, because it first copies A into packed slivers "
    + "(more traffic, for a matrix used once) and pads the single column of x to a whole tile of 16 columns, 15 of them zeros. "
    + (rightOfRidge.isEmpty ? "" : "The square products " + rightOfRidge.map(\.shape).joined(separator: ", ")
        + " sit right of the ridge point, where memory does not limit them; ")
    + (leftOfRidge.isEmpty ? "" : (rightOfRidge.isEmpty ? "The square products " : "")
        + leftOfRidge.map(\.shape).joined(separator: ", ")
        + (leftOfRidge.count == 1 ? " is left of it — but its matrices fit in the caches, so main memory is not what it waits for; "
            : " are left of it — but their matrices fit in the caches, so main memory is not what they wait for; "))
    + (intensity(m: n, n: n, k: n) >= ridge
        ? "the ladder's rungs all share one intensity, right of the ridge, so everything between a rung and the roof above it is lost in the kernel, not to memory."
        : "the ladder's rungs all share one intensity, which in this --quick run lies left of the ridge."))

var roofPlot = Plot(title: "Roofline: GFLOP/s against arithmetic intensity", xLabel: "arithmetic intensity, log10(flop/byte): 0 = 1, 2 = 100",
                    yLabel: "GFLOP/s (log scale)", width: 960, height: 720, logY: true, legend: .bottomRight)
let roofX = stride(from: -1.0, through: 3.0, by: 0.02).map { $0 }
if threads > 1 {
    roofPlot.line("roof, \(threads) threads: \(fmt(peakAll[widest]!)) GFLOP/s, \(fmt(bandwidthAll)) GB/s", x: roofX,
                  y: roofX.map { roof(pow(10, $0), threads: threads) }, color: Color(0, 0, 0), thickness: 3)
}
roofPlot.line("roof, 1 thread: \(fmt(peak1[widest]!)) GFLOP/s, \(fmt(bandwidth1)) GB/s", x: roofX,
              y: roofX.map { roof(pow(10, $0), threads: 1) }, color: Color(140, 140, 140), thickness: 3)
let kinds: [(String, (RoofPoint) -> Bool, Color)] = [
    ("ladder rungs, \(n)^3", { $0.kernel.hasPrefix("rung") }, Color.palette[0]),
    ("library gemm, \(threads) threads", { $0.kernel == "library gemm" }, Color.palette[1]),
    ("streaming matrix-vector, \(threads) threads", { $0.kernel.hasPrefix("streaming") }, Color.palette[2]),
]
for (name, test, color) in kinds {
    let ps = roofPoints.filter(test)
    roofPlot.scatter(name, x: ps.map { log10($0.intensity) }, y: ps.map(\.gflops), color: color, radius: 6)
}
notebook.figure(roofPlot, name: "roofline.png",
                caption: "The roofline of this machine (\(widest.bits)-bit FMA peak, measured bandwidth) and where the kernels land: "
                    + "the matrix-vector products at the left, the ladder's rungs stacked at I = \(fmt(Double(n) / 6)), the library's shapes between.")
notebook.must {
    try writeCSV(notebook.path("roofline.csv"), header: ["kernel", "shape", "threads", "intensity", "gflops", "roof_gflops"],
                 rows: roofPoints.map { p in
                     [p.kernel, p.shape, "\(p.threads)", "\(p.intensity)", "\(p.gflops)", "\(roof(p.intensity, threads: p.threads))"]
                 } + [["bandwidth on 1 thread (GB/s)", "\(4 * streamCount) bytes", "1", "", "\(bandwidth1)", ""],
                      ["bandwidth on \(threads) threads (GB/s)", "\(4 * streamCount) bytes", "\(threads)", "", "\(bandwidthAll)", ""]])
}
if sink == -1 { print("") }  // keeps the timed sums from being optimised away

// MARK: - A.11 Further reading

notebook.section("A.11 Further reading")
notebook.say("- Kazushige Goto and Robert A. van de Geijn, \"Anatomy of High-Performance Matrix Multiplication\", "
    + "*ACM Transactions on Mathematical Software* 34(3), 2008: packing, the k blocks, and why the micro-kernel's tile is "
    + "sized by the registers and B's block by the caches.\n"
    + "- Field G. Van Zee and Robert A. van de Geijn, \"BLIS: A Framework for Rapidly Instantiating BLAS Functionality\", "
    + "*ACM Transactions on Mathematical Software* 41(3), 2015: the five loops around one micro-kernel, the loop order the "
    + "library follows.\n"
    + "- Samuel Williams, Andrew Waterman and David Patterson, \"Roofline: An Insightful Visual Performance Model for "
    + "Multicore Architectures\", *Communications of the ACM* 52(4), 2009: the roofline of A.10.")

notebook.save()
print(String(format: "Done in %.1f s.", Date().timeIntervalSince(started)))
