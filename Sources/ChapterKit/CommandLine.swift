// The command line every chapter shares, declared with swift-argument-parser: the common flags as
// one option group, each chapter's own flags as typed properties beside their help and default,
// validated once with a message that names the flag and its allowed range.
//
// A chapter declares
//
//     struct Options: ChapterCommand {
//         static let configuration = CommandConfiguration(commandName: "03-unet", abstract: "…")
//         @OptionGroup var common: CommonOptions
//         @OptionGroup var training: TrainingFlags
//         @Option(parsing: .unconditional, help: "Training steps (default 1500; 40 with --quick).") var trainSteps: Int?
//         func validate() throws { try Bounds.check(trainSteps, "--train-steps", in: Bounds.trainSteps) }
//     }
//     let options = Options.parseOrExit()
//
// and reads `options.common.quick`, `options.trainSteps ?? (quick ? 40 : 1500)` and so on. Bad
// usage ends in one line on stderr naming the flag, with exit status 2; `--help` prints the flags.

import ArgumentParser
import Diffusion
import Foundation

/// The flags every chapter takes: `--quick`, `--seed`, `--out`.
public struct CommonOptions: ParsableArguments {
    @Flag(help: "A tiny run that finishes in seconds (what the tests use).")
    public var quick = false

    @Option(parsing: .unconditional, help: "Random seed; the same seed gives the same run.")
    public var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Where report.md, the figures and the cached weights go (default: output/<chapter>).",
                               valueName: "dir"))
    public var out: String?

    public init() {}

    public func validate() throws {
        if let out, out.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--out needs a folder name, got an empty one")
        }
    }

    /// The output folder: `--out`, or `output/<chapter>`.
    public func directory(for chapter: String) -> String { out ?? "output/\(chapter)" }
}

/// The flags of a chapter that trains and compares: `--retrain`, `--ablate`.
public struct TrainingFlags: ParsableArguments {
    @Flag(help: "Train even if weights for this recipe are cached in the output folder.")
    public var retrain = false

    @Flag(help: "Also run the chapter's comparisons (more trainings, cached like the main one).")
    public var ablate = false

    public init() {}
}

/// A chapter's command line: its options and `parseOrExit()`.
public protocol ChapterCommand: ParsableCommand {
    var common: CommonOptions { get }
}

extension ChapterCommand {
    /// The chapter's name, e.g. "03-unet".
    public static var chapter: String { configuration.commandName ?? "chapter" }

    /// Parses `CommandLine.arguments`. `--help` prints the flags and exits 0; anything wrong is one
    /// line on stderr naming the flag (`03-unet: --eta must be in 0…1, got 1.5`), exit status 2.
    public static func parseOrExit() -> Self {
        parseOrExit(Array(CommandLine.arguments.dropFirst()))
    }

    public static func parseOrExit(_ arguments: [String]) -> Self {
        do {
            return try parse(arguments)
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
            standardError("\(chapter): \(message) (see --help)")
            Foundation.exit(2)
        }
    }

    /// The output folder: `--out`, or `output/<chapter>`.
    public var directory: String { common.directory(for: Self.chapter) }

    /// Ends the run before any notebook exists: one line on stderr naming what is wrong, exit status 1.
    public static func fail(_ message: String) -> Never {
        standardError("\(chapter): \(message)")
        Foundation.exit(1)
    }
}

/// Allowed ranges of the chapters' numeric flags, and the checks that name the flag when a value
/// is outside. Sizes are bounded so that no product of them (batch × channels × pixels, steps ×
/// batch) can overflow an Int or ask for more memory than a laptop has.
public enum Bounds {
    public static let trainSteps = 1...1_000_000
    public static let samplingSteps = 1...1000
    public static let batch = 1...1024
    public static let channels = 8...256
    public static let samples = 1...10_000
    public static let width = 1...4096
    public static let depth = 1...64
    public static let heads = 1...64

    /// `value` (if given) must lie in `range`.
    public static func check(_ value: Int?, _ flag: String, in range: ClosedRange<Int>) throws {
        guard let value else { return }
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be in \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
    }

