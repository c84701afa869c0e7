// Convolution benchmark: GFLOP/s of `conv2dForward` + `conv2dBackward` (both gradients) on
// the bench UNet's convolutions (BenchModels.swift) at batch 64, 16×16 and 32×32 input,
// with 1 thread and with all threads.
//
// Prints CSV lines `name,size,threads,value,unit`; size is `CinxCout@HxW/k` (k = kernel size).
// Flops: 2·N·Cout·OH·OW·Cin·KH·KW forward, twice that backward (input and weight gradients).
// `conv_fwd` and `conv_bwd` time the passes alone, `conv` the two together; with
// CONV_BENCH_SPLIT=1 in the environment, `conv_dx` and `conv_dw` time the input gradient and the
// weight gradient alone (flops: 2·N·Cout·OH·OW·Cin·KH·KW each).
import Foundation
import Tensor

/// One benchmarked convolution of the bench UNet at batch 64 (3×3 with padding 1, or 1×1).
private struct ConvBenchShape {
    let cin: Int, cout: Int, size: Int, kernel: Int

    var geometry: Conv2dGeometry {
        Conv2dGeometry(batch: 64, inChannels: cin, height: size, width: size, outChannels: cout,
                       kernelH: kernel, kernelW: kernel, stride: 1, padding: kernel / 2)
    }
    var forwardFlops: Double {
        let g = geometry
        return 2.0 * Double(g.batch * g.outChannels * g.outHeight * g.outWidth * g.inChannels * g.kernelH * g.kernelW)
    }
}

/// The UNet's convolutions at input resolution `r` (stages at r, r/2, r/4).
private func convBenchShapes(resolution r: Int) -> [ConvBenchShape] {
    [ConvBenchShape(cin: 3, cout: 32, size: r, kernel: 3),        // stem
     ConvBenchShape(cin: 32, cout: 32, size: r, kernel: 3),       // s1 (twice)
     ConvBenchShape(cin: 32, cout: 64, size: r / 2, kernel: 3),   // s2 first conv
     ConvBenchShape(cin: 64, cout: 64, size: r / 2, kernel: 3),   // s2 second conv, u2 second conv
     ConvBenchShape(cin: 64, cout: 64, size: r / 4, kernel: 3),   // middle block (twice)
     ConvBenchShape(cin: 128, cout: 64, size: r / 2, kernel: 3),  // u2 first conv
     ConvBenchShape(cin: 96, cout: 32, size: r, kernel: 3),       // u1 first conv
     ConvBenchShape(cin: 32, cout: 3, size: r, kernel: 3),        // out
     ConvBenchShape(cin: 64, cout: 192, size: r / 4, kernel: 1),  // attention qkv
     ConvBenchShape(cin: 64, cout: 64, size: r / 4, kernel: 1)]   // attention projection
}

/// Benchmarks the convolution kernels; CSV lines per shape and thread count.
public func runConvBench(quick: Bool) {
    let runThreads = Parallel.threadCount  // bench's --threads (scoped by main.swift)
    let threadCounts = runThreads > 1 ? [1, runThreads] : [1]
    var rng = RandomGenerator(seed: 0x2545_F491_4F6C_DD1D)
    func random() -> Float { rng.uniform(in: -0.5...0.5) }
    // CONV_BENCH_FILTER=64x64@8x8 (say) runs only the shapes whose size contains it.
    let filter = ProcessInfo.processInfo.environment["CONV_BENCH_FILTER"] ?? ""
    // CONV_BENCH_SPLIT=1 also times the two gradients alone (`conv_dx`, `conv_dw`).
    let split = ProcessInfo.processInfo.environment["CONV_BENCH_SPLIT"] != nil
    for resolution in quick ? [16] : [16, 32] {
        var totals = [Int: (flops: Double, seconds: Double)]()
        for s in convBenchShapes(resolution: resolution) {
            let g = s.geometry
            let size = "\(s.cin)x\(s.cout)@\(s.size)x\(s.size)/\(s.kernel)"
            if !filter.isEmpty && !size.contains(filter) { continue }
            let x = (0..<(g.batch * g.inChannels * g.height * g.width)).map { _ in random() }
            let w = (0..<(g.outChannels * g.inChannels * g.kernelH * g.kernelW)).map { _ in random() }
            let dy = (0..<(g.batch * g.outChannels * g.outHeight * g.outWidth)).map { _ in random() }
            var y = [Float](repeating: 0, count: dy.count), dx = x, dw = w
            for threads in threadCounts {
                var fwd = 0.0, bwd = 0.0, dxTime = 0.0, dwTime = 0.0
                Parallel.withThreads(threads) { x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in dy.withUnsafeBufferPointer { pdy in
                    y.withUnsafeMutableBufferPointer { py in dx.withUnsafeMutableBufferPointer { pdx in
                        dw.withUnsafeMutableBufferPointer { pdw in
                            fwd = benchSeconds(quick: quick, targetFlops: 2e9, rounds: 3, flops: s.forwardFlops) {
                                conv2dForward(g, input: px.baseAddress!, weight: pw.baseAddress!, output: py.baseAddress!)
                            }
                            bwd = benchSeconds(quick: quick, targetFlops: 2e9, rounds: 3, flops: 2 * s.forwardFlops) {
                                conv2dBackward(g, input: px.baseAddress!, weight: pw.baseAddress!, gradOutput: pdy.baseAddress!,
                                               gradInput: pdx.baseAddress!, gradWeight: pdw.baseAddress!)
                            }
                            if split {
                                dxTime = benchSeconds(quick: quick, targetFlops: 2e9, rounds: 3, flops: s.forwardFlops) {
                                    conv2dBackward(g, input: px.baseAddress!, weight: pw.baseAddress!, gradOutput: pdy.baseAddress!,
                                                   gradInput: pdx.baseAddress!, gradWeight: nil)
                                }
                                dwTime = benchSeconds(quick: quick, targetFlops: 2e9, rounds: 3, flops: s.forwardFlops) {
                                    conv2dBackward(g, input: px.baseAddress!, weight: pw.baseAddress!, gradOutput: pdy.baseAddress!,
                                                   gradInput: nil, gradWeight: pdw.baseAddress!)
                                }
                            }
                        }
                    } }
                } } } }
                let gflops = { (flops: Double, seconds: Double) in String(format: "%.1f", flops / seconds / 1e9) }
                print("conv_fwd,\(size),\(threads),\(gflops(s.forwardFlops, fwd)),GFLOP/s")
                print("conv_bwd,\(size),\(threads),\(gflops(2 * s.forwardFlops, bwd)),GFLOP/s")
                print("conv,\(size),\(threads),\(gflops(3 * s.forwardFlops, fwd + bwd)),GFLOP/s")
                if split {
                    print("conv_dx,\(size),\(threads),\(gflops(s.forwardFlops, dxTime)),GFLOP/s")
                    print("conv_dw,\(size),\(threads),\(gflops(s.forwardFlops, dwTime)),GFLOP/s")
                }
                let total = totals[threads, default: (0, 0)]
                totals[threads] = (total.flops + 3 * s.forwardFlops, total.seconds + fwd + bwd)
            }
        }
        // All the shapes above, each once: the conv part of a training step's budget.
        for threads in threadCounts {
            guard let t = totals[threads] else { continue }  // no shape passed the filter
            print("conv_all,unet\(resolution),\(threads),\(String(format: "%.1f", t.flops / t.seconds / 1e9)),GFLOP/s")
            print("conv_all_ms,unet\(resolution),\(threads),\(String(format: "%.2f", t.seconds * 1e3)),ms")
        }
    }
}
