// Appendix A's kernels: the rungs of the ladder from the naive triple loop to a packed, register-tiled,
// vectorised matrix multiply, each a short function to read beside the library's `gemm`
// (Sources/Tensor/Kernels/Matmul.swift), against which main.swift measures them.
//
// Every function here computes C[m,n] = A[m,k]·B[k,n] with all three matrices row-major and contiguous
// (A's rows k apart, B's and C's n apart), and overwrites C. Rung 1 is the library's `gemmNaive`.
//
// Rungs 4 and 5 are the GotoBLAS/BLIS design in miniature: Goto & van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication", ACM TOMS 34(3), 2008; Van Zee & van de Geijn, "BLIS: A
// Framework for Rapidly Instantiating BLAS Functionality", ACM TOMS 41(3), 2015. Where they are simpler
// than the library: m must be a multiple of the tile's rows and n of its columns (the library pads its
// packed slivers with zeros and handles any size); the whole k-block of B is packed at once (the library
// packs at most 384 columns per task, so that the block stays in L2 for any n); the loop over C's tiles is
// row sliver by row sliver (the library runs BLIS's order, a block of 16 row slivers against each B
// sliver); and there are no threads, no transposed operands and no 16-float path.

import Tensor

// MARK: - Rung 2: loop order

/// Rung 2: the naive loops in the order i, k, j. The innermost loop walks along a row of B and a row of
/// C, both contiguous in memory, and its iterations are independent of each other, so the compiler turns
/// it into vector instructions. Each C[i, j] still adds its k products in the order p = 0, 1, …, k − 1:
/// the same sums, rounded the same way, as the naive loop.
func gemmIKJ(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
    for i in 0..<m {
        let cRow = c + i * n
        cRow.update(repeating: 0, count: n)
        for p in 0..<k {
            let aip = a[i * k + p]
            let bRow = b + p * n
            for j in 0..<n { cRow[j] += aip * bRow[j] }
        }
    }
}

// MARK: - Rung 3: cache blocking

/// Rung 3's block of B: `blockK` rows by `blockN` columns (64 × 256 floats, 64 KB).
let blockK = 64, blockN = 256

/// Rung 3: rung 2 cut into blocks of B. For one block B[p0..<p1, j0..<j1], every row i of C takes its
/// turn, so the block is read m times from a cache close to the core instead of all of B being read m
/// times from further away. Each C[i, j] still adds its products in order: the same sums as rung 1.
func gemmBlocked(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
    c.update(repeating: 0, count: m * n)
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
}

// MARK: - Rungs 4 and 5: packing and a register tile

/// The k block of the packed rungs, the library's KC: a packed A sliver of KC × 6 floats (6 KB) stays in L1.
let packedKC = 256

/// A micro-kernel: the C tile [mr, nr] at `c` (rows `ldc` apart) gets the product of a packed A sliver
/// (`kc` steps of mr values) and a packed B sliver (`kc` steps of nr values), added to it or stored.
typealias MicroKernel = (_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                         _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ addToC: Bool) -> Void

/// Rungs 4 and 5: for each k block, pack all of B's block into slivers of `nr` columns, then for each
/// sliver of `mr` rows of A, pack it and run `kernel` on every tile of that row sliver of C.
/// The first k block stores into C, the later ones add to it. m must be a multiple of mr, n of nr.
func gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                mr: Int, nr: Int, kernel: MicroKernel) {
    precondition(m % mr == 0 && n % nr == 0, "gemmPacked: m = \(m) must be a multiple of \(mr), n = \(n) of \(nr)")
    let packedA = UnsafeMutablePointer<Float>.allocate(capacity: packedKC * mr)
    let packedB = UnsafeMutablePointer<Float>.allocate(capacity: packedKC * n)
    defer { packedA.deallocate(); packedB.deallocate() }
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
}

/// One sliver of A: packed[p·mr + r] = A[i0 + r, p0 + p]. For each step p, the mr values the kernel needs
/// sit side by side.
func packA(_ a: UnsafePointer<Float>, k: Int, i0: Int, mr: Int, p0: Int, kc: Int, into packed: UnsafeMutablePointer<Float>) {
    for p in 0..<kc {
        for r in 0..<mr { packed[p * mr + r] = a[(i0 + r) * k + p0 + p] }
    }
}

/// B's k block in slivers of nr columns: sliver s starts at packed + s·nr·kc and holds
/// packed[p·nr + col] = B[p0 + p, s·nr + col], one short row after another.
func packB(_ b: UnsafePointer<Float>, n: Int, p0: Int, kc: Int, nr: Int, into packed: UnsafeMutablePointer<Float>) {
    for s in 0..<(n / nr) {
        let sliver = packed + s * nr * kc
        for p in 0..<kc {
            for col in 0..<nr { sliver[p * nr + col] = b[(p0 + p) * n + s * nr + col] }
        }
    }
}

