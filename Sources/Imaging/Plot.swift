// Scatter and line plots rendered straight to an Image: enough of matplotlib
// for the course's figures (2-D data vs samples, loss curves) without leaving
// Swift. Axes get "nice" ticks (1, 2 or 5 times a power of ten, Heckbert's
// "Nice numbers for graph labels", Graphics Gems, 1990), labelled with as
// many decimals as the tick step needs; the y axis can be logarithmic.
//
// A plot is a value: add series, then `render()` or `writePNG(to:)`.
//
//     var plot = Plot(title: "Two moons: data vs samples", xLabel: "x", yLabel: "y")
//     plot.scatter("data", x: dataX, y: dataY)
//     plot.scatter("samples", x: sampleX, y: sampleY)
//     try plot.writePNG(to: "output/01/samples.png")
import Foundation

/// A 2-D plot with any number of scatter and line series.
public struct Plot {
    public enum Style: Equatable {
        /// A filled disc of this radius (pixels) at every point.
        case points(radius: Int)
        /// Consecutive points joined by straight lines this many pixels thick;
        /// a non-finite value (or a value ≤ 0 on a log axis) breaks the line.
        case line(thickness: Int)
    }

    public struct Series {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var color: Color
        public var style: Style
        public init(name: String, x: [Double], y: [Double], color: Color, style: Style) {
            if x.count != y.count {
                fatalError("Plot.Series \"\(name)\": \(x.count) x values but \(y.count) y values")
            }
            self.name = name; self.x = x; self.y = y; self.color = color; self.style = style
        }
    }

    public enum LegendPosition: Equatable {
        /// The corner of the plot area that covers the fewest points.
        case automatic
        case topRight, topLeft, bottomRight, bottomLeft
        case hidden
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var width: Int
    public var height: Int
    /// Logarithmic y axis (base 10); points with y ≤ 0 are left out.
    public var logY: Bool
    /// Axis ranges; nil means "fit the data, extended to the nearest ticks".
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    public var legend: LegendPosition
    /// Font scale of tick labels, axis labels and legend (the title is one larger).
    public var textScale: Int
    public var background: Color
    public var foreground: Color
    public private(set) var series: [Series] = []

    public init(title: String = "", xLabel: String = "", yLabel: String = "",
                width: Int = 640, height: Int = 480, logY: Bool = false,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                legend: LegendPosition = .automatic, textScale: Int = 2,
                background: Color = .white, foreground: Color = Color(30, 30, 30)) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.width = width; self.height = height; self.logY = logY
        self.xRange = xRange; self.yRange = yRange; self.legend = legend
        self.textScale = max(1, textScale)
        self.background = background; self.foreground = foreground
    }

    /// The colour the next series gets when none is given.
    var nextColor: Color { Color.palette[series.count % Color.palette.count] }

    /// Adds a scatter series (a disc at every (x[i], y[i])).
    public mutating func scatter<T: BinaryFloatingPoint>(_ name: String, x: [T], y: [T],
                                                         color: Color? = nil, radius: Int = 2) {
        series.append(Series(name: name, x: x.map { Double($0) }, y: y.map { Double($0) },
                             color: color ?? nextColor, style: .points(radius: radius)))
    }

    /// Adds a scatter series from (x, y) pairs.
    public mutating func scatter<T: BinaryFloatingPoint>(_ name: String, points: [(T, T)],
                                                         color: Color? = nil, radius: Int = 2) {
        scatter(name, x: points.map(\.0), y: points.map(\.1), color: color, radius: radius)
    }

    /// Adds a line series through (x[i], y[i]) in order.
    public mutating func line<T: BinaryFloatingPoint>(_ name: String, x: [T], y: [T],
                                                      color: Color? = nil, thickness: Int = 2) {
        series.append(Series(name: name, x: x.map { Double($0) }, y: y.map { Double($0) },
                             color: color ?? nextColor, style: .line(thickness: thickness)))
    }

    /// Adds a line series with x = 0, 1, 2, ... (e.g. a loss per step).
    public mutating func line<T: BinaryFloatingPoint>(_ name: String, y: [T],
                                                      color: Color? = nil, thickness: Int = 2) {
        line(name, x: (0..<y.count).map { Double($0) }, y: y.map { Double($0) },
             color: color, thickness: thickness)
    }

