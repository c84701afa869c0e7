// swift-tools-version: 6.0
// Diffusion models from scratch, in Swift.
//
// Dependency arrows point down the stack only:
//   Chapters -> Diffusion / Datasets / Imaging -> NN -> Tensor
import PackageDescription

// Numeric code must be fast even in `swift test` (a debug build), so the library
// targets are always optimised with -O (never -Ounchecked: shape checks must stay).
// Without a CPU flag Swift emits SSE2 on x86-64 and a fused multiply-add becomes a
// libm call per lane, so on x86-64 we ask for AVX2 + FMA (Haswell, 2013, and later).
// We never use `native`: a binary copied to an older CPU would die with SIGILL.
#if arch(x86_64)
let cpuFlags = ["-target-cpu", "haswell"]
#else
let cpuFlags: [String] = []  // arm64: NEON and FMA are baseline.
#endif
let fast: [SwiftSetting] = [.unsafeFlags(["-O"] + cpuFlags)]

let package = Package(
    name: "DiffusionFromScratch",
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        .target(name: "Tensor", swiftSettings: fast),
        .target(name: "NN", dependencies: ["Tensor"], swiftSettings: fast),
        .target(name: "Imaging", dependencies: ["CLibPNG", "Tensor"], swiftSettings: fast),
        .executableTarget(name: "bench", dependencies: ["Tensor", "NN"], swiftSettings: fast),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Tensor"]),
    ],
    swiftLanguageModes: [.v5]
)
