// swift run -c release bench [--quick] [--only matmul|conv|models] [--threads N] [--width 256|512]
//
// Prints one CSV line per figure: name,size,threads,value,unit. The models are those of
// BenchModels.swift; each training step = forward, MSE on ε, backward, Adam (lr 1e-3);
// the median of 20 steps after 5 warm-up steps.

import ArgumentParser
import BenchModels
import Foundation
import NN
import Tensor

struct BenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Times the matrix multiply, the convolutions and the bench models' training steps. "
            + "Prints one CSV line per figure: name,size,threads,value,unit.")

    enum Section: String, CaseIterable, ExpressibleByArgument { case matmul, conv, models }

    @Flag(help: "Fewer shapes and repetitions: a smoke test in seconds.") var quick = false
    @Flag(help: "Instead of timing, profile 5 training steps of each bench model: time per kind of op, forward and backward.")
    var profile = false
    @Option(parsing: .unconditional, help: "Run one section only: matmul, conv or models.") var only: Section?
    @Option(parsing: .unconditional, help: "Threads for the model steps (the kernel sections measure 1 and all threads themselves).") var threads: Int?
    @Option(parsing: .unconditional, help: "Vector width of the matrix multiply for the conv and model sections: 256 or 512 (if built with AVX-512). Default: the widest. The matmul section measures every width.")
    var width: Int?

    func validate() throws {
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1…256, got \(threads)") }
        if profile, let only, only != .models {
            throw ValidationError("--profile profiles the models' training steps; it does not go with --only \(only.rawValue)")
        }
        if let width, !GemmPath.available.map(\.bits).contains(width) {
            throw ValidationError("--width \(width) is not available in this build (available: "
                                  + GemmPath.available.map { String($0.bits) }.joined(separator: ", ") + ")")
        }
    }
}

let options: BenchOptions
do {
    options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    if BenchOptions.exitCode(for: error) == .success { print(BenchOptions.fullMessage(for: error)); exit(0) }
    FileHandle.standardError.write(Data("bench: \(BenchOptions.message(for: error)) (see --help)\n".utf8))
    exit(2)
}
let quick = options.quick
let only = options.only?.rawValue
let threads = options.threads ?? Parallel.processorCount  // the model steps use this; the kernel sections measure 1 and all threads themselves

let path = GemmPath.available.first { $0.bits == options.width } ?? GemmPath.widest