/// Rung 4's micro-kernel: a 4 × 4 tile of C in 16 local variables for the whole k loop. Each step loads
/// 4 values of A and 4 of B and does 16 multiply-adds.
func scalarKernel4x4(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ addToC: Bool) {
    var c00: Float = 0, c01: Float = 0, c02: Float = 0, c03: Float = 0
    var c10: Float = 0, c11: Float = 0, c12: Float = 0, c13: Float = 0
    var c20: Float = 0, c21: Float = 0, c22: Float = 0, c23: Float = 0
    var c30: Float = 0, c31: Float = 0, c32: Float = 0, c33: Float = 0
    var pa = a, pb = b
    for _ in 0..<kc {
        let b0 = pb[0], b1 = pb[1], b2 = pb[2], b3 = pb[3]
        let a0 = pa[0], a1 = pa[1], a2 = pa[2], a3 = pa[3]
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3
        pa += 4; pb += 4
    }
    func put(_ row: UnsafeMutablePointer<Float>, _ v0: Float, _ v1: Float, _ v2: Float, _ v3: Float) {
        if addToC {
            row[0] += v0; row[1] += v1; row[2] += v2; row[3] += v3
        } else {
            row[0] = v0; row[1] = v1; row[2] = v2; row[3] = v3
        }
    }
    put(c, c00, c01, c02, c03); put(c + ldc, c10, c11, c12, c13)
    put(c + 2 * ldc, c20, c21, c22, c23); put(c + 3 * ldc, c30, c31, c32, c33)
}

/// Rung 5's micro-kernel: a 6 × 16 tile of C in 12 vectors of 8 floats (two per row) for the whole k
/// loop. Each step loads 16 values of B as two vectors, broadcasts each of 6 values of A to a whole
/// vector, and does 12 fused multiply-adds (`addingProduct`: c + a·b with one rounding) — the library's
/// micro-kernel with V = 8.
func simdKernel6x16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ addToC: Bool) {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pa = a, pb = b
    for _ in 0..<kc {
        let b0 = UnsafeRawPointer(pb).loadUnaligned(as: V.self)
        let b1 = UnsafeRawPointer(pb + 8).loadUnaligned(as: V.self)
        var ai = V(repeating: pa[0])
        c00 = c00.addingProduct(ai, b0); c01 = c01.addingProduct(ai, b1)
        ai = V(repeating: pa[1])
        c10 = c10.addingProduct(ai, b0); c11 = c11.addingProduct(ai, b1)
        ai = V(repeating: pa[2])
        c20 = c20.addingProduct(ai, b0); c21 = c21.addingProduct(ai, b1)
        ai = V(repeating: pa[3])
        c30 = c30.addingProduct(ai, b0); c31 = c31.addingProduct(ai, b1)
        ai = V(repeating: pa[4])
        c40 = c40.addingProduct(ai, b0); c41 = c41.addingProduct(ai, b1)
        ai = V(repeating: pa[5])
        c50 = c50.addingProduct(ai, b0); c51 = c51.addingProduct(ai, b1)
        pa += 6; pb += 16
    }
    func put(_ row: UnsafeMutablePointer<Float>, _ v0: V, _ v1: V) {
        let left = UnsafeMutableRawPointer(row), right = UnsafeMutableRawPointer(row + 8)
        if addToC {
            left.storeBytes(of: left.loadUnaligned(as: V.self) + v0, as: V.self)
            right.storeBytes(of: right.loadUnaligned(as: V.self) + v1, as: V.self)
        } else {
            left.storeBytes(of: v0, as: V.self)
            right.storeBytes(of: v1, as: V.self)
        }
    }
    put(c, c00, c01); put(c + ldc, c10, c11); put(c + 2 * ldc, c20, c21)
    put(c + 3 * ldc, c30, c31); put(c + 4 * ldc, c40, c41); put(c + 5 * ldc, c50, c51)
}

// MARK: - The roofline's yardsticks

/// The sum of x[0..<count], read once from start to end: how fast memory delivers data when every
/// byte is used once. Four vector accumulators, so the additions do not wait on each other.
func streamSum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    typealias V = SIMD8<Float>
    var s0 = V(), s1 = V(), s2 = V(), s3 = V()
    var i = 0
    while i + 32 <= count {
        let p = UnsafeRawPointer(x + i)
        s0 += p.loadUnaligned(as: V.self); s1 += p.loadUnaligned(fromByteOffset: 32, as: V.self)
        s2 += p.loadUnaligned(fromByteOffset: 64, as: V.self); s3 += p.loadUnaligned(fromByteOffset: 96, as: V.self)
        i += 32
    }
    var total = ((s0 + s1) + (s2 + s3)).sum()
    while i < count { total += x[i]; i += 1 }
    return total
}

/// y[i] = A[i, :]·x for the rows `rows` of A [m, k]: a matrix-vector product that reads A once, row
/// by row, with four vector accumulators per dot product. Every value of A is used for one multiply-add:
/// 2 flops per 4 bytes, an arithmetic intensity of about 0.5 flop/byte.
func matvecRows(_ rows: Range<Int>, k: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    typealias V = SIMD8<Float>
    let xs = UnsafeRawPointer(x)
    for i in rows {
        let row = UnsafeRawPointer(a + i * k)
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        var p = 0
        while p + 32 <= k {
            let o = p * 4
            s0 = s0.addingProduct(row.loadUnaligned(fromByteOffset: o, as: V.self), xs.loadUnaligned(fromByteOffset: o, as: V.self))
            s1 = s1.addingProduct(row.loadUnaligned(fromByteOffset: o + 32, as: V.self), xs.loadUnaligned(fromByteOffset: o + 32, as: V.self))
            s2 = s2.addingProduct(row.loadUnaligned(fromByteOffset: o + 64, as: V.self), xs.loadUnaligned(fromByteOffset: o + 64, as: V.self))
            s3 = s3.addingProduct(row.loadUnaligned(fromByteOffset: o + 96, as: V.self), xs.loadUnaligned(fromByteOffset: o + 96, as: V.self))
            p += 32
        }
        var total = ((s0 + s1) + (s2 + s3)).sum()
        while p < k { total += a[i * k + p] * x[p]; p += 1 }
        y[i] = total
    }
}