    /// Adds a prepared series.
    public mutating func add(_ s: Series) { series.append(s) }

    /// Renders and writes the plot as a PNG (parent directories created).
    public func writePNG(to path: String) throws {
        try render().writePNG(to: path)
    }

    // MARK: - Ticks

    /// "Nice" tick values covering lower...upper: the step is 1, 2 or 5 times a
    /// power of ten, chosen so that about `count` ticks span the range, and the
    /// first and last ticks enclose it (Heckbert's loose labelling). Ticks are
    /// computed as integer × power of ten, so 0.06 prints as 0.06, not 0.060000000000000005.
    public static func niceTicks(lower: Double, upper: Double, count: Int = 6) -> [Double] {
        var lo = lower, hi = upper
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if lo > hi { swap(&lo, &hi) }
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.5
            lo -= pad; hi += pad
        }
        let range = niceNumber(hi - lo, round: false)
        let step = niceNumber(range.value / Double(max(1, count - 1)), round: true)
        let first = Int((lo / step.value).rounded(.down))
        let last = Int((hi / step.value).rounded(.up))
        return (first...last).map { step.scaled($0) }
    }

    /// Ticks for a logarithmic axis covering lower...upper (both > 0): every
    /// power of ten from the one at or below `lower` to the one at or above
    /// `upper`; when that is at most two decades, also 2 and 5 times each.
    public static func logTicks(lower: Double, upper: Double) -> [Double] {
        var lo = lower, hi = upper
        if !(lo > 0) || !lo.isFinite { lo = 1 }
        if !(hi > 0) || !hi.isFinite { hi = lo * 10 }
        if lo > hi { swap(&lo, &hi) }
        let e0 = Int(log10(lo).rounded(.down))
        var e1 = Int(log10(hi).rounded(.up))
        if e1 == e0 { e1 += 1 }
        var ticks: [Double] = []
        for e in e0...e1 {
            ticks.append(NiceNumber(mantissa: 1, exponent: e).value)
            if e1 - e0 <= 2 && e < e1 {
                ticks.append(NiceNumber(mantissa: 2, exponent: e).value)
                ticks.append(NiceNumber(mantissa: 5, exponent: e).value)
            }
        }
        return ticks
    }

    /// The label of a tick on a linear axis: as many decimals as the step
    /// needs (step 0.2 → "0.4" and "0.0", step 50 → "150"), scientific from 1e6.
    public static func tickLabel(_ value: Double, step: Double) -> String {
        let value = value == 0 ? 0 : value  // no "-0.0"
        if abs(value) >= 1e6 || abs(step) < 1e-5 { return scientific(value) }
        let decimals = max(0, -Int((log10(abs(step)) + 1e-9).rounded(.down)))
        return String(format: "%.\(decimals)f", value)
    }

    /// The label of a tick on a log axis: plain decimals between 1e-4 and 1e5
    /// ("0.002", "500"), otherwise "1e-6", "2e7".
    public static func logTickLabel(_ value: Double) -> String {
        guard value > 0, value.isFinite else { return "?" }
        if value >= 1e-4 && value < 1e6 {
            let decimals = max(0, -Int((log10(value) + 1e-9).rounded(.down)))
            return String(format: "%.\(decimals)f", value)
        }
        return scientific(value)
    }

    /// "2e-5", "1.5e7": mantissa with up to 2 significant digits, no "+" or zero padding.
    static func scientific(_ value: Double) -> String {
        var e = Int(log10(abs(value)).rounded(.down))
        var m = value / pow(10, Double(e))
        m = (m * 10).rounded() / 10
        if abs(m) >= 10 { m /= 10; e += 1 }  // log10 can land just below an integer
        if abs(m) < 1 { m *= 10; e -= 1 }
        let mantissa = m == m.rounded() ? String(Int(m)) : String(format: "%.1f", m)
        return "\(mantissa)e\(e)"
    }

    /// A number mantissa × 10^exponent with a small integer mantissa.
    struct NiceNumber {
        var mantissa: Int
        var exponent: Int
        var value: Double { scaled(1) }
        /// i × mantissa × 10^exponent, computed with one correctly rounded
        /// operation on exact integers, so it is the Double nearest the decimal.
        func scaled(_ i: Int) -> Double {
            let n = Double(i * mantissa)
            return exponent >= 0 ? n * pow(10, Double(exponent)) : n / pow(10, Double(-exponent))
        }
    }

    /// Heckbert's nice number: 1, 2, 5 or 10 times a power of ten near x
    /// (rounded to the nearest when `round`, else the next one up).
    static func niceNumber(_ x: Double, round: Bool) -> NiceNumber {
        var e = Int(log10(x).rounded(.down))
        var f = x / pow(10, Double(e))  // 1 <= f < 10, up to log10's rounding:
        if f >= 10 { f /= 10; e += 1 }
        if f < 1 { f *= 10; e -= 1 }
        let m: Int
        if round {
            m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        } else {
            m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        }
        return m == 10 ? NiceNumber(mantissa: 1, exponent: e + 1) : NiceNumber(mantissa: m, exponent: e)
    }

    // MARK: - Rendering

    /// The data range of one axis over all series (finite values; positive only
    /// for a log axis).
    private func dataRange(_ values: (Series) -> [Double], positiveOnly: Bool) -> (Double, Double)? {
        var lo = Double.infinity, hi = -Double.infinity
        for s in series {
            for v in values(s) where v.isFinite && (!positiveOnly || v > 0) {
                lo = min(lo, v); hi = max(hi, v)
            }
        }
        return lo <= hi ? (lo, hi) : nil
    }

    /// Renders the plot as an RGB image of `width` × `height` pixels.
    public func render() -> Image {
        var image = Image(width: width, height: height, channels: 3, color: background)
        let ts = textScale
        let textH = BitmapFont.height(scale: ts)
        let gridColor = Color(226, 226, 226)
        let axisColor = Color(90, 90, 90)

        // Axis ranges and ticks.
        let xData = xRange.map { ($0.lowerBound, $0.upperBound) } ?? dataRange({ $0.x }, positiveOnly: false) ?? (0, 1)
        let xTicks = Plot.niceTicks(lower: xData.0, upper: xData.1)
        let xLo = xRange?.lowerBound ?? xTicks.first!, xHi = xRange?.upperBound ?? xTicks.last!
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        let yTicks: [Double], yLo: Double, yHi: Double, yStep: Double
        if logY {
            let yData = yRange.map { ($0.lowerBound, $0.upperBound) } ?? dataRange({ $0.y }, positiveOnly: true) ?? (1, 10)
            yTicks = Plot.logTicks(lower: yData.0, upper: yData.1)
            yLo = log10(yRange?.lowerBound ?? yTicks.first!)
            yHi = log10(yRange?.upperBound ?? yTicks.last!)
            yStep = 1
        } else {
            let yData = yRange.map { ($0.lowerBound, $0.upperBound) } ?? dataRange({ $0.y }, positiveOnly: false) ?? (0, 1)
            yTicks = Plot.niceTicks(lower: yData.0, upper: yData.1)
            yLo = yRange?.lowerBound ?? yTicks.first!
            yHi = yRange?.upperBound ?? yTicks.last!
            yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        }
        let visibleYTicks = yTicks.filter { v in
            let t = logY ? log10(v) : v
            return t >= yLo - 1e-9 * abs(yHi - yLo) && t <= yHi + 1e-9 * abs(yHi - yLo)
        }
        let visibleXTicks = xTicks.filter { $0 >= xLo - 1e-9 * abs(xHi - xLo) && $0 <= xHi + 1e-9 * abs(xHi - xLo) }
        let yLabels = visibleYTicks.map { logY ? Plot.logTickLabel($0) : Plot.tickLabel($0, step: yStep) }
        let xLabels = visibleXTicks.map { Plot.tickLabel($0, step: xStep) }

        // Margins around the plot area.
        var titleScale = ts + 1
        while titleScale > 1 && BitmapFont.width(of: title, scale: titleScale) > width - 20 { titleScale -= 1 }
        let top = (title.isEmpty ? 0 : BitmapFont.height(scale: titleScale) + 12) + 12
        let yLabelWidth = yLabels.map { BitmapFont.width(of: $0, scale: ts) }.max() ?? 0
        let left = 10 + (yLabel.isEmpty ? 0 : textH + 10) + yLabelWidth + 10
        let bottom = 8 + textH + 8 + (xLabel.isEmpty ? 0 : textH + 10)
        let lastXLabelWidth = xLabels.last.map { BitmapFont.width(of: $0, scale: ts) } ?? 0
        let right = max(20, lastXLabelWidth / 2 + 6)
        let area = (x: left, y: top, w: max(10, width - left - right), h: max(10, height - top - bottom))

        // Data coordinates -> pixel coordinates (Double, not yet rounded).
        func px(_ x: Double) -> Double {
            Double(area.x) + (x - xLo) / (xHi - xLo) * Double(area.w - 1)
        }
        func py(_ y: Double) -> Double {
            let t = logY ? log10(y) : y
            return Double(area.y + area.h - 1) - (t - yLo) / (yHi - yLo) * Double(area.h - 1)
        }

        // Grid lines and tick labels.
        for (v, label) in zip(visibleXTicks, xLabels) {
            let x = Int(px(v).rounded())
            image.fillRect(x: x, y: area.y, width: 1, height: area.h, gridColor)
            image.fillRect(x: x, y: area.y + area.h, width: 1, height: 5, axisColor)
            let w = BitmapFont.width(of: label, scale: ts)
            image.drawText(label, x: x - w / 2, y: area.y + area.h + 8, scale: ts, color: foreground)
        }
        for (v, label) in zip(visibleYTicks, yLabels) {
            let y = Int(py(v).rounded())
            image.fillRect(x: area.x, y: y, width: area.w, height: 1, gridColor)
            image.fillRect(x: area.x - 5, y: y, width: 5, height: 1, axisColor)
            let w = BitmapFont.width(of: label, scale: ts)
            image.drawText(label, x: area.x - 8 - w, y: y - textH / 2, scale: ts, color: foreground)
        }

        // Series, drawn into an image of the plot area so nothing spills over.
        var plotArea = Image(width: area.w, height: area.h, channels: 3, color: background)
        let gridOnly = image.cropped(x: area.x, y: area.y, width: area.w, height: area.h)
        plotArea.paste(gridOnly, x: 0, y: 0)
        for s in series {
            switch s.style {
            case .points(let radius):
                for (x, y) in zip(s.x, s.y) where x.isFinite && y.isFinite && (!logY || y > 0) {
                    let cx = px(x) - Double(area.x), cy = py(y) - Double(area.y)
                    guard cx > -10, cy > -10, cx < Double(area.w + 10), cy < Double(area.h + 10) else { continue }
                    plotArea.fillCircle(cx: Int(cx.rounded()), cy: Int(cy.rounded()), radius: radius, s.color)
                }
            case .line(let thickness):
                var previous: (Double, Double)?
                for (x, y) in zip(s.x, s.y) {
                    guard x.isFinite, y.isFinite, !logY || y > 0 else { previous = nil; continue }
                    let p = (px(x) - Double(area.x), py(y) - Double(area.y))
                    if let q = previous,
                       let seg = clipSegment(q, p, width: Double(area.w), height: Double(area.h)) {
                        plotArea.drawLine(x0: Int(seg.0.0.rounded()), y0: Int(seg.0.1.rounded()),
                                          x1: Int(seg.1.0.rounded()), y1: Int(seg.1.1.rounded()),
                                          s.color, thickness: thickness)
                    } else if previous == nil, s.x.count == 1 {
                        plotArea.fillCircle(cx: Int(p.0.rounded()), cy: Int(p.1.rounded()), radius: thickness, s.color)
                    }
                    previous = p
                }
            }
        }
        image.paste(plotArea, x: area.x, y: area.y)
        image.strokeRect(x: area.x - 1, y: area.y - 1, width: area.w + 2, height: area.h + 2, axisColor)

        // Title and axis labels.
        if !title.isEmpty {
            let w = BitmapFont.width(of: title, scale: titleScale)
            image.drawText(title, x: max(0, (width - w) / 2), y: 12, scale: titleScale, color: foreground)
        }
        if !xLabel.isEmpty {
            let w = BitmapFont.width(of: xLabel, scale: ts)
            image.drawText(xLabel, x: area.x + (area.w - w) / 2, y: height - 8 - textH, scale: ts, color: foreground)
        }
        if !yLabel.isEmpty {
            let w = BitmapFont.width(of: yLabel, scale: ts)
            image.drawText(yLabel, x: 10, y: area.y + (area.h - w) / 2, scale: ts, color: foreground, vertical: true)
        }

        drawLegend(on: &image, area: area, px: px, py: py)
        return image
    }

    private func drawLegend(on image: inout Image, area: (x: Int, y: Int, w: Int, h: Int),
                            px: (Double) -> Double, py: (Double) -> Double) {
        let named = series.filter { !$0.name.isEmpty }
        guard !named.isEmpty, legend != .hidden else { return }
        let ts = textScale
        let rowH = BitmapFont.lineHeight * ts + 4
        let swatch = 8 * ts
        let boxW = 8 + swatch + 8 + (named.map { BitmapFont.width(of: $0.name, scale: ts) }.max() ?? 0) + 8
        let boxH = 8 + named.count * rowH - 4 + 4
        let inset = 8
        func origin(_ p: LegendPosition) -> (Int, Int) {
            switch p {
            case .topLeft: return (area.x + inset, area.y + inset)
            case .bottomRight: return (area.x + area.w - inset - boxW, area.y + area.h - inset - boxH)
            case .bottomLeft: return (area.x + inset, area.y + area.h - inset - boxH)
            default: return (area.x + area.w - inset - boxW, area.y + inset)
            }
        }
        var position = legend
        if legend == .automatic {
            // Count the points each candidate box would hide; ties go in this order.
            let candidates: [LegendPosition] = [.topRight, .topLeft, .bottomRight, .bottomLeft]
            var best = (LegendPosition.topRight, Int.max)
            for c in candidates {
                let (bx, by) = origin(c)
                var hidden = 0
                for s in series {
                    for (x, y) in zip(s.x, s.y) where x.isFinite && y.isFinite && (!logY || y > 0) {
                        let X = px(x), Y = py(y)
                        if X >= Double(bx) && X < Double(bx + boxW) && Y >= Double(by) && Y < Double(by + boxH) {
                            hidden += 1
                        }
                    }
                }
                if hidden < best.1 { best = (c, hidden) }
            }
            position = best.0
        }
        let (bx, by) = origin(position)
        image.fillRect(x: bx, y: by, width: boxW, height: boxH, background)
        image.strokeRect(x: bx, y: by, width: boxW, height: boxH, Color(160, 160, 160))
        for (i, s) in named.enumerated() {
            let y = by + 6 + i * rowH
            let cy = y + BitmapFont.height(scale: ts) / 2
            switch s.style {
            case .points(let radius):
                image.fillCircle(cx: bx + 8 + swatch / 2, cy: cy, radius: max(radius, 2) + 1, s.color)
            case .line(let thickness):
                image.fillRect(x: bx + 8, y: cy - thickness / 2, width: swatch, height: max(thickness, 2), s.color)
            }
            image.drawText(s.name, x: bx + 8 + swatch + 8, y: y, scale: ts, color: foreground)
        }
    }
}