// Which matrix-multiply paths this build has, and the machine's FMA peak for each: every GFLOP/s
// below reads best as a share of the peak of its width (fma_peak lines, 1 thread and all).
print("# paths compiled in: " + GemmPath.available.map(\.name).joined(separator: ", ") + "; conv and models run " + path.name)
print("name,size,threads,value,unit")
for p in GemmPath.available {
    for n in Set([1, threads]).sorted() {
        print("fma_peak,\(p.bits)-bit,\(n),\(String(format: "%.1f", FMAPeak.measure(p, threads: n, seconds: quick ? 0.02 : 0.2))),GFLOP/s")
    }
}
Parallel.withThreads(threads) {
    if options.profile {
        GemmPath.with(path) { runModelProfile(quick: quick) }
        return
    }
    if only == nil || only == "matmul" { runMatmulBench(quick: quick) }
    GemmPath.with(path) {
        if only == nil || only == "conv" { runConvBench(quick: quick) }
        if only == nil || only == "models" { runModelBench(quick: quick) }
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The bench models' stand-in schedule (only timing matters here): ᾱ_t = cos²(π/2 · t/999)·0.999 + 1e-4.
func benchAlphaBar(_ t: Int) -> Float {
    let c = Foundation.cos(Double.pi / 2 * Double(t) / 999)
    return Float(c * c * 0.999 + 1e-4)
}

/// Median milliseconds of a training step: x_t = √ᾱ·x0 + √(1−ᾱ)·ε, loss = MSE(model(x_t, t), ε).
func timeTrainingStep(name: String, parameters: [Tensor], sampleShape: [Int], batch: Int, steps: Int, warmup: Int,
                      model: (Tensor, [Float]) -> Tensor) {
    var rng = RandomGenerator(seed: 0)
    let adam = Adam(parameters, learningRate: 1e-3)
    let x0 = Tensor.randn([batch] + sampleShape, using: &rng)
    let perExample = sampleShape.reduce(1, *)
    var times: [Double] = []
    for step in 0..<(warmup + steps) {
        let start = DispatchTime.now().uptimeNanoseconds
        let t = (0..<batch).map { _ in rng.int(in: 0..<1000) }
        let noise = Tensor.randn(x0.shape, using: &rng)
        var a = [Float](repeating: 0, count: x0.count), s = a
        for b in 0..<batch {
            let ab = benchAlphaBar(t[b])
            for j in 0..<perExample { a[b * perExample + j] = ab.squareRoot(); s[b * perExample + j] = (1 - ab).squareRoot() }
        }
        let xt = Tensor(a, shape: x0.shape) * x0 + Tensor(s, shape: x0.shape) * noise
        for p in parameters { p.zeroGrad() }
        let loss = model(xt, t.map(Float.init)).mse(noise)
        loss.backward()
        adam.step()
        if step >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
    }
    print("train_step,\(name),\(Parallel.threadCount),\(String(format: "%.2f", median(times))),ms")
    print("params,\(name),\(Parallel.threadCount),\(parameters.reduce(0) { $0 + $1.count }),count")
}

/// `steps` training steps as in `timeTrainingStep`, profiled after `warmup` unprofiled ones.
func profileTrainingStep(parameters: [Tensor], sampleShape: [Int], batch: Int, steps: Int, warmup: Int,
                         model: (Tensor, [Float]) -> Tensor) -> Profiler.Table {
    var rng = RandomGenerator(seed: 0)
    let adam = Adam(parameters, learningRate: 1e-3)
    let x0 = Tensor.randn([batch] + sampleShape, using: &rng)
    let perExample = sampleShape.reduce(1, *)
    func step() {
        let (xt, noise, t) = Profiler.section("batch (x_t, ε, t)") { () -> (Tensor, Tensor, [Int]) in
            let t = (0..<batch).map { _ in rng.int(in: 0..<1000) }
            let noise = withoutGradients { Tensor.randn(x0.shape, using: &rng) }
            var a = [Float](repeating: 0, count: x0.count), s = a
            for b in 0..<batch {
                let ab = benchAlphaBar(t[b])
                for j in 0..<perExample { a[b * perExample + j] = ab.squareRoot(); s[b * perExample + j] = (1 - ab).squareRoot() }
            }
            return (withoutGradients { Tensor(a, shape: x0.shape) * x0 + Tensor(s, shape: x0.shape) * noise }, noise, t)
        }
        Profiler.section("optimizer (zero grad)") { for p in parameters { p.zeroGrad() } }
        let loss = model(xt, t.map(Float.init)).mse(noise)
        loss.backward()
        Profiler.section("optimizer (Adam)") { adam.step() }
    }
    for _ in 0..<warmup { step() }
    return Profiler.profile { for _ in 0..<steps { step() } }
}

/// `bench --profile`: for each bench model, where one training step's time goes, by kind of op.
func runModelProfile(quick: Bool) {
    var rng = RandomGenerator(seed: 1)
    let steps = quick ? 2 : 5, warmup = quick ? 1 : 3
    let mlp = BenchMLP(using: &rng)
    var tables = [("mlp", profileTrainingStep(parameters: mlp.parameters, sampleShape: [2], batch: 256, steps: steps, warmup: warmup) { mlp($0, $1) })]
    for size in quick ? [16] : [16, 32] {
        let unet = BenchUNet(using: &rng)
        tables.append(("unet\(size)", profileTrainingStep(parameters: unet.parameters, sampleShape: [3, size, size], batch: 64,
                                                          steps: steps, warmup: warmup) { unet($0, $1) }))
    }
    for (name, table) in tables { printProfile(name, table, steps: steps) }
}

/// The table for one model: ms per step by kind (forward, backward, other), share of the step,
/// then the products' time wherever they ran, and the ten costliest ops.
func printProfile(_ name: String, _ table: Profiler.Table, steps: Int) {
    let perStep = 1000 / Double(steps)
    let wall = table.wallSeconds * perStep
    func ms(_ s: Double) -> String { s == 0 ? "" : String(format: "%.2f", s * perStep) }
    func pad(_ s: String, _ n: Int, right: Bool = true) -> String {
        s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
    print("\n\(name): one training step, \(String(format: "%.1f", wall)) ms (mean of \(steps) profiled steps, \(Parallel.threadCount) threads)")
    print(pad("kind", 26, right: false) + pad("forward ms", 12) + pad("backward ms", 13) + pad("other ms", 10) + pad("total ms", 10) + pad("share", 8))
    let rows = table.byKind()
    var accounted = 0.0
    for r in rows {
        let total = r.forward + r.backward + r.other
        accounted += total
        print(pad(r.kind, 26, right: false) + pad(ms(r.forward), 12) + pad(ms(r.backward), 13) + pad(ms(r.other), 10)
              + pad(ms(total), 10) + pad(String(format: "%.1f %%", 100 * total / table.wallSeconds), 8))
    }
    let rest = table.wallSeconds - accounted
    print(pad("(not inside any op)", 26, right: false) + pad("", 35) + pad(ms(rest), 10) + pad(String(format: "%.1f %%", 100 * rest / table.wallSeconds), 8))
    print("inside the ops, wherever called: " + table.kernelSeconds.sorted { $0.value > $1.value }.map {
        "\($0.key) " + String(format: "%.2f ms (%.1f %%)", $0.value * perStep, 100 * $0.value / table.wallSeconds)
    }.joined(separator: ", "))
    let costliest = table.seconds.sorted { $0.value > $1.value }.prefix(10)
    print("costliest ops: " + costliest.map { "\($0.key.op) \($0.key.phase.rawValue)\($0.key.kind == $0.key.op ? "" : " (\($0.key.kind))") "
                                              + String(format: "%.2f ms", $0.value * perStep) }.joined(separator: ", "))
}

func runModelBench(quick: Bool) {
    var rng = RandomGenerator(seed: 1)
    let steps = quick ? 3 : 20, warmup = quick ? 1 : 5
    let mlp = BenchMLP(using: &rng)
    guard mlp.parameterCount == 37_762 else { fatalError("bench mlp has \(mlp.parameterCount) parameters, expected 37,762") }
    timeTrainingStep(name: "mlp", parameters: mlp.parameters, sampleShape: [2], batch: 256, steps: steps, warmup: warmup) { mlp($0, $1) }
    for size in quick ? [16] : [16, 32] {
        let unet = BenchUNet(using: &rng)
        guard unet.parameterCount == 368_739 else { fatalError("bench unet has \(unet.parameterCount) parameters, expected 368,739") }
        timeTrainingStep(name: "unet\(size)", parameters: unet.parameters, sampleShape: [3, size, size], batch: 64,
                         steps: steps, warmup: warmup) { unet($0, $1) }
    }
}