    /// `value` (if given) must be finite and lie in `range`.
    public static func check(_ value: Float?, _ flag: String, in range: ClosedRange<Float>) throws {
        guard let value else { return }
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(flag) must be a number in \(format(range.lowerBound))…\(format(range.upperBound)), got \(value)")
        }
    }

    /// `value` (if given) must be finite and at least `lower`, below `upper` (a half-open range, e.g. EMA decay in [0, 1)).
    public static func check(_ value: Float?, _ flag: String, in range: Range<Float>) throws {
        guard let value else { return }
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(flag) must be a number in [\(format(range.lowerBound)), \(format(range.upperBound))), got \(value)")
        }
    }

    /// The base width of a UNet: in `channels` and a multiple of 8 (GroupNorm(8) splits it).
    public static func checkChannels(_ value: Int?, _ flag: String = "--channels") throws {
        try check(value, flag, in: channels)
        if let value, value % 8 != 0 {
            throw ValidationError("\(flag) must be a multiple of 8 (GroupNorm(8) splits it), got \(value)")
        }
    }

    /// A learning rate: positive and finite (a rate so large that training diverges is allowed: the
    /// trainer stops with a message at the first non-finite loss).
    public static func checkLearningRate(_ value: Float?, _ flag: String = "--lr") throws {
        guard let value else { return }
        guard value.isFinite, value > 0 else {
            throw ValidationError("\(flag) must be a positive finite number, got \(value)")
        }
    }

    static func format(_ v: Float) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}

/// Writes one line to standard error.
public func standardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// The defaults of a chapter that trains a UNet on images (chapters 3–6), for `ImageModelOptions`.
public protocol ImageModelDefaults {
    /// Training steps of a full run (a `--quick` run takes 40).
    static var trainSteps: Int { get }
    /// Sampler steps of a full run (a `--quick` run takes 10).
    static var samplingSteps: Int { get }
    /// Samples drawn for the chapter's measures in a full run, and in a `--quick` one.
    static var samples: (full: Int, quick: Int) { get }
    /// What the chapter's samples are drawn for (the help of `--samples`).
    static var samplesHelp: String { get }
}

/// The flags every image chapter shares: the UNet's width, how it is trained, how it is sampled.
/// Each chapter fills in its own defaults through `D`, so the help shows the chapter's numbers.
public struct ImageModelOptions<D: ImageModelDefaults>: ParsableArguments {
    @Option(parsing: .unconditional, help: "Training steps (default \(D.trainSteps); 40 with --quick).") public var trainSteps: Int?
    @Option(parsing: .unconditional, help: "Base width c of the UNet, a multiple of 8 (default 32; 8 with --quick).") public var channels: Int?
    @Option(parsing: .unconditional, help: "Training batch size (default 64; 16 with --quick).") public var batch: Int?
    @Option(parsing: .unconditional, help: "Peak learning rate of Adam.") public var lr: Float = 0.002
    @Option(parsing: .unconditional, help: "\(D.samplesHelp) (default \(D.samples.full); \(D.samples.quick) with --quick).") public var samples: Int?
    @Option(parsing: .unconditional, help: "DDIM's η: 1 ancestral (fresh noise each step), 0 deterministic.") public var eta: Float = 1
    @Option(parsing: .unconditional, help: "Sampler steps (default \(D.samplingSteps); 10 with --quick).") public var samplingSteps: Int?

    public init() {}

    public func validate() throws {
        try Bounds.check(trainSteps, "--train-steps", in: Bounds.trainSteps)
        try Bounds.checkChannels(channels)
        try Bounds.check(batch, "--batch", in: Bounds.batch)
        try Bounds.checkLearningRate(lr)
        try Bounds.check(samples, "--samples", in: Bounds.samples)
        try Bounds.check(eta, "--eta", in: 0...1)
        try Bounds.check(samplingSteps, "--sampling-steps", in: Bounds.samplingSteps)
    }

    public func channels(quick: Bool) -> Int { channels ?? (quick ? 8 : 32) }
    public func batch(quick: Bool) -> Int { batch ?? (quick ? 16 : 64) }
    public func sampleCount(quick: Bool) -> Int { samples ?? (quick ? D.samples.quick : D.samples.full) }

    /// The trainer's options: these steps and learning rate, EMA 0.999, predicting `target`.
    public func training(quick: Bool, target: PredictionTarget = .epsilon) -> TrainingOptions {
        TrainingOptions(steps: trainSteps ?? (quick ? 40 : D.trainSteps), learningRate: lr, emaDecay: 0.999, target: target)
    }

    public func sampler(quick: Bool) -> Sampler { Sampler(eta: eta, steps: samplingSteps ?? (quick ? 10 : D.samplingSteps)) }
}
