// swift-tools-version: 6.0
// Diffusion models from scratch, in Swift.
//
// Dependency arrows point down the stack only:
//   Chapters -> ChapterKit -> Diffusion / Datasets / Imaging -> NN -> Tensor
// Chapters 1–7 also depend on the learner's module ExercisesNN, which their `--mine` runs.
import PackageDescription

// Numeric code must be fast even in `swift test` (a debug build), so the library
// targets are always optimised with -O (never -Ounchecked: shape checks must stay).
// Without a CPU flag Swift emits SSE2 on x86-64 and a fused multiply-add becomes a
// libm call per lane, so on x86-64 we ask for AVX2 + FMA (Haswell, 2013, and later).
// If the CPU that builds has AVX-512 (F, CD, BW, DQ, VL: Skylake-SP, Ice Lake, Zen 4, Zen 5…),
// we compile for it instead and set the AVX512 condition, which adds the matrix multiply's
// 16-float micro-kernel (Sources/Tensor/Kernels/Matmul.swift). We never use `native`, and we
// read the features of the machine that builds, so a binary never holds an instruction that
// machine lacks; to build for an older CPU, set DIFFUSION_CPU=haswell.
#if arch(x86_64)
import Foundation
#if os(macOS)
/// The CPU's extended feature names (leaf 7 of CPUID), lowercased.
func cpuFeatures() -> Set<String> {
    var size = 0
    guard sysctlbyname("machdep.cpu.leaf7_features", nil, &size, nil, 0) == 0, size > 0 else { return [] }
    var buffer = [CChar](repeating: 0, count: size)
    guard sysctlbyname("machdep.cpu.leaf7_features", &buffer, &size, nil, 0) == 0 else { return [] }
    return Set(String(cString: buffer).lowercased().split(separator: " ").map(String.init))
}
#else
/// The CPU's feature flags, from the first "flags" line of /proc/cpuinfo.
func cpuFeatures() -> Set<String> {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    return Set(line.split(separator: " ").map(String.init))
}
#endif
let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
let forced = ProcessInfo.processInfo.environment["DIFFUSION_CPU"]
let useAVX512 = forced == nil ? cpuFeatures().isSuperset(of: avx512) : forced == "skylake-avx512"
let cpuFlags = ["-target-cpu", forced ?? (useAVX512 ? "skylake-avx512" : "haswell")] + (useAVX512 ? ["-D", "AVX512"] : [])
#else
let cpuFlags: [String] = []  // arm64: NEON and FMA are baseline.
#endif
let fast: [SwiftSetting] = [.unsafeFlags(["-O"] + cpuFlags)]

/// Chapters that have exercises: each has a learner module `ExercisesNN` (exercises/ChapterNN),
/// its solutions `SolutionsNN` (solutions/ChapterNN) and a runner `checkNN`, which `swift test` and
/// `swift run progress` run each check in (a child process, so a crash or an endless loop is contained).
let exerciseChapters = ["00", "01", "02", "03", "04", "05", "06", "07", "08"]

let exerciseTargets: [Target] = exerciseChapters.flatMap { nn -> [Target] in [
    .target(name: "Exercises\(nn)", dependencies: ["Tensor", "NN", "ExerciseSupport"], path: "exercises/Chapter\(nn)"),
    .target(name: "Solutions\(nn)", dependencies: ["Tensor", "NN", "ExerciseSupport"], path: "solutions/Chapter\(nn)"),
    .executableTarget(name: "check\(nn)", dependencies: ["ExerciseChecks", "Diffusion", .target(name: "Exercises\(nn)")],
                      path: "Sources/ExerciseRunners/check\(nn)"),
] }

