// What the appendix needs to know about the machine it runs on, and how it times a kernel: plumbing,
// nothing the lesson depends on.

import Dispatch
import Foundation

/// The CPU's name: "model name" in /proc/cpuinfo on Linux, `machdep.cpu.brand_string` on macOS;
/// "this machine" when neither says.
func cpuName() -> String {
    #if os(macOS)
    var size = 0
    if sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 1 {
        var buffer = [CChar](repeating: 0, count: size)
        if sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0) == 0 {
            let name = String(cString: buffer).trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { return name }
        }
    }
    #else
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
       let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
       let colon = line.firstIndex(of: ":") {
        let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if !name.isEmpty { return name }
    }
    #endif
    return "this machine"
}

/// Data cache sizes in bytes (level 1, 2, 3) as the system reports them for one core; nil where it
/// does not say.
func cacheSizes() -> [Int?] {
    #if os(macOS)
    func read(_ name: String) -> Int? {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        return sysctlbyname(name, &value, &size, nil, 0) == 0 && value > 0 ? Int(value) : nil
    }
    return [read("hw.l1dcachesize"), read("hw.l2cachesize"), read("hw.l3cachesize")]
    #elseif os(Linux)
    func read(_ name: Int32) -> Int? { let v = sysconf(name); return v > 0 ? v : nil }
    return [read(Int32(_SC_LEVEL1_DCACHE_SIZE)), read(Int32(_SC_LEVEL2_CACHE_SIZE)), read(Int32(_SC_LEVEL3_CACHE_SIZE))]
    #else
    return [nil, nil, nil]
    #endif
}

/// The system's load average over the last minute (runnable threads, averaged), if it says.
func loadAverage() -> Double? {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) >= 1 ? loads[0] : nil
}

/// "32 KB", "1 MB", "35.8 MB": a byte count for a sentence.
func bytesText(_ bytes: Int) -> String {
    let kb = Double(bytes) / 1024
    if kb < 1024 { return kb == kb.rounded() ? "\(Int(kb)) KB" : String(format: "%.1f KB", kb) }
    let mb = kb / 1024
    return mb == mb.rounded() ? "\(Int(mb)) MB" : String(format: "%.1f MB", mb)
}

/// Seconds per call of a timed kernel: the best and the median of its rounds.
struct Timing {
    let best: Double
    let median: Double
    /// GFLOP/s of `flops` per call at the best round's speed, and at the median's.
    func gflops(_ flops: Double) -> (best: Double, median: Double) { (flops / best / 1e9, flops / median / 1e9) }
}

/// Rounds per timing, and the least length of a round. Many short rounds rather than a few long ones: on a machine
/// shared with other programs, the best of them is more likely to be a stretch the kernel had a core to itself.
let timingRounds = 9, timingRoundSeconds = 0.1

/// Times `body`: one call to learn its length (and warm the caches), then `rounds` rounds of as many
/// calls as fill `minimumSeconds` (at least one). With `quick`, one round of one call.
func timeCalls(quick: Bool, rounds: Int = timingRounds, minimumSeconds: Double = timingRoundSeconds, _ body: () -> Void) -> Timing {
    func seconds(_ calls: Int) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(calls)
    }
    let first = seconds(1)
    if quick { let s = seconds(1); return Timing(best: s, median: s) }
    let calls = max(1, Int(minimumSeconds / max(first, 1e-9)))
    let times = (0..<max(1, rounds)).map { _ in seconds(calls) }.sorted()
    let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    return Timing(best: times[0], median: median)
}

/// Row-major Float storage aligned to a cache line, freed by the owner.
func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(1, count))
}

/// The largest |x[i] − y[i]| over `count` values.
func maxAbsDifference(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    var worst: Float = 0
    for i in 0..<count { worst = max(worst, abs(x[i] - y[i])) }
    return worst
}