/// Clips the segment p–q to the box [-2, width+2] × [-2, height+2]
/// (Liang–Barsky), so a point far outside the axes cannot make the line
/// rasteriser walk millions of pixels. nil when the segment misses the box.
func clipSegment(_ p: (Double, Double), _ q: (Double, Double), width: Double, height: Double)
    -> ((Double, Double), (Double, Double))? {
    let (x0, y0) = p, (x1, y1) = q
    let dx = x1 - x0, dy = y1 - y0
    var t0 = 0.0, t1 = 1.0
    let edges: [(Double, Double)] = [(-dx, x0 + 2), (dx, width + 2 - x0), (-dy, y0 + 2), (dy, height + 2 - y0)]
    for (pe, qe) in edges {
        if pe == 0 {
            if qe < 0 { return nil }
        } else {
            let r = qe / pe
            if pe < 0 { t0 = max(t0, r) } else { t1 = min(t1, r) }
            if t0 > t1 { return nil }
        }
    }
    return ((x0 + t0 * dx, y0 + t0 * dy), (x0 + t1 * dx, y0 + t1 * dy))
}

extension Image {
    /// The rectangle with top-left corner (x, y), clipped to the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        let cw = max(0, x1 - x0), ch = max(0, y1 - y0)
        var out = [UInt8](repeating: 0, count: cw * ch * channels)
        for yy in 0..<ch {
            let s = ((y0 + yy) * width + x0) * channels
            let d = yy * cw * channels
            for k in 0..<(cw * channels) { out[d + k] = pixels[s + k] }
        }
        return Image(width: cw, height: ch, channels: channels, pixels: out)
    }
}