let package = Package(
    name: "DiffusionFromScratch",
    platforms: [.macOS(.v15)],  // Synchronization's Mutex (the convolution scratch pool) needs macOS 15
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .executable(name: "bench", targets: ["bench"]),
        .executable(name: "progress", targets: ["progress"]),
        .executable(name: "00-tensors", targets: ["00-tensors"]),
        .executable(name: "01-noise", targets: ["01-noise"]),
        .executable(name: "02-mlp", targets: ["02-mlp"]),
        .executable(name: "03-unet", targets: ["03-unet"]),
        .executable(name: "04-time", targets: ["04-time"]),
        .executable(name: "05-attention", targets: ["05-attention"]),
        .executable(name: "06-text", targets: ["06-text"]),
        .executable(name: "07-latent", targets: ["07-latent"]),
        .executable(name: "08-few-steps", targets: ["08-few-steps"]),
        .executable(name: "a-fast", targets: ["a-fast"]),
    ],
    dependencies: [
        // Command lines only (flags, help, validation): infrastructure, not the lesson.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        .systemLibrary(name: "CSupport"),  // glibc's mallopt (Linux only) and a prefetch hint
        .target(name: "Tensor", dependencies: ["CSupport"], swiftSettings: fast),
        .target(name: "NN", dependencies: ["Tensor"], swiftSettings: fast),
        .target(name: "Imaging", dependencies: ["CLibPNG", "Tensor"], swiftSettings: fast),
        .target(name: "Diffusion", dependencies: ["NN", "Tensor"], swiftSettings: fast),
        // The bench's models, a library so that the PyTorch parity tests (NNTests) run the same UNet.
        .target(name: "BenchModels", dependencies: ["Tensor", "NN"], swiftSettings: fast),
        .executableTarget(name: "bench", dependencies: ["Tensor", "NN", "BenchModels", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: fast),
        .target(name: "Datasets", dependencies: ["Tensor"], swiftSettings: fast),
        .target(name: "ChapterKit", dependencies: ["Imaging", "NN", "Datasets", "Diffusion", "ExerciseSupport",
                                                  .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "00-tensors", dependencies: ["ChapterKit", "Imaging", "Tensor", "NN"], path: "Chapters/00-Tensors",
                          exclude: ["README.md", "figures"]),
        .executableTarget(name: "01-noise", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "Tensor", "Exercises01"],
                          path: "Chapters/01-Noise", exclude: ["README.md", "figures"]),
        .executableTarget(name: "02-mlp", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "NN", "Tensor", "Exercises02"],
                          path: "Chapters/02-MLP", exclude: ["README.md", "figures"]),
        .executableTarget(name: "03-unet", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "NN", "Tensor", "Exercises03"],
                          path: "Chapters/03-UNet", exclude: ["README.md", "figures"]),
        .executableTarget(name: "04-time", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "NN", "Tensor", "Exercises04"],
                          path: "Chapters/04-Time", exclude: ["README.md", "figures"]),
        .executableTarget(name: "05-attention", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "NN", "Tensor", "Exercises05"],
                          path: "Chapters/05-Attention", exclude: ["README.md", "figures"]),
        .executableTarget(name: "06-text", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "NN", "Tensor", "Exercises06"],
                          path: "Chapters/06-Text", exclude: ["README.md", "figures"]),
        .executableTarget(name: "07-latent", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "NN", "Tensor", "Exercises07"],
                          path: "Chapters/07-Latent", exclude: ["README.md", "figures"]),
        .executableTarget(name: "08-few-steps", dependencies: ["ChapterKit", "Imaging", "Diffusion", "Datasets", "NN", "Tensor", "Exercises08"],
                          path: "Chapters/08-FewSteps", exclude: ["README.md", "figures"]),
        // Appendix A times its own kernels against the library's, so it is compiled like the library (-O, the CPU's vectors).
        .executableTarget(name: "a-fast", dependencies: ["ChapterKit", "Imaging", "Tensor"], path: "Chapters/A-Fast",
                          exclude: ["README.md", "figures"], swiftSettings: fast),
        .testTarget(name: "ChapterTests", dependencies: ["00-tensors", "01-noise", "02-mlp", "03-unet", "04-time", "05-attention", "06-text", "07-latent", "08-few-steps", "a-fast", "Imaging", "Datasets"]),
        .testTarget(name: "ChapterKitTests", dependencies: ["ChapterKit", "Diffusion", "NN", "Tensor"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensor", "Imaging"]),
        .target(name: "ExerciseSupport"),
        .target(name: "ExerciseChecks", dependencies: ["ExerciseSupport", "Diffusion", "Datasets", "Tensor"]),
        .executableTarget(name: "progress", dependencies: ["ExerciseChecks", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The learner's checks run in child processes: each chapter's runner `checkNN`, built beside the tests.
        .executableTarget(name: "harness-demo", dependencies: ["ExerciseChecks"], path: "Sources/ExerciseRunners/harness-demo"),
        .testTarget(name: "ExerciseTests", dependencies: ["ExerciseChecks", "harness-demo"] + exerciseChapters.map { .target(name: "check\($0)") }),
        .testTarget(name: "SolutionTests", dependencies: ["ExerciseChecks", "Diffusion"] + exerciseChapters.map { .target(name: "Solutions\($0)") }),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "BenchModels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Tensor"]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "Tensor"]),
    ] + exerciseTargets,
    swiftLanguageModes: [.v5]
)
