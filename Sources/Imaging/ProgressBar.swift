// A terminal progress bar for training and sampling loops.
//
//     let bar = ProgressBar(total: steps, label: "train")
//     for step in 1...steps {
//         let loss = trainStep()
//         bar.update(step: step, metrics: [("loss", loss)])
//     }
//     bar.finish()
//
// On a terminal it redraws one line in place ("\r"), at most 10 times a second:
//
//     train  420/1000 [############..................]  42% loss 0.0312 | 71.3 it/s | 0:08 left
//
// When stdout is not a terminal (a log file, CI) it prints a plain line every
// 10 % of the way or every 15 seconds, whichever comes first, so logs stay short
// and readable. The formatting is done by static functions that tests can call.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class ProgressBar {
    public let total: Int
    public let label: String
    /// Redraw in place (a terminal) or print periodic lines (a log).
    public let interactive: Bool
    public let barWidth: Int
    /// In log mode, print at least this often (seconds).
    public var logInterval: Double = 15

    private let start = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var lastLoggedTenth = 0
    private var lastStep = 0
    private var lastMetrics: [(String, Double)] = []
    private var lastLineLength = 0
    private var finished = false
    private let output: (String) -> Void

    /// - Parameters:
    ///   - interactive: nil (default) asks `isatty` whether stdout is a terminal.
    ///   - output: where the text goes; tests pass a closure that collects it.
    ///     The default writes through C stdio and flushes, so the bar stays in
    ///     order with `print` output (which is buffered when stdout is a pipe).
    public init(total: Int, label: String = "", interactive: Bool? = nil, barWidth: Int = 30,
                output: ((String) -> Void)? = nil) {
        self.total = max(0, total)
        self.label = label
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) != 0)
        self.barWidth = max(1, barWidth)
        self.output = output ?? { text in
            fputs(text, stdout)
            fflush(stdout)
        }
    }

    /// Seconds since the bar was created.
    public var elapsed: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Reports that `step` of `total` steps are done (1-based: step == total is
    /// the end), with optional metrics such as the loss.
    public func update(step: Int, metrics: [(String, Double)] = []) {
        lastStep = step
        lastMetrics = metrics
        let now = ContinuousClock.now
        if interactive {
            if let last = lastDraw, now - last < .milliseconds(100), step < total { return }
            lastDraw = now
            draw(inPlace: true)
        } else {
            let tenth = total > 0 ? step * 10 / total : 0
            let timeUp = lastDraw.map { now - $0 >= .seconds(logInterval) } ?? false
            if tenth > lastLoggedTenth || timeUp {
                lastLoggedTenth = max(lastLoggedTenth, tenth)
                lastDraw = now
                draw(inPlace: false)
            } else if lastDraw == nil {
                lastDraw = now  // start the clock for the time-based lines
            }
        }
    }

    /// Ends the bar: prints the final state (steps, total time, last metrics)
    /// and a newline. Calling it twice prints once.
    public func finish(metrics: [(String, Double)]? = nil) {
        guard !finished else { return }
        finished = true
        if let metrics { lastMetrics = metrics }
        let line = ProgressBar.summary(label: label, steps: lastStep, elapsed: elapsed, metrics: lastMetrics)
        emit(line, inPlace: interactive, final: true)
    }

    private func draw(inPlace: Bool) {
        let line = ProgressBar.line(label: label, step: lastStep, total: total, elapsed: elapsed,
                                    metrics: lastMetrics, barWidth: barWidth)
        emit(line, inPlace: inPlace, final: false)
    }

    private func emit(_ line: String, inPlace: Bool, final: Bool) {
        var out: String
        if inPlace {
            // Pad with spaces to wipe a longer previous line.
            let pad = max(0, lastLineLength - line.count)
            out = "\r" + line + String(repeating: " ", count: pad)
            lastLineLength = line.count
            if final { out += "\n" }
        } else {
            out = line + "\n"
        }
        output(out)
    }

    // MARK: - Formatting (pure functions)

    /// One status line:
    /// `label  step/total [####......]  42% name value ... | rate | time left`.
    public static func line(label: String, step: Int, total: Int, elapsed: Double,
                            metrics: [(String, Double)], barWidth: Int = 30) -> String {
        let fraction = total > 0 ? min(1, max(0, Double(step) / Double(total))) : 0
        let filled = Int((fraction * Double(barWidth)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
        let digits = String(total).count
        let stepText = String(repeating: " ", count: max(0, digits - String(step).count)) + "\(step)/\(total)"
        let percent = String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
        var parts = [(label.isEmpty ? "" : label + "  ") + "\(stepText) [\(bar)] \(percent)"]
        if !metrics.isEmpty {
            parts[0] += " " + metrics.map { "\($0.0) \(formatMetric($0.1))" }.joined(separator: " ")
        }
        let rate = elapsed > 0 ? Double(step) / elapsed : 0
        parts.append(formatRate(rate))
        let left = rate > 0 ? Double(total - step) / rate : .infinity
        parts.append(formatDuration(left) + " left")
        return parts.joined(separator: " | ")
    }

    /// The closing line: `label  done 1000 steps in 1:23 (12.0 it/s) loss 0.031`.
    public static func summary(label: String, steps: Int, elapsed: Double, metrics: [(String, Double)]) -> String {
        let rate = elapsed > 0 ? Double(steps) / elapsed : 0
        var s = (label.isEmpty ? "" : label + "  ") + "done \(steps) steps in \(formatDuration(elapsed)) (\(formatRate(rate)))"
        if !metrics.isEmpty {
            s += " " + metrics.map { "\($0.0) \(formatMetric($0.1))" }.joined(separator: " ")
        }
        return s
    }

    /// A duration as m:ss below an hour, h:mm:ss above, "--:--" when unknown.
    /// Seconds are rounded to the nearest whole second: 59.6 → "1:00",
    /// 3725 → "1:02:05".
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e7 else { return "--:--" }
        let s = Int(seconds.rounded())
        let h = s / 3600, m = (s % 3600) / 60, r = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, r) : String(format: "%d:%02d", m, r)
    }

    /// Steps per second as "12.3 it/s"; below one step per second the inverse,
    /// "2.50 s/it", which is easier to read for slow steps; "-- it/s" if unknown.
    public static func formatRate(_ stepsPerSecond: Double) -> String {
        guard stepsPerSecond.isFinite, stepsPerSecond > 0 else { return "-- it/s" }
        if stepsPerSecond >= 100 { return String(format: "%.0f it/s", stepsPerSecond) }
        if stepsPerSecond >= 1 { return String(format: "%.1f it/s", stepsPerSecond) }
        return String(format: "%.2f s/it", 1 / stepsPerSecond)
    }

    /// A metric with 4 significant digits: 0.031234 → "0.03123", 1234.56 → "1235",
    /// 0.00001234 → "1.234e-05".
    public static func formatMetric(_ value: Double) -> String {
        String(format: "%.4g", value)
    }
}
